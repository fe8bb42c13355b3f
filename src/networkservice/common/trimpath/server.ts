import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { TRIM_PATH_FLAG, type TrimPathFlag } from './common.js';

/** Server side of `trimpath`: see the module documentation. */
export class TrimPathServer implements NetworkServiceElement {
  readonly name = 'trimpath/server';

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const flag: TrimPathFlag = { keepPath: false };
    const conn = await next.request(request, ctx.withValue(TRIM_PATH_FLAG, flag));
    if (!flag.keepPath && conn.path !== undefined) {
      conn.path.pathSegments = conn.path.pathSegments.slice(0, conn.path.index + 1);
    }
    return conn;
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }
}

/** A `trimpath` server element. */
export function trimPathServer(): TrimPathServer {
  return new TrimPathServer();
}
