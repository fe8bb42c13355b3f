/**
 * JSON Web Tokens (RFC 7519) in JWS compact form (RFC 7515), signed with HS256 or ES256, using only
 * `node:crypto`. Enough for NSM path tokens: `sub` is who signed, `aud` who it is for, `exp` when it ends.
 * @module
 */
import { createHmac, createSecretKey, KeyObject, sign, timingSafeEqual, verify } from 'node:crypto';
import { type Clock, systemClock } from '../clock/index.js';
import type { GeneratedToken, PeerAuthInfo, TokenGenerator } from './types.js';

/** The signature algorithms supported. */
export type JwtAlgorithm = 'HS256' | 'ES256';

/**
 * A key. Strings and byte arrays are always HMAC secrets (HS256); an EC key must be a `KeyObject`
 * (`createPrivateKey`/`createPublicKey`) on the P-256 curve (ES256). Keeping the two apart by type
 * means a public key can never be mistaken for an HMAC secret (the classic algorithm-confusion attack).
 */
export type JwtKey = KeyObject | string | Uint8Array;

/** The registered claims we use, plus whatever else a token carries. */
export interface JwtClaims {
  /** Subject: who signed the token (a SPIFFE ID in NSM). */
  readonly sub?: string;
  /** Audience: who the token is for, one or several. */
  readonly aud?: string | readonly string[];
  /** Issuer. */
  readonly iss?: string;
  /** Seconds since the epoch. */
  readonly iat?: number;
  /** Seconds since the epoch. */
  readonly exp?: number;
  /** Seconds since the epoch. */
  readonly nbf?: number;
  readonly [claim: string]: unknown;
}

/** The JOSE header of a token. */
export interface JwtHeader {
  /** The signature algorithm, e.g. `HS256`; checked against the key's, never trusted. */
  readonly alg: string;
  /** The token type, `JWT` in tokens we sign. */
  readonly typ?: string;
  readonly [param: string]: unknown;
}

/** Why a token was rejected. */
export type JwtErrorReason = 'malformed' | 'algorithm' | 'signature' | 'expired' | 'not-yet-valid' | 'claims';

/** A token that failed to decode or verify; `reason` says which check failed. */
export class JwtError extends Error {
  constructor(
    /** Which check failed. */
    readonly reason: JwtErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'JwtError';
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

interface Parts {
  readonly header: JwtHeader;
  readonly claims: JwtClaims;
  readonly signingInput: string;
  readonly signature: Buffer;
}

function decodeJsonPart(part: string, what: string): Record<string, unknown> {
  if (!BASE64URL.test(part)) throw new JwtError('malformed', `malformed JWT: ${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwtError('malformed', `malformed JWT: ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwtError('malformed', `malformed JWT: ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function split(token: string): Parts {
  const parts = token.split('.');
  if (parts.length !== 3) {
    throw new JwtError('malformed', `malformed JWT: expected 3 dot-separated parts, got ${parts.length}`);
  }
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJsonPart(h, 'header');
  if (typeof header['alg'] !== 'string') throw new JwtError('malformed', 'malformed JWT: header has no "alg"');
  const claims = decodeJsonPart(p, 'payload');
  for (const name of ['iat', 'exp', 'nbf'] as const) {
    if (claims[name] !== undefined && (typeof claims[name] !== 'number' || !Number.isFinite(claims[name]))) {
      throw new JwtError('malformed', `malformed JWT: claim "${name}" is not a number`);
    }
  }
  if (s !== '' && !BASE64URL.test(s)) throw new JwtError('malformed', 'malformed JWT: signature is not base64url');
  return {
    header: header as JwtHeader,
    claims,
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

/** Reads a token's header and claims without checking anything; never trust the result. */
export function decodeJwt(token: string): {
  /** The token's JOSE header. */
  header: JwtHeader;
  /** The token's claims, unverified. */
  claims: JwtClaims;
} {
  const { header, claims } = split(token);
  return { header, claims };
}

function hmacSecret(key: JwtKey): KeyObject {
  if (key instanceof KeyObject) {
    if (key.type !== 'secret') throw new TypeError('HS256 needs a secret key, got an asymmetric KeyObject');
    return key;
  }
  const secret = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
  if (secret.length === 0) throw new TypeError('HS256 secret is empty');
  return createSecretKey(secret);
}

function checkEcKey(key: KeyObject, usage: 'sign' | 'verify'): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TypeError('ES256 needs an EC key on the P-256 curve (prime256v1)');
  }
  if (usage === 'sign' && key.type !== 'private') throw new TypeError('ES256 signing needs a private key');
}

/** The algorithm a key is for: secrets sign HS256, EC keys ES256. */
function algorithmOf(key: JwtKey): JwtAlgorithm {
  return key instanceof KeyObject && key.type !== 'secret' ? 'ES256' : 'HS256';
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Signs `claims` into a compact JWT. */
export function signJwt(claims: JwtClaims, key: JwtKey, algorithm: JwtAlgorithm): string {
  const signingInput = `${b64({ alg: algorithm, typ: 'JWT' })}.${b64(claims)}`;
  let signature: Buffer;
  if (algorithm === 'HS256') {
    signature = createHmac('sha256', hmacSecret(key)).update(signingInput).digest();
  } else {
    if (!(key instanceof KeyObject)) throw new TypeError('ES256 needs a KeyObject (see createPrivateKey)');
    checkEcKey(key, 'sign');
    // JWS wants the raw r||s form, not DER.
    signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
  }
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Options of {@link verifyJwt}. */
export interface VerifyJwtOptions {
  /** The clock that decides expiry; the system clock by default. */
  readonly clock?: Clock;
  /** When set, the token's `aud` must be or contain it. */
  readonly audience?: string;
  /** Tolerated clock skew in ms for `exp` and `nbf`. Default 0. */
  readonly leewayMs?: number;
}

/**
 * Checks a token's signature with `key`, then its time claims, and returns its claims. The algorithm
 * comes from the key (see {@link JwtKey}) and must match the token's header, so `alg: none` and
 * algorithm swaps are refused. A token must carry `exp`. Throws a {@link JwtError} naming the problem.
 */
export function verifyJwt(token: string, key: JwtKey, options: VerifyJwtOptions = {}): JwtClaims {
  const { header, claims, signingInput, signature } = split(token);
  const algorithm = algorithmOf(key);
  if (header.alg !== algorithm) {
    throw new JwtError('algorithm', `JWT algorithm "${header.alg}" does not match the key (expected ${algorithm})`);
  }
  if (header['crit'] !== undefined) {
    throw new JwtError('malformed', 'JWT header has "crit" extensions, which are not supported');
  }
  let valid: boolean;
  if (algorithm === 'HS256') {
    const expected = createHmac('sha256', hmacSecret(key)).update(signingInput).digest();
    valid = expected.length === signature.length && timingSafeEqual(expected, signature);
  } else {
    const ecKey = key as KeyObject;
    checkEcKey(ecKey, 'verify');
    valid =
      signature.length === 64 &&
      verify('sha256', Buffer.from(signingInput), { key: ecKey, dsaEncoding: 'ieee-p1363' }, signature);
  }
  if (!valid) throw new JwtError('signature', 'JWT signature is invalid (wrong key or altered token)');

  const now = (options.clock ?? systemClock).now();
  const leeway = options.leewayMs ?? 0;
  if (claims.exp === undefined) throw new JwtError('claims', 'JWT has no "exp" claim');
  if (now >= claims.exp * 1000 + leeway) {
    throw new JwtError(
      'expired',
      `JWT expired at ${new Date(claims.exp * 1000).toISOString()} (now ${new Date(now).toISOString()})`,
    );
  }
  if (claims.nbf !== undefined && now + leeway < claims.nbf * 1000) {
    throw new JwtError('not-yet-valid', `JWT is not valid before ${new Date(claims.nbf * 1000).toISOString()}`);
  }
  if (options.audience !== undefined) {
    const aud = claims.aud;
    const matches = typeof aud === 'string' ? aud === options.audience : (aud ?? []).includes(options.audience);
    if (!matches) throw new JwtError('claims', `JWT audience does not include "${options.audience}"`);
  }
  return claims;
}

/** Options of {@link createJwtTokenGenerator}. */
export interface JwtTokenGeneratorOptions {
  /** Our identity, the `sub` claim (a SPIFFE ID in NSM). */
  readonly subject: string;
  /** The `aud` claim. Default: the peer's SPIFFE ID when known, else none. */
  readonly audience?: string;
  /** How long a token lives (ms). */
  readonly lifetimeMs: number;
  /** The signing key: a secret for HS256, a P-256 private `KeyObject` for ES256 (see {@link JwtKey}). */
  readonly key: JwtKey;
  /** The algorithm to sign with; it must fit `key`. */
  readonly algorithm: JwtAlgorithm;
  /** The clock for `iat` and `exp`; the system clock by default. */
  readonly clock?: Clock;
}

/**
 * A generator of signed JWTs with `sub`, `aud`, `iat` and `exp`. A token never outlives the peer's
 * certificate, as upstream's SPIFFE generator does. JWT times are whole seconds, so the returned expiry
 * is `exp` exactly (rounded down) and never later than what the token itself claims.
 * Throws a TypeError at once when the options cannot work (bad key, empty subject, bad lifetime).
 */
export function createJwtTokenGenerator(options: JwtTokenGeneratorOptions): TokenGenerator {
  const { subject, lifetimeMs, key, algorithm } = options;
  if (subject === '') throw new TypeError('token subject is empty');
  if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0) {
    throw new TypeError(`token lifetime must be a positive number of ms, got ${lifetimeMs}`);
  }
  if (algorithm !== 'HS256' && algorithm !== 'ES256') {
    throw new TypeError(`unsupported JWT algorithm "${String(algorithm)}"`);
  }
  // The secret's KeyObject is made once, not per token.
  const signingKey = algorithm === 'HS256' ? hmacSecret(key) : key;
  if (algorithm === 'ES256') {
    if (key instanceof KeyObject) checkEcKey(key, 'sign');
    else throw new TypeError('ES256 needs a KeyObject (see createPrivateKey)');
  }
  const clock = options.clock ?? systemClock;
  // JWT times are whole seconds, so every token asked for within one second to the same audience has
  // the same claims: it is signed once and handed out again (a busy hop signs a handful of tokens a
  // second, not one per request). Only the current second's tokens are kept.
  let cacheSecond = -1;
  const cache = new Map<string, string>();
  const signed = (claims: JwtClaims): string => {
    if (claims.iat !== cacheSecond) {
      cache.clear();
      cacheSecond = claims.iat ?? -1;
    }
    const aud = typeof claims.aud === 'string' ? claims.aud : (claims.aud ?? []).join('\u0001');
    const cacheKey = `${aud}\u0000${String(claims.exp)}`;
    let token = cache.get(cacheKey);
    if (token === undefined) {
      token = signJwt(claims, signingKey, algorithm);
      cache.set(cacheKey, token);
    }
    return token;
  };

  const issue = (peer: PeerAuthInfo | undefined): GeneratedToken => {
    const now = clock.now();
    let expiresMs = now + lifetimeMs;
    const peerNotAfter = peer?.notAfter?.getTime();
    if (peerNotAfter !== undefined && !Number.isNaN(peerNotAfter) && peerNotAfter < expiresMs) {
      expiresMs = peerNotAfter;
    }
    const exp = Math.floor(expiresMs / 1000);
    if (exp * 1000 <= now) {
      throw new Error(
        `a token would be expired when issued (expiry ${new Date(expiresMs).toISOString()}): ` +
          "the peer's certificate has expired, or the lifetime is under a second",
      );
    }
    const audience = options.audience ?? peer?.spiffeId;
    const claims: JwtClaims = {
      sub: subject,
      ...(audience !== undefined && audience !== '' ? { aud: audience } : {}),
      iat: Math.floor(now / 1000),
      exp,
    };
    return { token: signed(claims), expires: new Date(exp * 1000) };
  };
  // The executor turns a throw from issue() into a rejection, as callers of a generator expect.
  return (peer) => new Promise<GeneratedToken>((resolve) => resolve(issue(peer)));
}

/** The HS256 secret of {@link createTestTokenGenerator}; for tests only, it is public. */
export const TEST_TOKEN_KEY = 'nsm-sdk test token key: not a secret';

/** The subject of {@link createTestTokenGenerator}'s tokens. */
export const TEST_TOKEN_SUBJECT = 'spiffe://test.local/test';

/**
 * A real JWT generator for tests and sandboxes: HS256 with {@link TEST_TOKEN_KEY}, subject
 * {@link TEST_TOKEN_SUBJECT}, one hour by default.
 */
export function createTestTokenGenerator(lifetimeMs = 60 * 60 * 1000, clock?: Clock): TokenGenerator {
  return createJwtTokenGenerator({
    subject: TEST_TOKEN_SUBJECT,
    lifetimeMs,
    key: TEST_TOKEN_KEY,
    algorithm: 'HS256',
    ...(clock !== undefined ? { clock } : {}),
  });
}
