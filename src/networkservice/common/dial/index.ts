/**
 * `dial`: holds, for each connection, a lease on the channel to the URL in the context (see `clienturl`),
 * once it is ready, and keeps it for the connection (see `clientconn`). Channels are shared per peer (see
 * {@link ChannelPool}): a thousand connections through one forwarder use one socket. When a refresh goes
 * to another URL (the next hop moved) it closes the old path through the old channel, best effort, and
 * gives that lease back before taking the new one. The lease is given back on Close, and when the request
 * it was taken for fails.
 * @module
 */
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { errorMessage, statusError, status } from '../../../tools/grpc/status.js';
import { clientURLFrom } from '../clienturl/index.js';
import { deleteChannel, loadChannel, releaseChannel, storeChannel, type HeldChannel } from '../clientconn/index.js';
import { ChannelPool } from './pool.js';
import type { DialOptions } from './ready.js';

export { ChannelPool, type ChannelPoolOptions } from './pool.js';
export { waitUntilReady, type DialOptions } from './ready.js';

export class DialClient implements NetworkServiceElement {
  readonly name = 'dial/client';

  private readonly pool: ChannelPool;

  constructor(private readonly options: DialOptions = {}) {
    this.pool = options.pool ?? new ChannelPool();
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const url = clientURLFrom(ctx);
    let held = loadChannel(ctx);
    if (url === undefined) {
      if (held !== undefined) return next.request(request, ctx);
      throw statusError(status.FAILED_PRECONDITION, 'no URL to dial: put clienturl (or discovery) before dial');
    }
    if (held !== undefined && held.owned && held.url !== url) {
      await this.closeOldPath(request, held, ctx, next);
      held = undefined;
    }
    let dialed: HeldChannel | undefined;
    if (held === undefined) {
      dialed = await this.pool.acquire(url, ctx, this.options);
      storeChannel(ctx, dialed);
    }
    try {
      return await next.request(request, ctx);
    } catch (error) {
      if (dialed !== undefined) {
        deleteChannel(ctx);
        releaseChannel(dialed);
      }
      throw error;
    }
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    let held = loadChannel(ctx);
    const url = clientURLFrom(ctx);
    if (held === undefined && url !== undefined) {
      // No channel (for example after a restart): dial just to deliver the Close.
      held = await this.pool.acquire(url, ctx, this.options);
      storeChannel(ctx, held);
    }
    try {
      await next.close(connection, ctx);
    } finally {
      if (held !== undefined) releaseChannel(held);
      deleteChannel(ctx);
    }
  }

  private async closeOldPath(
    request: NetworkServiceRequest,
    old: HeldChannel,
    ctx: ChainContext,
    next: NetworkServiceHandler,
  ): Promise<void> {
    const conn = request.connection;
    if (conn !== undefined) {
      const [closeCtx, cancel] = ctx.withCancel(this.options.dialTimeoutMs ?? 5000);
      try {
        await next.close(conn, closeCtx);
      } catch (error) {
        ctx.logger.warn('dial: closing the old path after the URL changed failed', { url: old.url, error: errorMessage(error) });
      } finally {
        cancel();
      }
    }
    deleteChannel(ctx);
    releaseChannel(old);
  }
}

/** A `dial` element. */
export function dialClient(options: DialOptions = {}): DialClient {
  return new DialClient(options);
}
