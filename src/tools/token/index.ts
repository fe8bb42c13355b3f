/**
 * Tokens: every hop of an NSM path signs a token into its path segment, proving who took part, and
 * sends it to the next hop in gRPC metadata (`nsm-client-token`, `nsm-client-token-expires`), where
 * authorization policies check it. A {@link TokenGenerator} makes them; {@link createSvidTokenGenerator}
 * makes ES256 JWTs from the role's X.509-SVID, and {@link TokenVerifier} checks them.
 * @module
 */
export { type PeerAuthInfo, type GeneratedToken, type TokenGenerator, PEER_AUTH_INFO } from './types.js';
export {
  type JwtClaims,
  type JwtHeader,
  type JwtErrorReason,
  type SvidTokenGeneratorOptions,
  type UnsignedTokenGeneratorOptions,
  type VerifiedToken,
  type TokenVerifierOptions,
  JwtError,
  audiences,
  certificateChain,
  chainProblem,
  createSvidTokenGenerator,
  createTestTokenGenerator,
  createUnsignedTokenGenerator,
  decodeClaims,
  decodeJwt,
  TEST_TOKEN_SUBJECT,
  tokenSubject,
  TokenVerifier,
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
