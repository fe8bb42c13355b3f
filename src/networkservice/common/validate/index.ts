/**
 * `validate`: the first element of a served chain, where requests arrive from the network. It rejects,
 * with INVALID_ARGUMENT and a message naming the problem, what no NSM peer sends: a request without a
 * connection, a connection without a path (every hop appends its segment before it sends), or without a
 * network service name. Path consistency (index, ids) is checked by `updatepath`.
 * @module
 */
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { statusError, status } from '../../../tools/grpc/status.js';

/** Throws INVALID_ARGUMENT when `request` cannot be a request from an NSM peer. */
export function validateRequest(request: NetworkServiceRequest): void {
  const conn = request.connection;
  if (conn === undefined) throw statusError(status.INVALID_ARGUMENT, 'request has no connection');
  if (conn.networkService.trim() === '') {
    throw statusError(status.INVALID_ARGUMENT, 'request has no network service name (connection.network_service is empty)');
  }
  if (conn.path === undefined || conn.path.pathSegments.length === 0) {
    throw statusError(status.INVALID_ARGUMENT, 'connection has no path: the caller must add its own path segment');
  }
}

export class ValidateServer implements NetworkServiceElement {
  readonly name = 'validate/server';

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    validateRequest(request);
    return next.request(request, ctx);
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    if (connection.path === undefined || connection.path.pathSegments.length === 0) {
      throw statusError(status.INVALID_ARGUMENT, 'connection to close has no path');
    }
    return next.close(connection, ctx);
  }
}

/** A `validate` server element. */
export function validateServer(): ValidateServer {
  return new ValidateServer();
}
