/**
 * The token-path policies, upstream's default set (its `tokens_valid`, `tokens_expired`,
 * `tokens_chained`, `prev_token_signed`, `next_token_signed`), over the segments of a connection's or
 * a registration's path.
 *
 * A server judges the caller's side of the path: from the first segment up to and including its own
 * (upstream's "left side"); later segments left from an earlier answer belong to hops it has not
 * reached yet, and the next hops judge them. A client judges its own segment and everything after it,
 * as returned (the "right side"). The two meet: every pair of neighbours is checked by someone who
 * holds the TLS connection between them.
 *
 * Unlike upstream's `tokens_valid`, which only decodes, ours checks each segment's signature against
 * the trust bundle (the `x5c` chain of the token), so a hop cannot forge a segment it did not sign even
 * where no TLS peer sees it.
 * @module
 */
import type { X509Certificate } from 'node:crypto';
import { audiences, decodeClaims, JwtError, type JwtClaims, type TokenVerifier } from '../token/jwt.js';
import type { Clock } from '../clock/index.js';
import type { PeerAuthInfo } from '../token/types.js';
import { policy, type Policy, type PolicyViolation } from './types.js';

/** One segment as the policies see it. */
export interface TokenPathSegment {
  /** The segment's name (empty for registry paths, which carry none). */
  readonly name: string;
  /** The segment's token. */
  readonly token: string;
}

/** What the token-path policies judge. */
export interface PathPolicyInput {
  /** The judged side of the path, in path order (see the module documentation). */
  readonly segments: readonly TokenPathSegment[];
  /** The index in the whole path of `segments[0]`, for messages. */
  readonly offset: number;
  /** `server`: the caller's side, the caller is the segment before the last; `client`: the next hop is `segments[1]`. */
  readonly side: 'server' | 'client';
  /** The other end of the TLS connection: the caller on a server, the next hop on a client. */
  readonly peer: PeerAuthInfo | undefined;
  /** The trust bundle's CA certificates. */
  readonly bundle: readonly X509Certificate[];
  /** Checks signatures (with the role's cache). */
  readonly verifier: TokenVerifier;
  /** Now, epoch ms. */
  readonly now: number;
}

/** A policy over a token path. */
export type PathPolicy = Policy<PathPolicyInput>;

/** What checking a path needs from the role (a `Security` is one). */
export interface PathChecker {
  /** The trust bundle's CA certificates now. */
  bundle(): readonly X509Certificate[];
  /** The role's verifier, with its cache. */
  readonly verifier: TokenVerifier;
  /** Where now comes from. */
  readonly clock: Clock;
}

/**
 * The input for one side of a path whose hop is at `index`: a server judges the segments up to and
 * including its own, a client its own and those after it (see the module documentation).
 */
export function pathSideInput(
  segments: readonly TokenPathSegment[],
  index: number,
  side: 'server' | 'client',
  peer: PeerAuthInfo | undefined,
  checker: PathChecker,
): PathPolicyInput {
  return {
    segments: side === 'server' ? segments.slice(0, index + 1) : segments.slice(index),
    offset: side === 'server' ? 0 : index,
    side,
    peer,
    bundle: checker.bundle(),
    verifier: checker.verifier,
    now: checker.clock.now(),
  };
}

function at(input: PathPolicyInput, i: number, reason: string): PolicyViolation {
  return { reason, segment: input.offset + i, segmentName: input.segments[i]?.name ?? '' };
}

type Decoded = { readonly claims: JwtClaims } | { readonly violation: PolicyViolation };

/** Each input's tokens, decoded once for all the policies that read them (a header carries a certificate chain). */
const decodedTokens = new WeakMap<PathPolicyInput, Decoded[]>();

/** The claims of segment `i`, or the violation of a token that does not decode. */
function claimsAt(input: PathPolicyInput, i: number): Decoded {
  let decoded = decodedTokens.get(input);
  if (decoded === undefined) {
    decoded = [];
    decodedTokens.set(input, decoded);
  }
  const known = decoded[i];
  if (known !== undefined) return known;
  const token = input.segments[i]?.token ?? '';
  let result: Decoded;
  if (token === '') {
    result = { violation: at(input, i, 'the segment has no token') };
  } else {
    try {
      result = { claims: decodeClaims(token) };
    } catch (error) {
      result = { violation: at(input, i, error instanceof Error ? error.message : String(error)) };
    }
  }
  decoded[i] = result;
  return result;
}

function jwtReason(error: unknown): string {
  return error instanceof JwtError ? error.message : `the token could not be checked: ${error instanceof Error ? error.message : String(error)}`;
}

/** Every segment carries a token signed by the SPIFFE ID it names, chained to the trust bundle. */
export const tokensValid: PathPolicy = policy('tokens_valid', async (input) => {
  for (let i = 0; i < input.segments.length; i++) {
    const token = input.segments[i]?.token ?? '';
    if (token === '') return at(input, i, 'the segment has no token');
    try {
      await input.verifier.verifyWithBundle(token, input.bundle, input.now);
    } catch (error) {
      return at(input, i, jwtReason(error));
    }
  }
  return undefined;
});

/** No segment's token has expired. */
export const tokensNotExpired: PathPolicy = policy('tokens_expired', (input) => {
  for (let i = 0; i < input.segments.length; i++) {
    const decoded = claimsAt(input, i);
    if ('violation' in decoded) return decoded.violation;
    const claims = decoded.claims;
    if (typeof claims.exp !== 'number') return at(input, i, 'the token has no "exp"');
    if (claims.exp * 1000 <= input.now) return at(input, i, `the token expired at ${new Date(claims.exp * 1000).toISOString()}`);
  }
  return undefined;
});

/** Each segment's token is for the next segment: its `aud` holds the next token's `sub`. */
export const tokensChained: PathPolicy = policy('tokens_chained', (input) => {
  for (let i = 0; i + 1 < input.segments.length; i++) {
    const decoded = claimsAt(input, i);
    if ('violation' in decoded) return decoded.violation;
    const following = claimsAt(input, i + 1);
    if ('violation' in following) return following.violation;
    const claims = decoded.claims;
    const next = following.claims;
    const aud = audiences(claims);
    if (typeof next.sub !== 'string' || !aud.includes(next.sub)) {
      return at(input, i, `the token's audience [${aud.join(', ')}] does not name the next segment's signer ${String(next.sub)}`);
    }
  }
  return undefined;
});

/**
 * The segment is signed by the TLS peer: by the certificate of the handshake, or, since TLS sessions
 * outlive SVID rotations, by a certificate of the trust bundle with the same SPIFFE ID (the peer's newer
 * SVID). Either way the one at the other end of the connection made the token.
 */
async function signedByPeer(input: PathPolicyInput, i: number, who: string): Promise<PolicyViolation | undefined> {
  const token = input.segments[i]?.token;
  if (token === undefined) return { reason: `the path has no ${who} segment` };
  const peer = input.peer;
  if (peer?.certificate === undefined || peer.spiffeId === undefined) return at(input, i, `the ${who} is not a TLS peer with a certificate`);
  let reason: string;
  try {
    // Usually a cache hit: `tokens_valid` has just checked this token against the bundle.
    const verified = await input.verifier.verifyWithBundle(token, input.bundle, input.now);
    if (verified.signer.fingerprint256 === peer.certificate.fingerprint256 || verified.claims.sub === peer.spiffeId) return undefined;
    reason = `it is signed by ${String(verified.claims.sub)}`;
  } catch (error) {
    reason = jwtReason(error);
  }
  return at(input, i, `the ${who}'s token is not signed by the TLS peer ${peer.spiffeId}: ${reason}`);
}

/** Server: the caller's segment (the one before ours) is signed by the caller's TLS certificate. */
export const prevTokenSigned: PathPolicy = policy('prev_token_signed', (input) =>
  signedByPeer(input, input.segments.length - 2, 'caller'),
);

/** Client: the next hop's segment (the one after ours) is signed by its TLS certificate. */
export const nextTokenSigned: PathPolicy = policy('next_token_signed', (input) => signedByPeer(input, 1, 'next hop'));

/** Upstream's default server policies: tokens valid, not expired, chained; previous token signed. */
export function defaultServerPathPolicies(): PathPolicy[] {
  return [tokensValid, tokensNotExpired, tokensChained, prevTokenSigned];
}

/** Upstream's default client policies: tokens valid, not expired, chained; next token signed. */
export function defaultClientPathPolicies(): PathPolicy[] {
  return [tokensValid, tokensNotExpired, tokensChained, nextTokenSigned];
}
