/**
 * A registry server on one listener: both registry services and gRPC health.
 * @module
 */
import type {
  NetworkService,
  NetworkServiceEndpoint,
  NetworkServiceEndpointQuery,
  NetworkServiceQuery,
} from '../../../api/gen/registry.js';
import type { ChainContext } from '../../../networkservice/core/context.js';
import { GrpcServer, type GrpcServerOptions } from '../../../tools/grpc/server.js';
import type { RegistryChain } from '../../core/chain.js';
import { NS_KIND, NSE_KIND } from '../../core/kind.js';
import { serveRegistry, type RegistryBinding } from '../../core/serve.js';
import { nseRegistryServerChain, nsRegistryServerChain, type RegistryServerChainOptions } from './chain.js';

/** Options of {@link serveRegistryServer}. */
export interface ServeRegistryServerOptions extends RegistryServerChainOptions {
  /** The context calls derive from (clock, logger). */
  readonly ctx?: ChainContext;
  /** gRPC server options (credentials, drain timeout). */
  readonly server?: GrpcServerOptions;
}

/** A running registry server. */
export interface ServedRegistry {
  readonly server: GrpcServer;
  /** The URL it listens on (with the real port when it was bound to port 0). */
  readonly url: string;
  readonly nseChain: RegistryChain<NetworkServiceEndpoint, NetworkServiceEndpointQuery>;
  readonly nsChain: RegistryChain<NetworkService, NetworkServiceQuery>;
  readonly nseBinding: RegistryBinding;
  readonly nsBinding: RegistryBinding;
  /** Ends open watches and stops serving; the stores are left as they are (closing them is the owner's job). */
  stop(): Promise<void>;
  /** Stops at once, as a crash would. */
  kill(): Promise<void>;
}

/** Serves a registry on `listenOn` (`unix:///path` or `tcp://host:port`). */
export async function serveRegistryServer(listenOn: string, options: ServeRegistryServerOptions = {}): Promise<ServedRegistry> {
  const nseChain = nseRegistryServerChain(options);
  const nsChain = nsRegistryServerChain(options);
  const server = new GrpcServer(options.server ?? {});
  const serveOptions = options.ctx === undefined ? {} : { ctx: options.ctx };
  const nseBinding = serveRegistry(server, NSE_KIND, nseChain, serveOptions);
  const nsBinding = serveRegistry(server, NS_KIND, nsChain, serveOptions);
  await server.listen(listenOn);
  return {
    server,
    url: server.url,
    nseChain,
    nsChain,
    nseBinding,
    nsBinding,
    stop: () => server.stop(),
    kill: async () => {
      nseBinding.endFinds();
      nsBinding.endFinds();
      await server.kill();
    },
  };
}
