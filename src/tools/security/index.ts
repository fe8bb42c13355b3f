/**
 * A role's security, as one value: how it serves and dials (mTLS with its SVID, or plaintext), how it
 * signs its path segments, and how it checks the tokens of others. Security is configuration, not a code
 * path: every chain takes a {@link Security} and runs the same elements either way; only the
 * credentials, the token generator and the default policy lists differ.
 * @module
 */
import type { X509Certificate } from 'node:crypto';
import { credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { type Clock, systemClock } from '../clock/index.js';
import { parseSpiffeId } from '../spiffe/id.js';
import type { X509Source, X509Svid } from '../spiffe/source.js';
import { PeerVerifier, spiffeChannelCredentials, spiffeServerCredentials, SvidCertificateProvider } from '../spiffe/tls.js';
import { certificateChain, createSvidTokenGenerator, createUnsignedTokenGenerator, TokenVerifier } from '../token/jwt.js';
import type { PeerAuthInfo, TokenGenerator } from '../token/types.js';
import { defaultClientPathPolicies, defaultServerPathPolicies, type PathPolicy } from '../policy/path.js';
import { defaultRegistryPolicies, type RegistryPolicy } from '../policy/registry.js';
import { defaultMonitorPolicies, type MonitorPolicy } from '../policy/monitor.js';

/** Upstream's default `NSM_MAX_TOKEN_LIFETIME`: 10 minutes. */
export const DEFAULT_MAX_TOKEN_LIFETIME_MS = 10 * 60 * 1000;

/** The policy lists of a role's `authorize` elements. */
export interface SecurityPolicies {
  /** Network Service servers: the caller's side of the path. */
  readonly server: readonly PathPolicy[];
  /** Network Service clients: the returned path from this hop on. */
  readonly client: readonly PathPolicy[];
  /** Registry servers: the caller's side of the registry path. */
  readonly registryPath: readonly PathPolicy[];
  /** Registry servers: who may register and unregister which endpoint. */
  readonly registry: readonly RegistryPolicy[];
  /**
   * Registry servers: who may register and unregister which network service. Empty by default: a
   * network service is a shared definition that every endpoint offering it registers (as upstream's
   * endpoints do), so it has no single owner; the path policies still prove who registered it.
   */
  readonly registryServices: readonly RegistryPolicy[];
  /** MonitorConnection servers: which connections a caller sees. */
  readonly monitor: readonly MonitorPolicy[];
}

/** Upstream's default policies (plus the monitor's own-connections rule, which upstream leaves off). */
export function defaultPolicies(): SecurityPolicies {
  return {
    server: defaultServerPathPolicies(),
    client: defaultClientPathPolicies(),
    registryPath: defaultServerPathPolicies(),
    registry: defaultRegistryPolicies(),
    registryServices: [],
    monitor: defaultMonitorPolicies(),
  };
}

/** No policies at all: insecure mode, where tokens are unsigned and nothing could be proven. */
export const NO_POLICIES: SecurityPolicies = { server: [], client: [], registryPath: [], registry: [], registryServices: [], monitor: [] };

/** How a role proves who it is and checks who others are. */
export interface Security {
  /** True in insecure mode: plaintext, unsigned tokens, no policies. */
  readonly insecure: boolean;
  /** The role's X.509 source (mTLS only). */
  readonly source?: X509Source;
  /** The role's own SPIFFE ID now (mTLS only). */
  spiffeId(): string | undefined;
  /** Credentials for the role's servers. */
  serverCredentials(): ServerCredentials;
  /** Credentials for one channel; `onPeer` learns the server's identity at each handshake. */
  channelCredentials(onPeer?: (peer: PeerAuthInfo) => void): ChannelCredentials;
  /** Checks the TLS peer of incoming calls (mTLS only). */
  readonly peers?: PeerVerifier;
  /** The token generator of the role's path segments (`name` names insecure tokens' subject). */
  tokenGenerator(name: string): TokenGenerator;
  /** Checks token signatures, with a cache shared by the role's elements. */
  readonly verifier: TokenVerifier;
  /** The trust bundle's CA certificates now (empty in insecure mode). */
  bundle(): readonly X509Certificate[];
  /** The clock tokens and policies read time from. */
  readonly clock: Clock;
  /** What the role's `authorize` elements check (empty in insecure mode). */
  readonly policies: SecurityPolicies;
}

/** Options of {@link mtlsSecurity}. */
export interface MtlsSecurityOptions {
  /** `NSM_MAX_TOKEN_LIFETIME` (ms); default 10 minutes. */
  readonly maxTokenLifetimeMs?: number;
  /** Trust domains whose peers are accepted; default the source's own. */
  readonly trustDomains?: readonly string[];
  /** The clock of tokens and policies. */
  readonly clock?: Clock;
  /** Replaces some of the default policy lists (see {@link defaultPolicies}). */
  readonly policies?: Partial<SecurityPolicies>;
}

/** mTLS with the SVIDs of `source`, ES256 tokens signed with its key. */
export function mtlsSecurity(source: X509Source, options: MtlsSecurityOptions = {}): Security {
  const clock = options.clock ?? systemClock;
  const tls = options.trustDomains === undefined ? {} : { trustDomains: options.trustDomains };
  const tokens = createSvidTokenGenerator({ source, maxLifetimeMs: options.maxTokenLifetimeMs ?? DEFAULT_MAX_TOKEN_LIFETIME_MS, clock });
  // One provider for all of the role's credentials: each follows the source once, not once per channel.
  const provider = new SvidCertificateProvider(source);
  const serverCredentials = spiffeServerCredentials(provider);
  const bundles = new WeakMap<X509Svid, readonly X509Certificate[]>();
  return {
    insecure: false,
    source,
    spiffeId: () => source.current().spiffeId,
    // One server credentials object per role: grpc-js keeps its certificate listeners per object.
    serverCredentials: () => serverCredentials,
    channelCredentials: (onPeer) => spiffeChannelCredentials(provider, source, tls, onPeer),
    peers: PeerVerifier.forSource(source, tls),
    tokenGenerator: () => tokens,
    verifier: new TokenVerifier(),
    bundle: () => {
      const svid = source.current();
      let parsed = bundles.get(svid);
      if (parsed === undefined) {
        parsed = certificateChain(svid.bundlePem);
        bundles.set(svid, parsed);
      }
      return parsed;
    },
    clock,
    policies: { ...defaultPolicies(), ...options.policies },
  };
}

/** Options of {@link insecureSecurity}. */
export interface InsecureSecurityOptions {
  /** Lifetime of the unsigned tokens (ms); default one hour. */
  readonly tokenLifetimeMs?: number;
  /** The prefix of the tokens' subject; default `spiffe://insecure.local/`. */
  readonly subjectPrefix?: string;
  /** The clock of tokens. */
  readonly clock?: Clock;
}

/**
 * Plaintext, unsigned tokens and (in the chains) no policies, as upstream's own insecure tests run, so
 * that plain upstream peers interoperate. Nothing is proven in this mode: use it on a trusted machine.
 */
export function insecureSecurity(options: InsecureSecurityOptions = {}): Security {
  const clock = options.clock ?? systemClock;
  const lifetimeMs = options.tokenLifetimeMs ?? 60 * 60 * 1000;
  const prefix = options.subjectPrefix ?? 'spiffe://insecure.local/';
  return {
    insecure: true,
    spiffeId: () => undefined,
    serverCredentials: () => ServerCredentials.createInsecure(),
    channelCredentials: () => credentials.createInsecure(),
    tokenGenerator: (name) => createUnsignedTokenGenerator({ subject: `${prefix}${name}`, lifetimeMs, clock }),
    verifier: new TokenVerifier(),
    bundle: () => [],
    clock,
    policies: NO_POLICIES,
  };
}

/** The trust domain of a security's own identity, or undefined in insecure mode. */
export function trustDomainOf(security: Security): string | undefined {
  const id = security.spiffeId();
  return id === undefined ? undefined : parseSpiffeId(id).trustDomain;
}
