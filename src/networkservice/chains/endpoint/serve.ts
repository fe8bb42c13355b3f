import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceElement } from '../../core/types.js';
import { ChainContext } from '../../core/context.js';
import { serveNetworkService } from '../../core/serve.js';
import { GrpcServer, type GrpcServerOptions } from '../../../tools/grpc/server.js';
import { serveMonitorConnection } from '../../common/monitor/index.js';
import { isMonitored } from './chain.js';

/** A chain served on an address. */
export interface ServedEndpoint {
  /** The gRPC server it runs on. */
  readonly server: GrpcServer;
  /** The URL it listens on (with the real port after `tcp://host:0`). */
  readonly url: string;
  /** The connections it holds (returned by Request, not closed since), by id. */
  readonly connections: ReadonlyMap<string, Connection>;
  /** Closes every connection it holds, then stops serving. */
  stop(): Promise<void>;
}

/**
 * Serves a chain (an endpoint, or any NetworkService chain) as `networkservice.NetworkService` with gRPC
 * health on `listenOn` (`unix:///path` or `tcp://host:port`), and, for a chain with a monitor (see
 * {@link endpointChain}), `connection.MonitorConnection`.
 */
export async function serveEndpoint(
  listenOn: string,
  element: NetworkServiceElement,
  options: GrpcServerOptions & { readonly ctx?: ChainContext } = {},
): Promise<ServedEndpoint> {
  const server = new GrpcServer(options);
  const binding = serveNetworkService(server, element, options.ctx === undefined ? {} : { ctx: options.ctx });
  if (isMonitored(element)) serveMonitorConnection(server, element.monitor);
  await server.listen(listenOn);
  return { server, url: server.url, connections: binding.held, stop: () => server.stop() };
}
