import { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import { ON_HOP_ID } from '../../core/serve.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { restoreCallerView, updatePath } from './common.js';

/** Server side of `updatepath`: see the module documentation. */
export class UpdatePathServer implements NetworkServiceElement {
  readonly name: string = 'updatepath/server';

  /** @param segmentName this hop's path segment name */
  constructor(readonly segmentName: string) {}

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    request.connection ??= Connection.create();
    const prevIndex = updatePath(request.connection, this.segmentName);
    // The server binding holds the connection under this hop's id, as begin does.
    ctx.value(ON_HOP_ID)?.(request.connection.id);
    const conn = await next.request(request, ctx);
    restoreCallerView(conn, prevIndex);
    return conn;
  }

  // async, so that an inconsistent connection rejects the returned promise rather than throwing at the caller.
  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    updatePath(connection, this.segmentName);
    ctx.value(ON_HOP_ID)?.(connection.id);
    await next.close(connection, ctx);
  }
}

/** An `updatepath` server element for the hop whose path segment is named `name`. */
export function updatePathServer(name: string): UpdatePathServer {
  return new UpdatePathServer(name);
}
