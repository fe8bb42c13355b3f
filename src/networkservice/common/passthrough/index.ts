/**
 * `passthrough` (client, in an endpoint that is itself a client of another service: a firewall in front
 * of a gateway). The endpoint's incoming connection is for its own service; the connection it requests
 * downstream is for the next service, to whichever endpoint discovery picks there (the same one on
 * refresh). The caller gets back its own service and endpoint name on the connection, with the rest
 * (path, IP context) as downstream answered, so the whole path reaches the client.
 *
 * Put `mechanismtranslation` after it, so the incoming mechanism does not travel on either.
 * @module
 */
import type { Connection } from '../../../api/gen/connection.js';
import { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { connectionMetadata, MetadataKey } from '../metadata/index.js';

const DOWNSTREAM_ENDPOINT = new MetadataKey<string>('passthrough.endpoint');

/** Options of {@link PassthroughClient}. */
export interface PassthroughOptions {
  /** The network service to request downstream. */
  readonly networkService: string;
  /** Labels for the downstream request; default the incoming connection's. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The `passthrough` client element. */
export class PassthroughClient implements NetworkServiceElement {
  readonly name = 'passthrough';

  constructor(private readonly options: PassthroughOptions) {}

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const incoming = request.connection;
    if (incoming === undefined) return next.request(request, ctx);
    const metadata = connectionMetadata(ctx, 'client');
    const outgoing = NetworkServiceRequest.fromPartial(request);
    const conn = outgoing.connection as Connection;
    conn.networkService = this.options.networkService;
    conn.networkServiceEndpointName = metadata.get(DOWNSTREAM_ENDPOINT) ?? '';
    if (this.options.labels !== undefined) conn.labels = { ...this.options.labels };
    const result = await next.request(outgoing, ctx);
    metadata.set(DOWNSTREAM_ENDPOINT, result.networkServiceEndpointName);
    return {
      ...result,
      networkService: incoming.networkService,
      networkServiceEndpointName: incoming.networkServiceEndpointName,
      labels: incoming.labels,
    };
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const endpoint = connectionMetadata(ctx, 'client').get(DOWNSTREAM_ENDPOINT) ?? '';
    return next.close({ ...connection, networkService: this.options.networkService, networkServiceEndpointName: endpoint }, ctx);
  }
}

/** A `passthrough` client element requesting `options.networkService` downstream. */
export function passthroughClient(options: PassthroughOptions): PassthroughClient {
  return new PassthroughClient(options);
}
