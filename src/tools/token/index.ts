/**
 * Tokens: every hop of an NSM path signs a token into its path segment, proving who took part, and
 * sends it to the next hop in gRPC metadata (`nsm-client-token`, `nsm-client-token-expires`), where
 * authorization policies check it. A {@link TokenGenerator} makes them; {@link createJwtTokenGenerator}
 * makes signed JWTs (HS256 or ES256) with nothing but `node:crypto`, and {@link verifyJwt} checks them.
 * @module
 */
export { type PeerAuthInfo, type GeneratedToken, type TokenGenerator, PEER_AUTH_INFO } from './types.js';
export {
  type JwtAlgorithm,
  type JwtKey,
  type JwtClaims,
  type JwtHeader,
  type JwtErrorReason,
  type VerifyJwtOptions,
  type JwtTokenGeneratorOptions,
  JwtError,
  decodeJwt,
  signJwt,
  verifyJwt,
  createJwtTokenGenerator,
  createTestTokenGenerator,
  TEST_TOKEN_KEY,
  TEST_TOKEN_SUBJECT,
} from './jwt.js';
export {
  TOKEN_METADATA_KEY,
  TOKEN_EXPIRES_METADATA_KEY,
  formatRfc3339,
  parseRfc3339,
  writeTokenMetadata,
  readTokenMetadata,
  tokenCallCredentials,
} from './metadata.js';
