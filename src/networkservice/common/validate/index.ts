/**
 * `validate`: the first element of a served chain, where requests arrive from the network. It rejects,
 * with INVALID_ARGUMENT and a message naming the problem, what no NSM peer sends: a request without a
 * connection, a connection without a path (every hop appends its segment before it sends), or without a
 * network service name. Path consistency (index, ids) is checked by `updatepath`.
 *
 * Request and Close also get the same size limits (see `limits.ts`): at most 256 path segments, 32
 * mechanism preferences, 1024 entries in any other list or map, 4096 characters in any string (64 KiB
 * in a token, 128 in a mechanism's class and type), and Timestamps within the protobuf range (years 1 to
 * 9999). A message past them, for example `request.connection.path.path_segments has 10000 segments: at
 * most 256`, is refused before any element stores, allocates or echoes anything of it.
 * @module
 */
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { statusError, status } from '../../../tools/grpc/status.js';
import { messageProblem } from './limits.js';

export * from './limits.js';

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
  const tooLarge = messageProblem(request, 'request');
  if (tooLarge !== undefined) throw statusError(status.INVALID_ARGUMENT, tooLarge);
}

/** Throws INVALID_ARGUMENT when `connection` cannot be a Close from an NSM peer. */
export function validateClose(connection: Connection): void {
  if (connection.path === undefined || connection.path.pathSegments.length === 0) {
    throw statusError(status.INVALID_ARGUMENT, 'connection to close has no path');
  }
  const tooLarge = messageProblem(connection, 'connection');
  if (tooLarge !== undefined) throw statusError(status.INVALID_ARGUMENT, tooLarge);
}

/** The `validate` server element: {@link validateRequest} on Request, {@link validateClose} on Close. */
export class ValidateServer implements NetworkServiceElement {
  readonly name = 'validate/server';

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    validateRequest(request);
    return next.request(request, ctx);
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    validateClose(connection);
    return next.close(connection, ctx);
  }
}

/** A `validate` server element. */
export function validateServer(): ValidateServer {
  return new ValidateServer();
}
