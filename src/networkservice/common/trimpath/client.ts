import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { TRIM_PATH_FLAG } from './common.js';

/** Client side of `trimpath`: see the module documentation. */
export class TrimPathClient implements NetworkServiceElement {
  readonly name = 'trimpath/client';

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = await next.request(request, ctx);
    // Only a successful call continued the path; a client outside any server chain has no flag to set.
    const flag = ctx.value(TRIM_PATH_FLAG);
    if (flag !== undefined) flag.keepPath = true;
    return conn;
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }
}

/** A `trimpath` client element. */
export function trimPathClient(): TrimPathClient {
  return new TrimPathClient();
}
