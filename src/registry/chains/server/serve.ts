/**
 * A registry server on one listener: both registry services and gRPC health.
 * @module
 */
import type {
  NetworkService,
  NetworkServiceQuery,
} from '../../../api/gen/registry.js';
import type { ChainContext } from '../../../networkservice/core/context.js';
import { GrpcServer, type GrpcServerOptions } from '../../../tools/grpc/server.js';
import type { RegistryChain } from '../../core/chain.js';
import { NS_KIND, NSE_KIND, type RegistryKind } from '../../core/kind.js';
import type { RegistryStore } from '../../common/store/index.js';
import { serveRegistry, type RegistryBinding } from '../../core/serve.js';
import { nseRegistryServerChain, nsRegistryServerChain, type NSERegistryServerChain, type RegistryServerChainOptions } from './chain.js';

/** Where an etcd-backed registry keeps its items. */
export interface EtcdRegistryConfig {
  /** Client URLs of the etcd cluster, e.g. `http://127.0.0.1:2379`. */
  readonly endpoints: readonly string[];
  /** Key prefix; default `/nsm/registry/`. Registries that share a prefix share their items. */
  readonly prefix?: string;
}

/** Options of {@link serveRegistryServer}. */
export interface ServeRegistryServerOptions extends RegistryServerChainOptions {
  /**
   * Keep items in etcd instead of memory (ignored for a resource whose store is given explicitly). The
   * stores are closed when the server stops.
   */
  readonly etcd?: EtcdRegistryConfig;
  /** The context calls derive from (clock, logger). */
  readonly ctx?: ChainContext;
  /** gRPC server options (credentials, drain timeout). */
  readonly server?: GrpcServerOptions;
}

/** A running registry server. */
export interface ServedRegistry {
  /** The gRPC server it runs on. */
  readonly server: GrpcServer;
  /** The URL it listens on (with the real port when it was bound to port 0). */
  readonly url: string;
  /** The NetworkServiceEndpoint registry chain it serves. */
  readonly nseChain: NSERegistryServerChain;
  /** The NetworkService registry chain it serves. */
  readonly nsChain: RegistryChain<NetworkService, NetworkServiceQuery>;
  /** The served NetworkServiceEndpoint registry. */
  readonly nseBinding: RegistryBinding;
  /** The served NetworkService registry. */
  readonly nsBinding: RegistryBinding;
  /** Ends open watches and stops serving; the stores are left as they are (closing them is the owner's job). */
  stop(): Promise<void>;
  /** Stops at once, as a crash would. */
  kill(): Promise<void>;
}

/** Serves a registry on `listenOn` (`unix:///path` or `tcp://host:port`). */
export async function serveRegistryServer(listenOn: string, options: ServeRegistryServerOptions = {}): Promise<ServedRegistry> {
  const owned: RegistryStore<unknown>[] = [];
  const fromEtcd = async <R, Q>(kind: RegistryKind<R, Q, unknown>, given: RegistryStore<R> | undefined): Promise<RegistryStore<R> | undefined> => {
    if (given !== undefined || options.etcd === undefined) return given;
    // Loaded only when asked for: the etcd client and its dependencies take longer to load than
    // the rest of a registry, which with the memory store does not need them.
    const { etcdStore } = await import('../../common/etcd/index.js');
    const prefix = `${options.etcd.prefix ?? '/nsm/registry/'}${kind.resource}/`;
    const store = etcdStore(kind, options.etcd.endpoints, { prefix });
    owned.push(store);
    return store;
  };
  const nseStore = await fromEtcd(NSE_KIND, options.nseStore);
  const nsStore = await fromEtcd(NS_KIND, options.nsStore);
  const chainOptions: RegistryServerChainOptions = {
    ...options,
    ...(nseStore === undefined ? {} : { nseStore }),
    ...(nsStore === undefined ? {} : { nsStore }),
  };
  const nseChain = nseRegistryServerChain(chainOptions);
  const nsChain = nsRegistryServerChain(chainOptions);
  const security = options.security;
  const server = new GrpcServer({ ...options.server, ...(security === undefined ? {} : { security }) });
  const serveOptions = options.ctx === undefined ? {} : { ctx: options.ctx };
  const nseBinding = serveRegistry(server, NSE_KIND, nseChain, serveOptions);
  const nsBinding = serveRegistry(server, NS_KIND, nsChain, serveOptions);
  server.onStop(async () => {
    nseChain.close();
    for (const store of owned) await store.close();
  });
  try {
    await server.listen(listenOn);
  } catch (error) {
    await Promise.all(owned.map((store) => store.close()));
    throw error;
  }
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
      nseChain.close();
      await Promise.all(owned.map((store) => store.close()));
    },
  };
}
