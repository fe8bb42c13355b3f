/**
 * `endpointname`: an endpoint stamps its name on a connection that reaches it without one. A manager
 * chooses the endpoint and fills the name in; a client that dialed an endpoint directly learns this way
 * who serves it. A name already set is left alone.
 * @module
 */
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';

export class EndpointNameServer implements NetworkServiceElement {
  readonly name = 'endpointname/server';

  constructor(private readonly endpointName: string) {}

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    if (request.connection !== undefined && request.connection.networkServiceEndpointName === '') {
      request.connection.networkServiceEndpointName = this.endpointName;
    }
    return next.request(request, ctx);
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }
}

/** An `endpointname` server element for the endpoint called `name`. */
export function endpointNameServer(name: string): EndpointNameServer {
  return new EndpointNameServer(name);
}
