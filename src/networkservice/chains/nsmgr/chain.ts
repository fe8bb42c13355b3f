/**
 * The Network Service Manager's chains. One manager runs per node: clients ask it for a network service,
 * endpoints and forwarders register through it.
 *
 * NetworkService: validate → updatepath → begin → updatetoken → metadata → timeout → monitor → trimpath → clientinfo →
 * discover → roundrobin → excludedprefixes → discoverforwarder → netsvcmonitor → [extra] →
 * connect(client chain).
 * `clientinfo` labels the connection with this node's name (for `{{.nodeName}}` matches), `discover` and
 * `roundrobin` pick the endpoint, `excludedprefixes` tells it which prefixes to keep clear of,
 * `discoverforwarder` sends the request through one of this node's forwarders, which carries it on to the
 * endpoint or to the endpoint's manager on another node, and `netsvcmonitor` closes the connection if the
 * NetworkService is changed so that its endpoint no longer matches.
 *
 * Registry (NSE): limits → grpcmetadata → updatepath → validate → begin → metadata → clientinfo → expire →
 * localbypass → connect(registry client). `clientinfo` labels local endpoints with this node (and
 * cluster), so `{{.nodeName}}` destination selectors work for endpoints that do not label themselves.
 * Local endpoints and forwarders are published under the manager's URL; `localbypass` remembers their
 * real URLs for finds made through this manager (by its own discovery, and by its forwarders).
 * Registry (NS): limits → grpcmetadata → updatepath → validate → connect(registry client).
 * `limits` refuses oversized registry messages before the manager stores, forwards or echoes them;
 * `validate` refuses what the registry would refuse before `localbypass` remembers an endpoint's URL (the
 * registry only ever sees the manager's own URL, so it cannot refuse a bad one for the manager).
 * Both run before `begin`, so that a refused item leaves no state behind.
 *
 * The manager's own discovery (`discover`, `discoverforwarder`, `netsvcmonitor`) finds through registry
 * client chains that carry a `querycache`: each question is asked of the registry once and kept current
 * by one watch per question, so a steady-state Request (a refresh, another connection to the same
 * service) asks the registry nothing. `localbypass` sits above the cache, so cached local endpoints
 * still get their newest real URL. What others find through the manager (its forwarders, which cache
 * on their side; the heal watches of its endpoints) goes to the registry uncached: a caller asking the
 * manager gets the registry's own answer, and cannot fill the manager with watches of its choosing.
 * See docs/registry.md, "Discovery without round trips".
 * @module
 */
import type {
  NetworkService,
  NetworkServiceEndpoint,
  NetworkServiceEndpointQuery,
  NetworkServiceQuery,
} from '../../../api/gen/registry.js';
import { namedRegistryChain, registryChain, toRegistryHandler, type RegistryChain } from '../../../registry/core/chain.js';
import { NS_KIND, NSE_KIND } from '../../../registry/core/kind.js';
import type { NSERegistryHandler, NSRegistryHandler } from '../../../registry/core/types.js';
import { authorizeRegistryServer, nseExpiresMs } from '../../../registry/common/authorize/index.js';
import { beginRegistryServer } from '../../../registry/common/begin/index.js';
import { connectRegistryServer } from '../../../registry/common/connect/index.js';
import { expireServer, type ExpireServer } from '../../../registry/common/expire/index.js';
import { grpcMetadataServer } from '../../../registry/common/grpcmetadata/index.js';
import { limitsRegistry } from '../../../registry/common/limits/index.js';
import { clientInfoRegistry, nsmgrClientInfoLabels } from '../../../registry/common/clientinfo/index.js';
import { localBypassServer, type LocalBypassServer } from '../../../registry/common/localbypass/index.js';
import { registryMetadataServer } from '../../../registry/common/metadata/index.js';
import { updatePathRegistryServer } from '../../../registry/common/updatepath/index.js';
import { validateRegistry } from '../../../registry/common/validate/index.js';
import { nseRegistryClientChain, nsRegistryClientChain } from '../../../registry/chains/client/chain.js';
import type { QueryCache, QueryCacheOptions } from '../../../registry/common/querycache/index.js';
import type { Security } from '../../../tools/security/index.js';
import type { TokenGenerator } from '../../../tools/token/index.js';
import { namedChain } from '../../core/chain.js';
import type { NetworkServiceServer } from '../../core/types.js';
import { connectServer } from '../../common/connect/index.js';
import type { DialOptions } from '../../common/dial/index.js';
import { clientInfoServer } from '../../common/clientinfo/index.js';
import { discoverServer, type DiscoverOptions } from '../../common/discover/index.js';
import { excludedPrefixesServer } from '../../common/excludedprefixes/index.js';
import { netsvcMonitorServer } from '../../common/netsvcmonitor/index.js';
import { discoverForwarderServer, type DiscoverForwarderOptions } from '../../common/discoverforwarder/index.js';
import { roundRobinServer } from '../../common/roundrobin/index.js';
import { defaultTokenGenerator, nextHopClientChain } from '../client/chain.js';
import { serverCommon, withMonitor, type MonitoredChain } from '../endpoint/chain.js';
import { ConnectionMonitor } from '../../common/monitor/index.js';

/** Options of {@link nsmgrChain}. */
export interface NsmgrChainOptions {
  /** The manager's name (its path segments). */
  readonly name: string;
  /** The URL the manager is reachable on: its forwarders are registered under it. */
  readonly url: string;
  /** Where to find network services (the manager's own registry chain, in process). */
  readonly nsRegistry: NSRegistryHandler;
  /** Where to find endpoints and forwarders (the manager's own registry chain, with localbypass). */
  readonly nseRegistry: NSERegistryHandler;
  /** Mints the manager's tokens. */
  readonly tokenGenerator?: TokenGenerator;
  /**
   * The role's security (mTLS with its SVID, signed tokens, default policies; or insecure). Without it
   * the role runs insecure, as a hand-built chain did before; the sandbox and the `nsm` roles always
   * give one, secure by default.
   */
  readonly security?: Security;
  /** How to dial forwarders. */
  readonly dialOptions?: DialOptions;
  /** Discovery options (how long to wait for endpoints that are not registered yet). */
  readonly discover?: DiscoverOptions;
  /** Forwarder selection options. */
  readonly discoverForwarder?: DiscoverForwarderOptions;
  /** Where `clientinfo` reads NODE_NAME, POD_NAME, CLUSTER_NAME; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Prefixes no endpoint may hand out addresses from (for instance the node's own networks). */
  readonly excludedPrefixes?: readonly string[];
  /** Extra server elements, after the forwarder is chosen and before the request leaves. */
  readonly additionalFunctionality?: readonly NetworkServiceServer[];
  /** The role's lifetime: when it ends (stopped or killed), the chain's timers stop. */
  readonly signal?: AbortSignal;
}

/** The manager's NetworkService chain. */
export function nsmgrChain(options: NsmgrChainOptions): MonitoredChain {
  const tokenGenerator = options.tokenGenerator ?? options.security?.tokenGenerator(options.name) ?? defaultTokenGenerator(options.name);
  const monitor = new ConnectionMonitor();
  const chain = namedChain(`nsmgr(${options.name})`, [
    ...serverCommon(options.name, tokenGenerator, monitor, options.signal, options.security),
    clientInfoServer(options.env === undefined ? {} : { env: options.env }),
    discoverServer(options.nsRegistry, options.nseRegistry, options.discover),
    roundRobinServer(),
    excludedPrefixesServer({ prefixes: options.excludedPrefixes ?? [] }),
    discoverForwarderServer(options.nseRegistry, options.url, options.discoverForwarder),
    netsvcMonitorServer({ nsRegistry: options.nsRegistry, nseRegistry: options.nseRegistry }),
    ...(options.additionalFunctionality ?? []),
    connectServer(
      nextHopClientChain({
        name: options.name,
        tokenGenerator,
        ...(options.dialOptions === undefined ? {} : { dialOptions: options.dialOptions }),
        ...(options.security === undefined ? {} : { security: options.security }),
      }),
    ),
  ]);
  return withMonitor(chain, monitor);
}

/** Options of {@link nsmgrRegistryChains}. */
export interface NsmgrRegistryOptions {
  /** The manager's name (its registry path segments). */
  readonly name: string;
  /** The URL the manager is reachable on: local endpoints are published under it. */
  readonly url: string;
  /** The registry the manager passes registrations on to. */
  readonly registryURL: string;
  /** Mints the manager's registry tokens. */
  readonly tokenGenerator?: TokenGenerator;
  /** The manager's security: its registry chains authorize their callers and sign towards the registry. */
  readonly security?: Security;
  /** How to dial the registry. */
  readonly dialOptions?: DialOptions;
  /** The longest lifetime of a local registration (ms); default one minute. */
  readonly defaultLifetimeMs?: number;
  /** Where `clientinfo` reads NODE_NAME and CLUSTER_NAME for the endpoints' labels; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The `querycache` of the manager's own discovery (on by default, with its defaults); `false` sends
   * every Find of its discovery to the registry. Finds served to callers are never cached.
   */
  readonly queryCache?: Omit<QueryCacheOptions, 'signal'> | false;
}

/** The manager's registry side: the chains it serves and in-process handlers for its own discovery. */
export interface NsmgrRegistry {
  /** The NetworkServiceEndpoint registry chain the manager serves: expiry, localbypass, then the registry. */
  readonly nseChain: RegistryChain<NetworkServiceEndpoint, NetworkServiceEndpointQuery>;
  /** The NetworkService registry chain the manager serves; it forwards to the registry. */
  readonly nsChain: RegistryChain<NetworkService, NetworkServiceQuery>;
  /** Finds through localbypass: local endpoints and forwarders with their real URLs. */
  readonly nseHandler: NSERegistryHandler;
  /** Finds NetworkServices in the registry, for the manager's own discovery. */
  readonly nsHandler: NSRegistryHandler;
  /** The `localbypass` element: publishes local endpoints with the manager's URL, keeps their real URLs for local finds. */
  readonly localBypass: LocalBypassServer;
  /** The element that unregisters endpoints whose registrations were not refreshed in time. */
  readonly expire: ExpireServer;
  /** The endpoint registry client's cache (undefined with `queryCache: false`). */
  readonly nseCache: QueryCache<NetworkServiceEndpoint, NetworkServiceEndpointQuery> | undefined;
  /** The network service registry client's cache (undefined with `queryCache: false`). */
  readonly nsCache: QueryCache<NetworkService, NetworkServiceQuery> | undefined;
  /** Stops expiry timers and the registry clients' background work (their caches and watches too). */
  close(): void;
}

/** Builds the manager's registry chains. */
export function nsmgrRegistryChains(options: NsmgrRegistryOptions): NsmgrRegistry {
  const tokenGenerator = options.tokenGenerator ?? options.security?.tokenGenerator(options.name) ?? defaultTokenGenerator(options.name);
  const security = options.security;
  const lifetime = new AbortController();
  const clientOptions = {
    connectTo: options.registryURL,
    signal: lifetime.signal,
    // Endpoints refresh and heal their own registrations through the manager.
    heal: false,
    refresh: false,
    retry: false,
    name: options.name,
    ...(options.dialOptions === undefined ? {} : { dialOptions: options.dialOptions }),
    ...(options.security === undefined ? {} : { security: options.security }),
  } as const;
  // Served: what callers register and find through the manager. Own: the manager's discovery, cached.
  const nseClient = nseRegistryClientChain(clientOptions);
  const nsClient = nsRegistryClientChain(clientOptions);
  const ownQueryCache = options.queryCache ?? {};
  const nseOwn = nseRegistryClientChain({ ...clientOptions, queryCache: ownQueryCache });
  const nsOwn = nsRegistryClientChain({ ...clientOptions, queryCache: ownQueryCache });
  const localBypass = localBypassServer(options.url);
  const expire = expireServer(options.defaultLifetimeMs === undefined ? {} : { defaultLifetimeMs: options.defaultLifetimeMs });
  const nseChain = namedRegistryChain<NetworkServiceEndpoint, NetworkServiceEndpointQuery>(`nsmgr-nse-registry(${options.name})`, [
    limitsRegistry(NSE_KIND),
    grpcMetadataServer(),
    updatePathRegistryServer(NSE_KIND, tokenGenerator),
    validateRegistry(NSE_KIND),
    security !== undefined && authorizeRegistryServer(NSE_KIND, security, { expiresMs: nseExpiresMs }),
    beginRegistryServer(NSE_KIND),
    registryMetadataServer(NSE_KIND),
    clientInfoRegistry({ labels: nsmgrClientInfoLabels, ...(options.env === undefined ? {} : { env: options.env }) }),
    expire,
    localBypass,
    connectRegistryServer(nseClient),
  ]);
  const nsChain = namedRegistryChain<NetworkService, NetworkServiceQuery>(`nsmgr-ns-registry(${options.name})`, [
    limitsRegistry(NS_KIND),
    grpcMetadataServer(),
    updatePathRegistryServer(NS_KIND, tokenGenerator),
    validateRegistry(NS_KIND),
    security !== undefined && authorizeRegistryServer(NS_KIND, security, { registryPolicies: security.policies.registryServices }),
    connectRegistryServer(nsClient),
  ]);
  return {
    nseChain,
    nsChain,
    nseHandler: toRegistryHandler(registryChain(localBypass, connectRegistryServer(nseOwn))),
    nsHandler: toRegistryHandler(connectRegistryServer(nsOwn)),
    localBypass,
    expire,
    nseCache: nseOwn.queryCache,
    nsCache: nsOwn.queryCache,
    close: () => {
      expire.close();
      lifetime.abort(new Error(`manager ${options.name} stopped`));
    },
  };
}
