/**
 * Adapters between client and server elements. Because `next` is an argument, the two sides share one
 * shape; an adapter keeps the element's name (for spans and errors) and marks where it now stands, so a
 * client chain can be placed in a server chain (as `connect` does) and the other way round.
 * @module
 */
import type { NetworkServiceClient, NetworkServiceElement, NetworkServiceServer } from './types.js';
import { elementName } from './chain.js';

function adapt(element: NetworkServiceElement, label: string): NetworkServiceElement {
  return {
    name: `${label}(${elementName(element)})`,
    request: (request, ctx, next) => element.request(request, ctx, next),
    close: (connection, ctx, next) => element.close(connection, ctx, next),
  };
}

/** Uses a client element (or client chain) as a server element: it runs, then the server chain goes on. */
export function clientToServer(client: NetworkServiceClient): NetworkServiceServer {
  return adapt(client, 'clientToServer');
}

/** Uses a server element (or server chain) as a client element. */
export function serverToClient(server: NetworkServiceServer): NetworkServiceClient {
  return adapt(server, 'serverToClient');
}
