/**
 * The registry server chains: one for NetworkServices and one for NetworkServiceEndpoints, each ending
 * in a store (memory by default, or any {@link RegistryStore}, such as etcd).
 *
 * NSE: limits → grpcmetadata → updatepath → validate → begin → metadata → setregistrationtime → expire → store.
 * NS: limits → grpcmetadata → updatepath → validate → begin → metadata → setpayload → store.
 * `limits` refuses oversized messages before any element reads, echoes or stores them; `validate` runs
 * before `begin` so that a refused item leaves no state behind.
 * @module
 */
import type {
  NetworkService,
  NetworkServiceEndpoint,
  NetworkServiceEndpointQuery,
  NetworkServiceQuery,
} from '../../../api/gen/registry.js';
import type { Security } from '../../../tools/security/index.js';
import type { TokenGenerator } from '../../../tools/token/types.js';
import { defaultTokenGenerator } from '../../../networkservice/chains/client/chain.js';
import { namedRegistryChain, type RegistryChain } from '../../core/chain.js';
import { NS_KIND, NSE_KIND } from '../../core/kind.js';
import type { NSERegistryElement, NSRegistryElement } from '../../core/types.js';
import { authorizeRegistryServer, nseExpiresMs } from '../../common/authorize/index.js';
import { beginRegistryServer } from '../../common/begin/index.js';
import { expireServer, type ExpireServer } from '../../common/expire/index.js';
import { grpcMetadataServer } from '../../common/grpcmetadata/index.js';
import { limitsRegistry } from '../../common/limits/index.js';
import { memoryStore } from '../../common/memory/index.js';
import { registryMetadataServer } from '../../common/metadata/index.js';
import { setPayloadServer } from '../../common/setpayload/index.js';
import { setRegistrationTimeServer } from '../../common/setregistrationtime/index.js';
import { storeElement, type RegistryStore } from '../../common/store/index.js';
import { updatePathRegistryServer } from '../../common/updatepath/index.js';
import { validateRegistry } from '../../common/validate/index.js';

/** Options of the registry server chains. */
export interface RegistryServerChainOptions {
  /** The registry's name, for its tokens; default `registry`. */
  readonly name?: string;
  /** Makes this registry's tokens; default the security's, else unsigned tokens naming `name`. */
  readonly tokenGenerator?: TokenGenerator;
  /**
   * The role's security (mTLS with its SVID, signed tokens, default policies; or insecure). Without it
   * the role runs insecure, as a hand-built chain did before; the sandbox and the `nsm` roles always
   * give one, secure by default.
   */
  readonly security?: Security;
  /** Longest lifetime of an endpoint registration (ms); default one minute. */
  readonly defaultLifetimeMs?: number;
  /** Where endpoints are kept; default a fresh memory store. */
  readonly nseStore?: RegistryStore<NetworkServiceEndpoint>;
  /** Where network services are kept; default a fresh memory store. */
  readonly nsStore?: RegistryStore<NetworkService>;
  /** Extra NSE elements, just before the store. */
  readonly nseAdditionalFunctionality?: readonly NSERegistryElement[];
  /** Extra NS elements, just before the store. */
  readonly nsAdditionalFunctionality?: readonly NSRegistryElement[];
}

/** The NSE registry server chain, with its expiry element and a way to stop its timers. */
export type NSERegistryServerChain = RegistryChain<NetworkServiceEndpoint, NetworkServiceEndpointQuery> & {
  /** The chain's `expire` element. */
  readonly expire: ExpireServer;
  /** Cancels the expiry timers (when the registry stops). */
  close(): void;
};

/** The NetworkServiceEndpoint registry server chain. */
export function nseRegistryServerChain(options: RegistryServerChainOptions = {}): NSERegistryServerChain {
  const tokenGenerator = options.tokenGenerator ?? options.security?.tokenGenerator(options.name ?? 'registry') ?? defaultTokenGenerator(options.name ?? 'registry');
  const lifetime = options.defaultLifetimeMs;
  const expire = expireServer(lifetime === undefined ? {} : { defaultLifetimeMs: lifetime });
  const chain = namedRegistryChain<NetworkServiceEndpoint, NetworkServiceEndpointQuery>('nse-registry-server', [
    limitsRegistry(NSE_KIND),
    grpcMetadataServer(),
    updatePathRegistryServer(NSE_KIND, tokenGenerator),
    validateRegistry(NSE_KIND),
    options.security !== undefined && authorizeRegistryServer(NSE_KIND, options.security, { expiresMs: nseExpiresMs }),
    beginRegistryServer(NSE_KIND),
    registryMetadataServer(NSE_KIND),
    setRegistrationTimeServer(),
    expire,
    ...(options.nseAdditionalFunctionality ?? []),
    storeElement(NSE_KIND, options.nseStore ?? memoryStore(NSE_KIND)),
  ]);
  return Object.assign(chain, { expire, close: () => expire.close() });
}

/** The NetworkService registry server chain. */
export function nsRegistryServerChain(
  options: RegistryServerChainOptions = {},
): RegistryChain<NetworkService, NetworkServiceQuery> {
  const tokenGenerator = options.tokenGenerator ?? options.security?.tokenGenerator(options.name ?? 'registry') ?? defaultTokenGenerator(options.name ?? 'registry');
  return namedRegistryChain('ns-registry-server', [
    limitsRegistry(NS_KIND),
    grpcMetadataServer(),
    updatePathRegistryServer(NS_KIND, tokenGenerator),
    validateRegistry(NS_KIND),
    options.security !== undefined && authorizeRegistryServer(NS_KIND, options.security, { registryPolicies: options.security.policies.registryServices }),
    beginRegistryServer(NS_KIND),
    registryMetadataServer(NS_KIND),
    setPayloadServer(),
    ...(options.nsAdditionalFunctionality ?? []),
    storeElement(NS_KIND, options.nsStore ?? memoryStore(NS_KIND)),
  ]);
}
