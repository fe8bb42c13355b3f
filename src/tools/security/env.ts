/**
 * A role's security from its environment, as `nsm` roles and the examples take it, in this order:
 * - `NSM_INSECURE=true`: plaintext, unsigned tokens, no policies (upstream peers run insecure this way);
 * - `SPIFFE_ENDPOINT_SOCKET`: the SPIFFE Workload API (a SPIRE agent), following rotations;
 * - `NSM_SVID_DIR`: `svid.pem`, `svid_key.pem` and `svid_bundle.pem` as spiffe-helper writes them,
 *   read again when they change;
 * - `NSM_TRUST_DOMAIN_DIR`: a development CA (`nsm trust-domain init`); the role mints and rotates its
 *   own SVID `spiffe://<trust domain>/<role>/<name>`.
 * With none of them a role has no identity, and refuses to start rather than run insecure unasked.
 * @module
 */
import { readDevTrustDomain } from '../spiffe/devca.js';
import { roleSpiffeId } from '../spiffe/id.js';
import { DevTrustDomainSource, FileSource, type X509Source } from '../spiffe/source.js';
import { WorkloadApiSource } from '../spiffe/workloadapi.js';
import { insecureSecurity, mtlsSecurity, type Security } from './index.js';

/** The environment variables that give a role its identity. */
export const IDENTITY_ENV = ['SPIFFE_ENDPOINT_SOCKET', 'NSM_SVID_DIR', 'NSM_TRUST_DOMAIN_DIR', 'NSM_INSECURE'] as const;

/** No identity, or one that cannot be used: the role cannot start. */
export class IdentityConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdentityConfigError';
  }
}

/** Options of {@link securityFromEnv}. */
export interface SecurityFromEnvOptions {
  /** The role (`nsmgr`, `forwarder`, `nse`, `nsc`, `registry`): the path of a dev trust domain's SVID. */
  readonly role: string;
  /** The role's name: the last part of that path, and the subject of insecure tokens. */
  readonly name: string;
  /** `NSM_MAX_TOKEN_LIFETIME` (ms). */
  readonly maxTokenLifetimeMs?: number;
  /** How long to wait for the Workload API's first SVID (ms); default 30 s. */
  readonly workloadApiTimeoutMs?: number;
  /** Told about rotation problems (a renewal that failed, a file that could not be read). */
  readonly onError?: (error: unknown) => void;
}

/** A role's security, and its source to close when the role stops. */
export interface EnvSecurity {
  /** The role's security. */
  readonly security: Security;
  /** Which variable gave it, for the start-up line. */
  readonly from: (typeof IDENTITY_ENV)[number];
  /** Stops following the source (rotation, watches, the Workload API stream). */
  close(): void;
}

/** Reads the role's identity from `env`; throws {@link IdentityConfigError} with one line when there is none. */
export async function securityFromEnv(env: Readonly<Record<string, string | undefined>>, options: SecurityFromEnvOptions): Promise<EnvSecurity> {
  const lifetime = options.maxTokenLifetimeMs === undefined ? {} : { maxTokenLifetimeMs: options.maxTokenLifetimeMs };
  const set = (key: string): string | undefined => {
    const value = env[key]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const insecure = set('NSM_INSECURE');
  if (insecure !== undefined && !['true', 'false'].includes(insecure.toLowerCase())) {
    throw new IdentityConfigError(`NSM_INSECURE=${insecure}: expected true or false`);
  }
  if (insecure?.toLowerCase() === 'true') {
    return {
      security: insecureSecurity({ subjectPrefix: 'spiffe://insecure.local/', ...(options.maxTokenLifetimeMs === undefined ? {} : { tokenLifetimeMs: options.maxTokenLifetimeMs }) }),
      from: 'NSM_INSECURE',
      close: () => undefined,
    };
  }
  const secure = async (from: EnvSecurity['from'], open: () => Promise<X509Source>): Promise<EnvSecurity> => {
    let source: X509Source;
    try {
      source = await open();
    } catch (error) {
      throw new IdentityConfigError(`${from}=${set(from) ?? ''}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return { security: mtlsSecurity(source, lifetime), from, close: () => source.close() };
  };
  const socket = set('SPIFFE_ENDPOINT_SOCKET');
  if (socket !== undefined) {
    return secure('SPIFFE_ENDPOINT_SOCKET', () =>
      WorkloadApiSource.connect({
        address: socket,
        ...(options.workloadApiTimeoutMs === undefined ? {} : { timeoutMs: options.workloadApiTimeoutMs }),
        ...(options.onError === undefined ? {} : { onError: options.onError }),
      }),
    );
  }
  const svidDir = set('NSM_SVID_DIR');
  if (svidDir !== undefined) return secure('NSM_SVID_DIR', () => FileSource.fromDir(svidDir, options.onError));
  const caDir = set('NSM_TRUST_DOMAIN_DIR');
  if (caDir !== undefined) {
    return secure('NSM_TRUST_DOMAIN_DIR', async () => {
      const ca = await readDevTrustDomain(caDir);
      const source = new DevTrustDomainSource(ca, {
        spiffeId: roleSpiffeId(ca.trustDomain, options.role, options.name),
        ...(options.onError === undefined ? {} : { onError: options.onError }),
      });
      await source.ready();
      return source;
    });
  }
  throw new IdentityConfigError(
    'no identity: set SPIFFE_ENDPOINT_SOCKET (a SPIRE agent), NSM_SVID_DIR (SVID files), NSM_TRUST_DOMAIN_DIR (a development CA: nsm trust-domain init) or NSM_INSECURE=true',
  );
}
