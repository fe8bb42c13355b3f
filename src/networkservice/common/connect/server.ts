import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import { tail } from '../../core/tail.js';
import type { NetworkServiceClient, NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { errorMessage } from '../../../tools/grpc/status.js';

/** Options of {@link ConnectServer}. */
export interface ConnectServerOptions {
  /** How long the clean-up Close after a failure may take (ms). Default 5000. */
  readonly cleanupTimeoutMs?: number;
}

/** Runs a client chain towards the next hop, then the rest of the server chain. */
export class ConnectServer implements NetworkServiceElement {
  readonly name = 'connect/server';

  constructor(
    private readonly client: NetworkServiceClient,
    private readonly options: ConnectServerOptions = {},
  ) {}

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const downstream = await this.client.request(request, ctx, tail);
    try {
      return await next.request({ ...request, connection: downstream }, ctx);
    } catch (error) {
      // The caller's context may be the reason for the failure (deadline), so clean up in a fresh one.
      const [cleanupCtx, cancel] = ctx.detach().withCancel(this.options.cleanupTimeoutMs ?? 5000);
      try {
        await this.client.close(downstream, cleanupCtx, tail);
      } catch (closeError) {
        ctx.logger.warn('connect: closing downstream after a failed request failed', { error: errorMessage(closeError) });
      } finally {
        cancel();
      }
      throw error;
    }
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    // The rest of this chain is closed even when downstream is gone, so local resources are released.
    try {
      await this.client.close(connection, ctx, tail);
    } finally {
      await next.close(connection, ctx);
    }
  }
}

/** A `connect` server element around a client chain. */
export function connectServer(client: NetworkServiceClient, options: ConnectServerOptions = {}): ConnectServer {
  return new ConnectServer(client, options);
}
