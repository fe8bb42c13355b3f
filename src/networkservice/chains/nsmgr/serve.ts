/**
 * A running manager: its NetworkService chain and both registry services on one listener.
 * @module
 */
import { ChainContext } from '../../core/context.js';
import { serveNetworkService, type NetworkServiceBinding } from '../../core/serve.js';
import { serveRegistry, type RegistryBinding } from '../../../registry/core/serve.js';
import { NS_KIND, NSE_KIND } from '../../../registry/core/kind.js';
import { GrpcServer, type GrpcServerOptions } from '../../../tools/grpc/server.js';
import { ChannelPool, type DialOptions } from '../../common/dial/index.js';
import { serveMonitorConnection } from '../../common/monitor/index.js';
import { defaultTokenGenerator } from '../client/chain.js';
import type { MonitoredChain } from '../endpoint/chain.js';
import { nsmgrChain, nsmgrRegistryChains, type NsmgrChainOptions, type NsmgrRegistry, type NsmgrRegistryOptions } from './chain.js';

/**
 * Options of {@link serveNsmgr}: those of {@link nsmgrChain} (the URL and the registry handlers come from
 * the server itself) and of {@link nsmgrRegistryChains}.
 */
export interface ServeNsmgrOptions
  extends Omit<NsmgrChainOptions, 'name' | 'url' | 'nsRegistry' | 'nseRegistry'>,
    Pick<NsmgrRegistryOptions, 'registryURL' | 'defaultLifetimeMs' | 'queryCache'> {
  /** The manager's name; default `nsmgr`. */
  readonly name?: string;
  /** The context calls derive from (clock, logger). */
  readonly ctx?: ChainContext;
  /** gRPC server options. */
  readonly server?: GrpcServerOptions;
}

/** A running manager. */
export interface ServedNsmgr {
  /** The manager's name (default `nsmgr`). */
  readonly name: string;
  /** The gRPC server all its services run on. */
  readonly server: GrpcServer;
  /** The URL it listens on (with the real port after `tcp://host:0`). */
  readonly url: string;
  /** The manager's NetworkService chain, with its connection monitor. */
  readonly chain: MonitoredChain;
  /** Its registry chains and handlers. */
  readonly registry: NsmgrRegistry;
  /** The served `networkservice.NetworkService`. */
  readonly binding: NetworkServiceBinding;
  /** The served NetworkServiceEndpoint registry. */
  readonly nseBinding: RegistryBinding;
  /** The served NetworkService registry. */
  readonly nsBinding: RegistryBinding;
  /** Channels the manager has open (for leak checks). */
  readonly channels: ChannelPool;
  /** Closes the connections it holds, ends open finds, stops serving. */
  stop(): Promise<void>;
  /** Stops at once, as a crash would: no Close is sent anywhere, and everything it held is dropped. */
  kill(): Promise<void>;
}

/** Serves a manager on `listenOn` (`unix:///path` or `tcp://host:port`). */
export async function serveNsmgr(listenOn: string, options: ServeNsmgrOptions): Promise<ServedNsmgr> {
  const name = options.name ?? 'nsmgr';
  const ctx = options.ctx ?? ChainContext.background();
  const security = options.security;
  const tokenGenerator = options.tokenGenerator ?? security?.tokenGenerator(name) ?? defaultTokenGenerator(name);
  const channels = new ChannelPool();
  const dialOptions: DialOptions = { ...options.dialOptions, pool: channels, ...(security === undefined ? {} : { security }) };
  const server = new GrpcServer({ ...options.server, ...(security === undefined ? {} : { security }) });
  // Listen first: the chains need the real URL (port 0), which is known only once bound. Until the
  // services are added, a call gets UNIMPLEMENTED, and nobody knows the URL before this returns anyway.
  await server.listen(listenOn);
  const url = server.url;
  const registry = nsmgrRegistryChains({ ...options, name, url, tokenGenerator, dialOptions });
  const lifetime = new AbortController();
  const chain = nsmgrChain({
    ...options,
    name,
    url,
    nsRegistry: registry.nsHandler,
    nseRegistry: registry.nseHandler,
    tokenGenerator,
    dialOptions,
    signal: lifetime.signal,
  });
  const binding = serveNetworkService(server, chain, { ctx });
  serveMonitorConnection(server, chain.monitor);
  const nseBinding = serveRegistry(server, NSE_KIND, registry.nseChain, { ctx });
  const nsBinding = serveRegistry(server, NS_KIND, registry.nsChain, { ctx });
  const release = (): void => {
    nseBinding.endFinds();
    nsBinding.endFinds();
    registry.close();
    lifetime.abort(new Error(`manager ${name} stopped`));
    channels.closeAll();
  };
  // After the binding's own hook has closed the connections the manager held.
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
    stop: () => server.stop(),
    kill: async () => {
      await server.kill();
      release();
    },
  };
}
