/**
 * The sandbox's trust: a development trust domain made for the domain, and an SVID per role
 * (`spiffe://sandbox.local/<role>/<name>`), so that a test domain runs with mTLS, signed tokens and the
 * default policies, as a deployed one does. `insecure` runs it plaintext with unsigned tokens and no
 * policies, for tests that are about insecure mode.
 * @module
 */
import { createDevTrustDomain, type DevTrustDomain } from '../spiffe/devca.js';
import { roleSpiffeId } from '../spiffe/id.js';
import { DevTrustDomainSource } from '../spiffe/source.js';
import { insecureSecurity, mtlsSecurity, type Security } from '../security/index.js';

/** The trust domain of sandbox identities. */
export const SANDBOX_TRUST_DOMAIN = 'sandbox.local';

/** Options of {@link SandboxTrust.create}. */
export interface SandboxTrustOptions {
  /** `mtls` (default) or `insecure`. */
  readonly mode?: 'mtls' | 'insecure';
  /** `NSM_MAX_TOKEN_LIFETIME` of every role (ms); default 10 minutes (one hour insecure). */
  readonly tokenLifetimeMs?: number;
  /** Each SVID's lifetime (ms); default one hour, rotated at half of it. */
  readonly svidLifetimeMs?: number;
}

/** Hands out each sandbox role's {@link Security}. */
export class SandboxTrust {
  private readonly sources: DevTrustDomainSource[] = [];

  private constructor(
    private readonly options: SandboxTrustOptions,
    /** The domain's CA (undefined when insecure). */
    readonly ca: DevTrustDomain | undefined,
  ) {}

  /** Makes the trust domain (a fresh CA) unless insecure. */
  static async create(options: SandboxTrustOptions = {}): Promise<SandboxTrust> {
    const ca = options.mode === 'insecure' ? undefined : await createDevTrustDomain(SANDBOX_TRUST_DOMAIN);
    return new SandboxTrust(options, ca);
  }

  /** True when the domain runs insecure. */
  get insecure(): boolean {
    return this.ca === undefined;
  }

  /**
   * The security of one role. Its SVID is minted in the background: the role's first handshake and
   * first token wait for it, so building a role stays synchronous.
   */
  security(role: string, name: string): Security {
    const lifetime = this.options.tokenLifetimeMs;
    if (this.ca === undefined) return insecureSecurity({ subjectPrefix: `spiffe://${SANDBOX_TRUST_DOMAIN}/`, ...(lifetime === undefined ? {} : { tokenLifetimeMs: lifetime }) });
    const source = new DevTrustDomainSource(this.ca, {
      spiffeId: roleSpiffeId(SANDBOX_TRUST_DOMAIN, role, name),
      ...(this.options.svidLifetimeMs === undefined ? {} : { lifetimeMs: this.options.svidLifetimeMs }),
    });
    this.sources.push(source);
    return mtlsSecurity(source, lifetime === undefined ? {} : { maxTokenLifetimeMs: lifetime });
  }

  /** Stops every role's rotation. */
  close(): void {
    for (const source of this.sources.splice(0)) source.close();
  }
}
