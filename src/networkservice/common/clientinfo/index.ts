/**
 * `clientinfo`: tells the rest of the mesh where a request comes from. A manager adds the node, pod and
 * cluster it runs in as labels of the connection, so NetworkService `matches` can route by location
 * (for example "clients on node X go to endpoints on node X"). The values come from the environment
 * variables Kubernetes deployments set through the downward API: `NODE_NAME`, `POD_NAME` and
 * `CLUSTER_NAME`. A label the request already carries wins: the client's own word about itself is not
 * overwritten, only noted in the debug log.
 * @module
 */
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';

/** The labels `clientinfo` sets, each with the environment variable it is read from. */
export const CLIENT_INFO_LABELS: Readonly<Record<string, string>> = Object.freeze({
  nodeName: 'NODE_NAME',
  podName: 'POD_NAME',
  clusterName: 'CLUSTER_NAME',
});

/** Options of {@link ClientInfoClient}. */
export interface ClientInfoOptions {
  /** Where the variables are read, on every request; defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Adds `nodeName`, `podName` and `clusterName` labels from the environment to each request's connection. */
export class ClientInfoClient implements NetworkServiceElement {
  readonly name: string;
  private readonly env: Readonly<Record<string, string | undefined>>;

  constructor(options: ClientInfoOptions = {}, name = 'clientinfo/client') {
    this.env = options.env ?? process.env;
    this.name = name;
  }

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    if (conn !== undefined) {
      for (const [label, variable] of Object.entries(CLIENT_INFO_LABELS)) {
        const value = this.env[variable];
        // An unset or empty variable says nothing about the client; an empty label would still match selectors.
        if (value === undefined || value === '') continue;
        const current = conn.labels[label];
        if (current !== undefined) {
          ctx.logger.debug('clientinfo: label already set, keeping it', { label, kept: current, ignored: value });
          continue;
        }
        conn.labels[label] = value;
      }
    }
    return next.request(request, ctx);
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }
}

/** A client-side `clientinfo` element. */
export function clientInfoClient(options?: ClientInfoOptions): ClientInfoClient {
  return new ClientInfoClient(options);
}

/** A server-side `clientinfo` element: the same behaviour, for chains that label requests as they arrive. */
export function clientInfoServer(options?: ClientInfoOptions): ClientInfoClient {
  return new ClientInfoClient(options, 'clientinfo/server');
}
