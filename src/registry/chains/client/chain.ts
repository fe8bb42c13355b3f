/**
 * Registry client chains, used by endpoints (to register themselves), managers (to register endpoints
 * and find them) and applications.
 *
 * begin → metadata → retry → heal → refresh (NSE only) → clienturl → grpcmetadata → dial → [extra] → connect
 *
 * `retry` sits before `heal` and `refresh` so that their re-registrations (events from `begin`) are
 * retried too: after a registry restart, the endpoint comes back without the caller doing anything.
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
import { beginRegistryClient } from '../../common/begin/index.js';
import { clientURLRegistry } from '../../common/clienturl/index.js';
import { connectRegistryClient } from '../../common/connect/index.js';
import { dialRegistry } from '../../common/dial/index.js';
import { grpcMetadataClient } from '../../common/grpcmetadata/index.js';
import { healRegistryClient, type RegistryHealOptions } from '../../common/heal/index.js';
import { registryMetadataClient } from '../../common/metadata/index.js';
import { refreshRegistryClient } from '../../common/refresh/index.js';
import { retryRegistry, type RetryOptions } from '../../common/retry/index.js';

/** Options of the registry client chains. */
export interface RegistryClientChainOptions<R, Q> {
  /** The registry (or manager) URL: `unix:///path` or `tcp://host:port`. */
  readonly connectTo: string;
  /** Dial options (credentials, dial timeout). */
  readonly dialOptions?: DialOptions;
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
  /** Extra elements, just before `connect`. */
  readonly additionalFunctionality?: readonly RegistryElement<R, Q>[];
}

function clientChain<R, Q, P>(
  name: string,
  kind: RegistryKind<R, Q, P>,
  options: RegistryClientChainOptions<R, Q>,
  refresh: RegistryElement<R, Q> | undefined,
): RegistryChain<R, Q> {
  return namedRegistryChain<R, Q>(name, [
    beginRegistryClient(kind, options.signal),
    registryMetadataClient(kind),
    options.retry !== false && retryRegistry(options.retry ?? {}),
    options.heal !== false && healRegistryClient(kind, { signal: options.signal, ...options.heal }),
    refresh,
    clientURLRegistry(options.connectTo),
    grpcMetadataClient(),
    dialRegistry(options.dialOptions ?? {}),
    ...(options.additionalFunctionality ?? []),
    connectRegistryClient(kind),
  ]);
}

/** The NetworkServiceEndpoint registry client chain (with refresh). */
export function nseRegistryClientChain(
  options: RegistryClientChainOptions<NetworkServiceEndpoint, NetworkServiceEndpointQuery>,
): RegistryChain<NetworkServiceEndpoint, NetworkServiceEndpointQuery> {
  const refresh = options.refresh === false ? undefined : refreshRegistryClient({ signal: options.signal });
  return clientChain('nse-registry-client', NSE_KIND, options, refresh);
}

/** The NetworkService registry client chain. */
export function nsRegistryClientChain(
  options: RegistryClientChainOptions<NetworkService, NetworkServiceQuery>,
): RegistryChain<NetworkService, NetworkServiceQuery> {
  return clientChain('ns-registry-client', NS_KIND, options, undefined);
}
