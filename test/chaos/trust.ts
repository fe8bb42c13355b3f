/**
 * The chaos run's trust domain: a development CA in the run's directory, given to every role process
 * (`NSM_TRUST_DOMAIN_DIR`), and identities from it for the driver's own clients and checks, so the run
 * goes through mTLS, signed tokens and `authorize` as a deployed domain does. A check that reads a role's
 * monitor does so as that role (its SPIFFE ID is on every path it holds), since a caller sees only its own
 * connections.
 */
import { join } from 'node:path';
import { createDevTrustDomain, writeDevTrustDomain } from '../../src/tools/spiffe/devca.js';
import { securityFromEnv, type EnvSecurity } from '../../src/tools/security/env.js';
import type { Security } from '../../src/tools/security/index.js';

/** The chaos run's trust domain. */
export const CHAOS_TRUST_DOMAIN = 'chaos.nsm';

/** Identities of one chaos run. */
export class ChaosTrust {
  private readonly identities = new Map<string, Promise<EnvSecurity>>();

  private constructor(
    /** The CA directory, for the roles' `NSM_TRUST_DOMAIN_DIR`. */
    readonly dir: string,
  ) {}

  /** Makes the CA in `runDir/ca`. */
  static async create(runDir: string): Promise<ChaosTrust> {
    const dir = join(runDir, 'ca');
    await writeDevTrustDomain(dir, await createDevTrustDomain(CHAOS_TRUST_DOMAIN));
    return new ChaosTrust(dir);
  }

  /** The security of `spiffe://chaos.nsm/<role>/<name>`, minted once. */
  async security(role: string, name: string, maxTokenLifetimeMs?: number): Promise<Security> {
    const key = `${role}/${name}/${maxTokenLifetimeMs ?? ''}`;
    let identity = this.identities.get(key);
    if (identity === undefined) {
      identity = securityFromEnv({ NSM_TRUST_DOMAIN_DIR: this.dir }, { role, name, ...(maxTokenLifetimeMs === undefined ? {} : { maxTokenLifetimeMs }) });
      this.identities.set(key, identity);
    }
    return (await identity).security;
  }

  /** Stops every identity's rotation. */
  async close(): Promise<void> {
    for (const identity of this.identities.values()) (await identity.catch(() => undefined))?.close();
    this.identities.clear();
  }
}
