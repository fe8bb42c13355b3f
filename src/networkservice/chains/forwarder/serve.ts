/**
 * A running forwarder: serves its chain and registers itself at its manager as an endpoint of the
 * service `forwarder` (with its labels, `p2p=true` by default), kept alive by the registry client's
 * refresh and heal until it stops. Its registry client caches Finds (`querycache`), so a steady-state
 * Request asks its manager nothing.
 * @module
 */
import { NetworkServiceEndpoint } from '../../../api/gen/registry.js';
import { createRegistryClient, type RegistryClient } from '../../../registry/chains/client/client.js';
import { toRegistryHandler } from '../../../registry/core/chain.js';
import { GrpcServer, type GrpcServerOptions } from '../../../tools/grpc/server.js';
import type { Labels } from '../../../tools/matchutils/labels.js';
import type { Security } from '../../../tools/security/index.js';
import type { TokenGenerator } from '../../../tools/token/index.js';
import { ChainContext } from '../../core/context.js';
import { serveNetworkService, type NetworkServiceBinding } from '../../core/serve.js';
import { ChannelPool, type DialOptions } from '../../common/dial/index.js';
import { serveMonitorConnection } from '../../common/monitor/index.js';
import type { DiscoverOptions } from '../../common/discover/index.js';
import { DEFAULT_FORWARDER_LABELS, FORWARDER_SERVICE_NAME } from '../../common/discoverforwarder/index.js';
import { defaultTokenGenerator } from '../client/chain.js';
import type { MonitoredChain } from '../endpoint/chain.js';
import { forwarderChain, type Dataplane } from './chain.js';

/** Options of {@link serveForwarder}. */
export interface ServeForwarderOptions {
  /** The forwarder's name; default `forwarder`. */
  readonly name?: string;
  /** Its manager's URL. */
  readonly connectTo: string;
  /** Labels it registers with (managers pick forwarders by them); default `p2p=true`. */
  readonly labels?: Labels;
  /** The data plane; default the no-op one. */
  readonly dataplane?: Dataplane;
  /** Mints the forwarder's tokens. */
  readonly tokenGenerator?: TokenGenerator;
  /**
   * The role's security (mTLS with its SVID, signed tokens, default policies; or insecure). Without it
   * the role runs insecure, as a hand-built chain did before; the sandbox and the `nsm` roles always
   * give one, secure by default.
   */
  readonly security?: Security;
  /** How to dial its manager, endpoints and remote managers. */
  readonly dialOptions?: DialOptions;
  /** Discovery options. */
  readonly discover?: DiscoverOptions;
  /** The context calls derive from (clock, logger). */
  readonly ctx?: ChainContext;
  /** gRPC server options. */
  readonly server?: GrpcServerOptions;
}

/** A running forwarder. */
export interface ServedForwarder {
  /** The forwarder's name, as registered (default `forwarder`). */
  readonly name: string;
  /** The gRPC server it runs on. */
  readonly server: GrpcServer;
  /** The URL it listens on and registers (with the real port after `tcp://host:0`). */
  readonly url: string;
  /** The forwarder's NetworkService chain, with its connection monitor. */
  readonly chain: MonitoredChain;
  /** The served `networkservice.NetworkService`. */
  readonly binding: NetworkServiceBinding;
  /** Its registry client, connected to its manager; it registers the forwarder and finds for it. */
  readonly registry: RegistryClient;
  /** Channels the forwarder has open (for leak checks). */
  readonly channels: ChannelPool;
  /** Closes its connections, unregisters, stops serving. */
  stop(): Promise<void>;
  /** Stops at once, as a crash would: no Close, no Unregister; everything it held is dropped. */
  kill(): Promise<void>;
}

/** Serves a forwarder on `listenOn` and registers it at its manager. */
export async function serveForwarder(listenOn: string, options: ServeForwarderOptions): Promise<ServedForwarder> {
  const name = options.name ?? 'forwarder';
  const ctx = options.ctx ?? ChainContext.background();
  const security = options.security;
  const channels = new ChannelPool();
  const dialOptions: DialOptions = { ...options.dialOptions, pool: channels, ...(security === undefined ? {} : { security }) };
  // The cache answers the forwarder's per-Request discovery (the endpoint by name) from memory, kept
  // current by watches at its manager; without it every Request would be a Find round trip.
  const registry = createRegistryClient({ connectTo: options.connectTo, ctx, chain: { dialOptions, queryCache: {}, name, ...(security === undefined ? {} : { security }) } });
  const lifetime = new AbortController();
  const chain = forwarderChain({
    name,
    signal: lifetime.signal,
    nsRegistry: toRegistryHandler(registry.ns),
    nseRegistry: toRegistryHandler(registry.nse),
    tokenGenerator: options.tokenGenerator ?? security?.tokenGenerator(name) ?? defaultTokenGenerator(name),
    dialOptions,
    ...(security === undefined ? {} : { security }),
    ...(options.dataplane === undefined ? {} : { dataplane: options.dataplane }),
    ...(options.discover === undefined ? {} : { discover: options.discover }),
  });
  const server = new GrpcServer({ ...options.server, ...(security === undefined ? {} : { security }) });
  const binding = serveNetworkService(server, chain, { ctx });
  serveMonitorConnection(server, chain.monitor);
  await server.listen(listenOn);
  const drop = (): void => {
    lifetime.abort(new Error(`forwarder ${name} stopped`));
    registry.abandon();
    channels.closeAll();
  };
  try {
    await registry.registerEndpoint(
      NetworkServiceEndpoint.fromPartial({
        name,
        url: server.url,
        networkServiceNames: [FORWARDER_SERVICE_NAME],
        networkServiceLabels: { [FORWARDER_SERVICE_NAME]: { labels: { ...(options.labels ?? DEFAULT_FORWARDER_LABELS) } } },
      }),
    );
  } catch (error) {
    await server.kill();
    drop();
    throw error;
  }
  return {
    name,
    server,
    url: server.url,
    chain,
    binding,
    registry,
    channels,
    stop: async () => {
      await server.stop();
      await registry.close();
      lifetime.abort(new Error(`forwarder ${name} stopped`));
      channels.closeAll();
    },
    kill: async () => {
      await server.kill();
      drop();
    },
  };
}
