import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { firstViolation, permissionDenied } from '../../../tools/policy/types.js';
import type { PathPolicy } from '../../../tools/policy/path.js';
import type { Security } from '../../../tools/security/index.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import { nextHopPeer } from '../clientconn/index.js';
import { pathSide } from './common.js';

/** Client side of `authorize`: see the module documentation. */
export class AuthorizeClient implements NetworkServiceElement {
  readonly name = 'authorize/client';

  constructor(
    private readonly security: Security,
    private readonly policies: readonly PathPolicy[],
  ) {}

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = await next.request(request, ctx);
    if (this.policies.length === 0) return conn;
    const failed = await firstViolation(this.policies, pathSide(conn, 'client', nextHopPeer(ctx), this.security));
    if (failed === undefined) return conn;
    // The next hops set up a connection we will not use: undo it before refusing, as upstream does.
    try {
      await next.close(conn, ctx);
    } catch (error) {
      ctx.logger.warn('authorize: closing a refused connection failed', { connectionId: conn.id, error: errorMessage(error) });
    }
    throw permissionDenied(failed.policy.name, failed.violation);
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }
}

/** An `authorize` client element checking `policies` (default: the security's client policies). */
export function authorizeClient(security: Security, policies: readonly PathPolicy[] = security.policies.client): AuthorizeClient {
  return new AuthorizeClient(security, policies);
}
