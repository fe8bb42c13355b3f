import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { enforce } from '../../../tools/policy/types.js';
import type { PathPolicy } from '../../../tools/policy/path.js';
import type { Security } from '../../../tools/security/index.js';
import { PEER_AUTH_INFO } from '../../../tools/token/types.js';
import { statusError, status } from '../../../tools/grpc/status.js';
import { isLocalEvent } from '../begin/eventfactory.js';
import { pathSide } from './common.js';

/** Server side of `authorize`: see the module documentation. */
export class AuthorizeServer implements NetworkServiceElement {
  readonly name = 'authorize/server';

  constructor(
    private readonly security: Security,
    private readonly policies: readonly PathPolicy[],
  ) {}

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    if (conn === undefined) throw statusError(status.INVALID_ARGUMENT, 'request has no connection');
    await this.check(conn, ctx);
    return next.request(request, ctx);
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    await this.check(connection, ctx);
    return next.close(connection, ctx);
  }

  private async check(conn: Connection, ctx: ChainContext): Promise<void> {
    // The role's own events (a timeout's Close, a heal's re-request) come from no caller: nobody new asks
    // for anything, and a timeout's tokens have just expired by definition (sdk#1512).
    if (this.policies.length === 0 || isLocalEvent(ctx)) return;
    await enforce(this.policies, pathSide(conn, 'server', ctx.value(PEER_AUTH_INFO), this.security));
  }
}

/** An `authorize` server element checking `policies` (default: the security's server policies). */
export function authorizeServer(security: Security, policies: readonly PathPolicy[] = security.policies.server): AuthorizeServer {
  return new AuthorizeServer(security, policies);
}
