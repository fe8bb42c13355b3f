/**
 * Path tokens as JSON Web Tokens, through the `jose` library:
 * - {@link createSvidTokenGenerator}: ES256 tokens signed with the role's X.509-SVID key, carrying the
 *   SVID's chain in the `x5c` header, so any later hop can check a segment against the trust bundle and
 *   not only the hop that handed it over;
 * - {@link createUnsignedTokenGenerator}: unsigned tokens (`alg: none`) for insecure mode, where no
 *   policy reads them (upstream's insecure tests run the same way);
 * - {@link decodeJwt} to read a token, and {@link TokenVerifier} to check signatures, with a cache:
 *   a hop reuses its token for a while (see the generator), so the same token arrives again and again
 *   and is verified once.
 * @module
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { compactVerify, decodeJwt as joseDecodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT } from 'jose';
import { type Clock, systemClock } from '../clock/index.js';
import type { X509Source, X509Svid } from '../spiffe/source.js';
import type { GeneratedToken, PeerAuthInfo, TokenGenerator } from './types.js';

/** The registered claims we use, plus whatever else a token carries. */
export interface JwtClaims {
  /** Subject: who signed the token (a SPIFFE ID in NSM). */
  readonly sub?: string;
  /** Audience: who the token is for, one or several. */
  readonly aud?: string | readonly string[];
  /** Seconds since the epoch. */
  readonly iat?: number;
  /** Seconds since the epoch. */
  readonly exp?: number;
  readonly [claim: string]: unknown;
}

/** The JOSE header of a token. */
export interface JwtHeader {
  /** The signature algorithm: `ES256`, or `none` for an unsigned token. */
  readonly alg: string;
  /** The signer's certificate chain, leaf first, base64 DER (RFC 7515 §4.1.6). */
  readonly x5c?: readonly string[];
  readonly [param: string]: unknown;
}

/** Why a token was rejected. */
export type JwtErrorReason = 'malformed' | 'algorithm' | 'signature' | 'signer';

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

/** Reads a token's header and claims without checking anything; never trust the result. Throws a {@link JwtError}. */
export function decodeJwt(token: string): {
  /** The token's JOSE header. */
  header: JwtHeader;
  /** The token's claims, unverified. */
  claims: JwtClaims;
} {
  try {
    const header = decodeProtectedHeader(token);
    const claims = joseDecodeJwt(token);
    if (typeof header.alg !== 'string') throw new Error('the header has no "alg"');
    return { header: header as JwtHeader, claims };
  } catch (error) {
    throw new JwtError('malformed', `malformed JWT: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * A token's claims only, unverified: its header (with the signer's certificate chain, most of the token)
 * is not parsed. For policies and monitors that read `sub`, `aud` or `exp` of tokens already verified, or
 * that only need to know who claims to have signed. Throws a {@link JwtError}.
 */
export function decodeClaims(token: string): JwtClaims {
  try {
    return joseDecodeJwt(token);
  } catch (error) {
    throw new JwtError('malformed', `malformed JWT: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The SPIFFE ID in a token's `sub`, or '' when the token has none or is not a JWT. */
export function tokenSubject(token: string): string {
  if (token === '') return '';
  try {
    const sub = decodeClaims(token).sub;
    return typeof sub === 'string' ? sub : '';
  } catch {
    return '';
  }
}

/** The audience claim as a list. */
export function audiences(claims: JwtClaims): readonly string[] {
  const aud = claims.aud;
  return aud === undefined ? [] : typeof aud === 'string' ? [aud] : aud;
}

/** Options of {@link createSvidTokenGenerator}. */
export interface SvidTokenGeneratorOptions {
  /** Where the signing key and the `sub` come from; a rotation takes effect with the next token. */
  readonly source: X509Source;
  /** The longest a token may live (ms): upstream's `NSM_MAX_TOKEN_LIFETIME`, 10 minutes there. */
  readonly maxLifetimeMs: number;
  /**
   * How long a token is handed out again to the same audience (ms); default a tenth of the lifetime,
   * at most a minute. Its `exp` is kept, so a reused token expires no later than a new one would.
   */
  readonly reuseMs?: number;
  /** The clock for `iat` and `exp`. */
  readonly clock?: Clock;
}

interface Reusable {
  readonly generated: GeneratedToken;
  readonly until: number;
  readonly svid: X509Svid;
}

/**
 * ES256 tokens from the role's SVID: `sub` its SPIFFE ID, `aud` the peer's, `exp` the earliest of now
 * plus the lifetime, our certificate's end and the peer's. Signing costs a fraction of a millisecond,
 * and a busy hop would sign one token per request: a token is reused for the same audience for
 * {@link SvidTokenGeneratorOptions.reuseMs}, and never once the SVID has rotated.
 */
export function createSvidTokenGenerator(options: SvidTokenGeneratorOptions): TokenGenerator {
  const { source, maxLifetimeMs } = options;
  if (!Number.isFinite(maxLifetimeMs) || maxLifetimeMs < 1000) {
    throw new TypeError(`token lifetime must be at least 1000 ms, got ${maxLifetimeMs}`);
  }
  const clock = options.clock ?? systemClock;
  const reuseMs = options.reuseMs ?? Math.min(maxLifetimeMs / 10, 60_000);
  const cache = new Map<string, Reusable>();
  const x5cOf = new WeakMap<X509Svid, string[]>();

  let started = false;
  return async (peer: PeerAuthInfo | undefined): Promise<GeneratedToken> => {
    // A role may build its chains before its first SVID arrives (a Workload API still answering).
    if (!started) {
      await source.ready();
      started = true;
    }
    const svid = source.current();
    const now = clock.now();
    const audience = peer?.spiffeId ?? '';
    const reused = cache.get(audience);
    if (reused !== undefined && reused.svid === svid && now < reused.until && reused.generated.expires.getTime() > now) {
      return reused.generated;
    }
    let expiresMs = Math.min(now + maxLifetimeMs, Date.parse(svid.leaf.validTo));
    const peerNotAfter = peer?.notAfter?.getTime();
    // The peer's certificate is the one of the TLS handshake, and sessions outlive rotations: one about to
    // end (or ended) means the peer renewed it since (SVIDs are renewed at half their life), so it bounds
    // nothing any more.
    if (peerNotAfter !== undefined && !Number.isNaN(peerNotAfter) && peerNotAfter - now >= 1000) expiresMs = Math.min(expiresMs, peerNotAfter);
    const exp = Math.floor(expiresMs / 1000);
    if (exp * 1000 <= now) {
      throw new Error(`a token would be expired when issued (${new Date(expiresMs).toISOString()}): a certificate has expired`);
    }
    let x5c = x5cOf.get(svid);
    if (x5c === undefined) {
      x5c = certificateChain(svid.certPem).map((cert) => cert.raw.toString('base64'));
      x5cOf.set(svid, x5c);
    }
    const jwt = new SignJWT({ sub: svid.spiffeId, ...(audience === '' ? {} : { aud: [audience] }) })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c })
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(exp);
    const generated: GeneratedToken = { token: await jwt.sign(svid.key), expires: new Date(exp * 1000) };
    if (cache.size > 1000) cache.clear();
    cache.set(audience, { generated, until: now + reuseMs, svid });
    return generated;
  };
}

/** Options of {@link createUnsignedTokenGenerator}. */
export interface UnsignedTokenGeneratorOptions {
  /** The `sub` claim. */
  readonly subject: string;
  /** How long a token lives (ms). */
  readonly lifetimeMs: number;
  /** The clock for `iat` and `exp`. */
  readonly clock?: Clock;
}

/**
 * Unsigned tokens (`alg: none`) with `sub`, `aud` (the peer's SPIFFE ID when known) and `exp`, for
 * insecure mode and tests: the path still carries expiries, which refresh and timeout run on, but no
 * signature, since there is no key to prove anything with.
 */
export function createUnsignedTokenGenerator(options: UnsignedTokenGeneratorOptions): TokenGenerator {
  const { subject, lifetimeMs } = options;
  if (subject === '') throw new TypeError('token subject is empty');
  if (!Number.isFinite(lifetimeMs) || lifetimeMs < 1000) throw new TypeError(`token lifetime must be at least 1000 ms, got ${lifetimeMs}`);
  const clock = options.clock ?? systemClock;
  // JWT times are whole seconds: within one second, one audience gets the same token.
  let second = -1;
  const cache = new Map<string, GeneratedToken>();
  return (peer) => {
    const now = clock.now();
    const iat = Math.floor(now / 1000);
    if (iat !== second) {
      cache.clear();
      second = iat;
    }
    const audience = peer?.spiffeId ?? '';
    let generated = cache.get(audience);
    if (generated === undefined) {
      const exp = Math.floor((now + lifetimeMs) / 1000);
      const jwt = new UnsecuredJWT({ sub: subject, ...(audience === '' ? {} : { aud: [audience] }) }).setIssuedAt(iat).setExpirationTime(exp);
      generated = { token: jwt.encode(), expires: new Date(exp * 1000) };
      cache.set(audience, generated);
    }
    return Promise.resolve(generated);
  };
}

/** The subject of {@link createTestTokenGenerator}'s tokens. */
export const TEST_TOKEN_SUBJECT = 'spiffe://test.local/test';

/** Unsigned tokens for tests: subject {@link TEST_TOKEN_SUBJECT}, one hour by default. */
export function createTestTokenGenerator(lifetimeMs = 60 * 60 * 1000, clock?: Clock): TokenGenerator {
  return createUnsignedTokenGenerator({ subject: TEST_TOKEN_SUBJECT, lifetimeMs, ...(clock !== undefined ? { clock } : {}) });
}

/** The certificates of a PEM chain, in order. */
export function certificateChain(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

/** A token whose signature checked out, with its claims and the certificate that signed it. */
export interface VerifiedToken {
  /** The token's claims (not checked for time: that is the `tokens-expired` policy's job, with the chain's clock). */
  readonly claims: JwtClaims;
  /** The certificate whose key signed the token. */
  readonly signer: X509Certificate;
}

/** Options of {@link TokenVerifier}. */
export interface TokenVerifierOptions {
  /** How many verified tokens are remembered; default 4096. */
  readonly maxEntries?: number;
}

/**
 * Checks token signatures, remembering the ones that passed (a signature that was valid stays valid:
 * only time claims change their verdict, and those are not cached). Refusals are not remembered, so a
 * flood of forged tokens costs the forger as much as us and never evicts good entries wholesale.
 */
export class TokenVerifier {
  private readonly verified = new Map<string, VerifiedToken>();
  private readonly keys = new Map<string, KeyObject>();
  private readonly signers = new Map<string, { readonly leaf: X509Certificate; readonly validFrom: number; readonly validTo: number }>();
  private readonly maxEntries: number;

  constructor(options: TokenVerifierOptions = {}) {
    this.maxEntries = options.maxEntries ?? 4096;
  }

  /**
   * Verifies that `certificate`'s key signed `token` (upstream's check of the previous and next
   * segments against the TLS peer's certificate). Throws a {@link JwtError}.
   */
  async verifyWithCertificate(token: string, certificate: X509Certificate): Promise<VerifiedToken> {
    const key = `${certificate.fingerprint256}\u0000${token}`;
    const known = this.verified.get(key);
    if (known !== undefined) return known;
    const result = { claims: await this.checkSignature(token, certificate), signer: certificate };
    this.remember(key, result);
    return result;
  }

  /**
   * Verifies a token against a trust bundle: its `x5c` chain leads to a CA of the bundle, valid at
   * `now`; the leaf's SPIFFE ID is the token's `sub`; and the leaf's key signed it. Throws a {@link JwtError}.
   */
  async verifyWithBundle(token: string, bundle: readonly X509Certificate[], now: number): Promise<VerifiedToken> {
    const bundleKey = bundle.map((ca) => ca.fingerprint256).join(',');
    const key = `${bundleKey}\u0000${token}`;
    const known = this.verified.get(key);
    if (known !== undefined && Date.parse(known.signer.validTo) > now) return known;
    const { header, claims } = decodeJwt(token);
    const leaf = this.signerOf(header.x5c ?? [], bundle, bundleKey, now);
    const uri = (leaf.subjectAltName ?? '').split(', ').find((entry) => entry.startsWith('URI:spiffe://'));
    if (uri === undefined || uri.slice(4) !== claims.sub) {
      throw new JwtError('signer', `the token's "sub" (${String(claims.sub)}) is not its signer certificate's SPIFFE ID (${uri?.slice(4) ?? 'none'})`);
    }
    const result = { claims: await this.checkSignature(token, leaf), signer: leaf };
    this.remember(key, result);
    return result;
  }

  /**
   * The leaf of an `x5c` chain that leads to the bundle at `now`. A hop signs a new token every refresh
   * with the same certificate: parsing and checking its chain once per certificate, not once per token,
   * leaves only the signature to check for a new token.
   */
  private signerOf(x5c: readonly string[], bundle: readonly X509Certificate[], bundleKey: string, now: number): X509Certificate {
    const key = `${bundleKey}\u0000${x5c.join('.')}`;
    const known = this.signers.get(key);
    if (known !== undefined && now >= known.validFrom && now < known.validTo) return known.leaf;
    const chain = x5c.map((der) => {
      try {
        return new X509Certificate(Buffer.from(der, 'base64'));
      } catch {
        throw new JwtError('signer', 'the token\'s "x5c" header holds something that is not a certificate');
      }
    });
    const leaf = chain[0];
    if (leaf === undefined) throw new JwtError('signer', 'the token names no signer certificate ("x5c" header)');
    const problem = chainProblem(chain, bundle, now);
    if (problem !== undefined) throw new JwtError('signer', `the token's signer certificate ${problem}`);
    // Valid while every certificate of the chain is.
    const validFrom = Math.max(...chain.map((c) => Date.parse(c.validFrom)));
    const validTo = Math.min(...[...chain, ...bundle].map((c) => Date.parse(c.validTo)));
    if (this.signers.size >= this.maxEntries) this.signers.clear();
    this.signers.set(key, { leaf, validFrom, validTo });
    return leaf;
  }

  private async checkSignature(token: string, certificate: X509Certificate): Promise<JwtClaims> {
    const { header } = decodeJwt(token);
    if (header.alg !== 'ES256') throw new JwtError('algorithm', `the token is signed with "${header.alg}", not ES256`);
    let publicKey = this.keys.get(certificate.fingerprint256);
    if (publicKey === undefined) {
      publicKey = certificate.publicKey;
      if (this.keys.size >= this.maxEntries) this.keys.clear();
      this.keys.set(certificate.fingerprint256, publicKey);
    }
    try {
      await compactVerify(token, publicKey, { algorithms: ['ES256'] });
    } catch {
      throw new JwtError('signature', 'the token\'s signature does not check out with its signer\'s key (another key signed it, or it was altered)');
    }
    return decodeJwt(token).claims;
  }

  private remember(key: string, result: VerifiedToken): void {
    if (this.verified.size >= this.maxEntries) {
      // Oldest first: Map keeps insertion order.
      const oldest = this.verified.keys().next();
      if (oldest.done !== true) this.verified.delete(oldest.value);
    }
    this.verified.set(key, result);
  }
}

/** What is wrong with a chain (leaf first) against a bundle at `now`, or undefined when it holds. */
export function chainProblem(chain: readonly X509Certificate[], bundle: readonly X509Certificate[], now: number): string | undefined {
  const leaf = chain[0];
  if (leaf === undefined) return 'is missing';
  if (leaf.ca) return 'is a CA certificate, not a leaf';
  for (const cert of chain) {
    if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) <= now) return `is not valid now (${cert.validFrom} to ${cert.validTo})`;
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i] as X509Certificate;
    const parent = chain[i + 1] as X509Certificate;
    if (!parent.ca || !child.checkIssued(parent) || !child.verify(parent.publicKey)) return 'chain is broken';
  }
  const top = chain[chain.length - 1] as X509Certificate;
  const anchored = bundle.some((ca) => top.fingerprint256 === ca.fingerprint256 || (top.checkIssued(ca) && top.verify(ca.publicKey)));
  return anchored ? undefined : 'does not chain to the trust bundle (a foreign trust domain?)';
}
