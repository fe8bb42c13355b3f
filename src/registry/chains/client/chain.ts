/**
 * Registry client chains, used by endpoints (to register themselves), managers (to register endpoints
 * and find them) and applications.
 *
 * begin → metadata → retry → heal → refresh (NSE only) → [querycache] → clienturl → grpcmetadata → dial →
 * [extra] → connect
 *
 * `retry` sits before `heal` and `refresh` so that their re-registrations (events from `begin`) are
 * retried too: after a registry restart, the endpoint comes back without the caller doing anything.
 * `querycache` (option `queryCache`, off by default; managers and forwarders turn it on) answers repeated
 * Finds from memory kept current by watches. It sits after `heal`, so that its own watches fail through
 * to it (it then forgets the answer) instead of being reopened by heal, and before `clienturl` and
 * `dial`, so that its long-lived watches hold their own channel.
 * @module
 */
import type { DialOptions } from '../../../networkservice/common/dial/index.js';
import type {
  NetworkService,
  NetworkServiceEndpoint,
  NetworkServiceEndpointQuery,
  NetworkServiceQuery,
} from '../../../api/gen/registry.js';
import { namedRegistryChain, type RegistryChain } from '../../core/chain.js';
import { NS_KIND, NSE_KIND, type RegistryKind } from '../../core/kind.js';
import type { RegistryElement } from '../../core/types.js';
import type { Security } from '../../../tools/security/index.js';
import { authorizeRegistryClient } from '../../common/authorize/index.js';
import { updateTokenRegistryClient } from '../../common/updatetoken/index.js';
import { beginRegistryClient } from '../../common/begin/index.js';
import { clientURLRegistry } from '../../common/clienturl/index.js';
import { connectRegistryClient } from '../../common/connect/index.js';
import { dialRegistry } from '../../common/dial/index.js';
import { grpcMetadataClient } from '../../common/grpcmetadata/index.js';
import { healRegistryClient, type RegistryHealOptions } from '../../common/heal/index.js';
import { registryMetadataClient } from '../../common/metadata/index.js';
import { refreshRegistryClient } from '../../common/refresh/index.js';
import { retryRegistry, type RetryOptions } from '../../common/retry/index.js';
import { QueryCache, type QueryCacheOptions } from '../../common/querycache/cache.js';

/** Options of the registry client chains. */
export interface RegistryClientChainOptions<R, Q> {
  /** The registry (or manager) URL: `unix:///path` or `tcp://host:port`. */
  readonly connectTo: string;
  /** Dial options (credentials, dial timeout). */
  readonly dialOptions?: DialOptions;
  /**
   * The role's security: the chain dials with it, signs its registrations towards the registry and
   * authorizes the path that comes back. Without it the chain runs insecure and sends no token.
   */
  readonly security?: Security;
  /** This hop's name, the subject of its insecure tokens; default `registry-client`. */
  readonly name?: string;
  /** Retry options; `false` leaves retry out (a failing call then fails at once). */
  readonly retry?: RetryOptions | false;
  /** Heal options; `false` leaves heal out. */
  readonly heal?: RegistryHealOptions | false;
  /**
   * `false` leaves refresh out (NSE chain): a manager passing its endpoints' registrations on lets each
   * endpoint refresh its own.
   */
  readonly refresh?: false;
  /**
   * The chain's lifetime. Aborting it stops everything the chain does in the background (heal watches,
   * pending refreshes, re-registrations being retried) without unregistering anything.
   */
  readonly signal?: AbortSignal;
  /**
   * Cache Finds (see `querycache`): options, or `false`/absent for none. The cache's lifetime is the
   * chain's `signal`. Its answers are as current as its watches, so leave it off where a Find must see
   * the registry itself.
   */
  readonly queryCache?: Omit<QueryCacheOptions, 'signal'> | false;
  /** Extra elements, just before `connect`. */
  readonly additionalFunctionality?: readonly RegistryElement<R, Q>[];
}

/** A registry client chain, with its `querycache` element when it has one. */
export type RegistryClientChain<R, Q> = RegistryChain<R, Q> & {
  /** The chain's `querycache` element (for inspection and leak checks); undefined without `queryCache`. */
  readonly queryCache: QueryCache<R, Q> | undefined;
};

function clientChain<R, Q, P>(
  name: string,
  kind: RegistryKind<R, Q, P>,
  options: RegistryClientChainOptions<R, Q>,
  refresh: RegistryElement<R, Q> | undefined,
): RegistryClientChain<R, Q> {
  const cache =
    options.queryCache === undefined || options.queryCache === false
      ? undefined
      : new QueryCache(kind, { ...options.queryCache, signal: options.signal });
  const security = options.security;
  const chain = namedRegistryChain<R, Q>(name, [
    beginRegistryClient(kind, options.signal),
    registryMetadataClient(kind),
    options.retry !== false && retryRegistry(options.retry ?? {}),
    options.heal !== false && healRegistryClient(kind, { signal: options.signal, ...options.heal }),
    refresh,
    cache,
    clientURLRegistry(options.connectTo),
    grpcMetadataClient(),
    dialRegistry(security === undefined ? (options.dialOptions ?? {}) : { ...options.dialOptions, security }),
    security !== undefined && authorizeRegistryClient(security),
    security !== undefined && updateTokenRegistryClient(security.tokenGenerator(options.name ?? 'registry-client')),
    ...(options.additionalFunctionality ?? []),
    connectRegistryClient(kind),
  ]);
  return Object.assign(chain, { queryCache: cache });
}

/** The NetworkServiceEndpoint registry client chain (with refresh). */
export function nseRegistryClientChain(
  options: RegistryClientChainOptions<NetworkServiceEndpoint, NetworkServiceEndpointQuery>,
): RegistryClientChain<NetworkServiceEndpoint, NetworkServiceEndpointQuery> {
  const refresh = options.refresh === false ? undefined : refreshRegistryClient({ signal: options.signal });
  return clientChain('nse-registry-client', NSE_KIND, options, refresh);
}

/** The NetworkService registry client chain. */
export function nsRegistryClientChain(
  options: RegistryClientChainOptions<NetworkService, NetworkServiceQuery>,
): RegistryClientChain<NetworkService, NetworkServiceQuery> {
  return clientChain('ns-registry-client', NS_KIND, options, undefined);
}
