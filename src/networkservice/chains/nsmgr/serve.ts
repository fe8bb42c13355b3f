/**
 * A running manager: its NetworkService chain and both registry services on one listener.
 * @module
 */
import { ChainContext } from '../../core/context.js';
import type { NetworkServiceChain } from '../../core/chain.js';
import { serveNetworkService, type NetworkServiceBinding } from '../../core/serve.js';
import { serveRegistry, type RegistryBinding } from '../../../registry/core/serve.js';
import { NS_KIND, NSE_KIND } from '../../../registry/core/kind.js';
import { GrpcServer, type GrpcServerOptions } from '../../../tools/grpc/server.js';
import type { TokenGenerator } from '../../../tools/token/index.js';
import { ChannelTracker, type DialOptions } from '../../common/dial/index.js';
import type { DiscoverOptions } from '../../common/discover/index.js';
import type { DiscoverForwarderOptions } from '../../common/discoverforwarder/index.js';
import type { NetworkServiceServer } from '../../core/types.js';
import { defaultTokenGenerator } from '../client/chain.js';
import { nsmgrChain, nsmgrRegistryChains, type NsmgrRegistry } from './chain.js';

/** Options of {@link serveNsmgr}. */
export interface ServeNsmgrOptions {
  /** The manager's name; default `nsmgr`. */
  readonly name?: string;
  /** The registry the manager publishes to and discovers from. */
  readonly registryURL: string;
  /** Mints the manager's tokens. */
  readonly tokenGenerator?: TokenGenerator;
  /** How to dial forwarders and the registry. */
  readonly dialOptions?: DialOptions;
  /** Discovery options. */
  readonly discover?: DiscoverOptions;
  /** Forwarder selection options. */
  readonly discoverForwarder?: DiscoverForwarderOptions;
  /** The longest lifetime of a local registration (ms); default one minute. */
  readonly defaultLifetimeMs?: number;
  /** Where `clientinfo` reads NODE_NAME, POD_NAME, CLUSTER_NAME; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Prefixes no endpoint may hand out addresses from. */
  readonly excludedPrefixes?: readonly string[];
  /** Extra server elements (see {@link nsmgrChain}). */
  readonly additionalFunctionality?: readonly NetworkServiceServer[];
  /** The context calls derive from (clock, logger). */
  readonly ctx?: ChainContext;
  /** gRPC server options. */
  readonly server?: GrpcServerOptions;
}

/** A running manager. */
export interface ServedNsmgr {
  readonly name: string;
  readonly server: GrpcServer;
  /** The URL it listens on (with the real port after `tcp://host:0`). */
  readonly url: string;
  readonly chain: NetworkServiceChain;
  readonly registry: NsmgrRegistry;
  readonly binding: NetworkServiceBinding;
  readonly nseBinding: RegistryBinding;
  readonly nsBinding: RegistryBinding;
  /** Channels the manager has open (for leak checks). */
  readonly channels: ChannelTracker;
  /** Closes the connections it holds, ends open finds, stops serving. */
  stop(): Promise<void>;
  /** Stops at once, as a crash would: no Close is sent anywhere, and everything it held is dropped. */
  kill(): Promise<void>;
}

/** Serves a manager on `listenOn` (`unix:///path` or `tcp://host:port`). */
export async function serveNsmgr(listenOn: string, options: ServeNsmgrOptions): Promise<ServedNsmgr> {
  const name = options.name ?? 'nsmgr';
  const ctx = options.ctx ?? ChainContext.background();
  const tokenGenerator = options.tokenGenerator ?? defaultTokenGenerator(name);
  const channels = new ChannelTracker();
  const dialOptions: DialOptions = { ...options.dialOptions, tracker: channels };
  const server = new GrpcServer(options.server ?? {});
  // Listen first: the chains need the real URL (port 0), which is known only once bound. Until the
  // services are added, a call gets UNIMPLEMENTED, and nobody knows the URL before this returns anyway.
  await server.listen(listenOn);
  const url = server.url;
  const registry = nsmgrRegistryChains({
    name,
    url,
    registryURL: options.registryURL,
    tokenGenerator,
    dialOptions,
    ...(options.defaultLifetimeMs === undefined ? {} : { defaultLifetimeMs: options.defaultLifetimeMs }),
  });
  const chain = nsmgrChain({
    name,
    url,
    nsRegistry: registry.nsHandler,
    nseRegistry: registry.nseHandler,
    tokenGenerator,
    dialOptions,
    ...(options.discover === undefined ? {} : { discover: options.discover }),
    ...(options.discoverForwarder === undefined ? {} : { discoverForwarder: options.discoverForwarder }),
    ...(options.additionalFunctionality === undefined ? {} : { additionalFunctionality: options.additionalFunctionality }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.excludedPrefixes === undefined ? {} : { excludedPrefixes: options.excludedPrefixes }),
  });
  const binding = serveNetworkService(server, chain, { ctx });
  const nseBinding = serveRegistry(server, NSE_KIND, registry.nseChain, { ctx });
  const nsBinding = serveRegistry(server, NS_KIND, registry.nsChain, { ctx });
  const release = (): void => {
    nseBinding.endFinds();
    nsBinding.endFinds();
    registry.close();
    channels.closeAll();
  };
  server.onStop(() => Promise.resolve(release()));
  return {
    name,
    server,
    url,
    chain,
    registry,
    binding,
    nseBinding,
    nsBinding,
    channels,
    stop: async () => {
      await server.stop();
      release();
    },
    kill: async () => {
      await server.kill();
      release();
    },
  };
}
