/**
 * `dial`: opens one gRPC channel per connection to the URL in the context (see `clienturl`), waits until it
 * is ready, and holds it for the connection (see `clientconn`). When a refresh goes to another URL (the
 * next hop moved) it closes the old path through the old channel, best effort, and closes that channel
 * before dialing the new one. The channel is closed on Close, and when the request it was opened for fails.
 * @module
 */
import { Client, connectivityState, credentials as grpcCredentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { grpcTarget, parseAddress } from '../../../tools/grpc/address.js';
import { errorMessage, statusError, status } from '../../../tools/grpc/status.js';
import { clientURLFrom } from '../clienturl/index.js';
import { deleteChannel, loadChannel, storeChannel, type HeldChannel } from '../clientconn/index.js';

/** Options of {@link DialClient}. */
export interface DialOptions {
  /** Channel credentials; insecure by default. */
  readonly credentials?: ChannelCredentials;
  /** How long to wait for a channel to become ready (ms); also bounded by the context deadline. Default 5000. */
  readonly dialTimeoutMs?: number;
  /** Extra grpc-js channel options. */
  readonly channelOptions?: ChannelOptions;
  /**
   * Fail at once when the peer refuses the connection (default true). False waits for a peer that is not
   * listening yet, up to the dial timeout, as grpc-js's waitForReady does.
   */
  readonly failFast?: boolean;
  /** Records every channel opened, so a role that dies at once (a test's kill) can close what it holds. */
  readonly tracker?: ChannelTracker;
}

/**
 * The channels one role opened. Channels are closed by the elements that hold them; the tracker only
 * closes what is left when the whole role goes away without closing its connections (a crash in a test).
 */
export class ChannelTracker {
  private readonly channels = new Set<Client>();
  /** Size at which closed channels are next swept out: sweeping on every dial would cost O(n) per dial. */
  private sweepAt = 64;

  /** Records `client`; now and then forgets the channels closed since. */
  add(client: Client): void {
    this.channels.add(client);
    if (this.channels.size < this.sweepAt) return;
    for (const c of this.channels) {
      if (c.getChannel().getConnectivityState(false) === connectivityState.SHUTDOWN) this.channels.delete(c);
    }
    this.sweepAt = Math.max(64, this.channels.size * 2);
  }

  /** Channels still open. */
  get size(): number {
    let open = 0;
    for (const c of this.channels) if (c.getChannel().getConnectivityState(false) !== connectivityState.SHUTDOWN) open++;
    return open;
  }

  /** Closes every channel still open. */
  closeAll(): void {
    for (const c of this.channels) c.close();
    this.channels.clear();
  }
}

/**
 * Opens a channel to `url` and waits until it is ready. A peer that refuses (nothing listens on the port,
 * no socket file) fails at once with UNAVAILABLE naming the URL, instead of waiting out the timeout: the
 * caller (roundrobin, discoverforwarder, heal, retry) can go on to another candidate while there is time.
 * A peer that accepts but does not answer yet (still starting) is waited for, up to the dial timeout.
 */
export async function dialChannel(url: string, ctx: ChainContext, options: DialOptions = {}): Promise<Client> {
  const target = grpcTarget(parseAddress(url));
  const client = new Client(target, options.credentials ?? grpcCredentials.createInsecure(), {
    // A unix socket peer has no real authority; keep grpc-js from deriving one from the path.
    'grpc.default_authority': 'localhost',
    // Its own transport, as upstream's per-connection ClientConn has: grpc-js would otherwise share one
    // HTTP/2 session among all channels to a peer, and every Close cancels that connection's monitor
    // stream (an RST_STREAM), so busy peers would trip HTTP/2's rapid-reset protection (GOAWAY).
    'grpc.use_local_subchannel_pool': 1,
    ...options.channelOptions,
  });
  options.tracker?.add(client);
  const timeout = Math.max(0, Math.min(options.dialTimeoutMs ?? 5000, ctx.remaining() ?? Number.POSITIVE_INFINITY));
  try {
    await waitUntilReady(client, url, timeout, ctx, options.failFast ?? true);
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}

/** Resolves when `client` is READY; rejects on refusal (when `failFast`), on shutdown, timeout or cancel. */
function waitUntilReady(client: Client, url: string, timeoutMs: number, ctx: ChainContext, failFast: boolean): Promise<void> {
  const channel = client.getChannel();
  const deadline = Date.now() + timeoutMs;
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      removeCancel();
      if (error === undefined) resolve();
      else reject(error);
    };
    const removeCancel = ctx.onCancel(() => finish(statusError(status.CANCELLED, `dial ${url}: cancelled`)));
    const check = (): void => {
      if (done) return;
      const state = channel.getConnectivityState(true);
      if (state === connectivityState.READY) return finish();
      if (state === connectivityState.SHUTDOWN) return finish(statusError(status.UNAVAILABLE, `dial ${url}: channel closed`));
      if (state === connectivityState.TRANSIENT_FAILURE && failFast) {
        return finish(statusError(status.UNAVAILABLE, `dial ${url}: connection refused (nothing is serving there)`));
      }
      channel.watchConnectivityState(state, deadline, (error) => {
        if (error !== undefined && error !== null) finish(statusError(status.UNAVAILABLE, `dial ${url}: not ready within ${timeoutMs} ms`));
        else check();
      });
    };
    check();
  });
}

export class DialClient implements NetworkServiceElement {
  readonly name = 'dial/client';

  constructor(private readonly options: DialOptions = {}) {}

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
      dialed = { client: await dialChannel(url, ctx, this.options), url, owned: true };
      storeChannel(ctx, dialed);
    }
    try {
      return await next.request(request, ctx);
    } catch (error) {
      if (dialed !== undefined) {
        deleteChannel(ctx);
        dialed.client.close();
      }
      throw error;
    }
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    let held = loadChannel(ctx);
    const url = clientURLFrom(ctx);
    if (held === undefined && url !== undefined) {
      // No channel (for example after a restart): dial just to deliver the Close.
      held = { client: await dialChannel(url, ctx, this.options), url, owned: true };
      storeChannel(ctx, held);
    }
    try {
      await next.close(connection, ctx);
    } finally {
      if (held?.owned === true) held.client.close();
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
    old.client.close();
  }
}

/** A `dial` element. */
export function dialClient(options: DialOptions = {}): DialClient {
  return new DialClient(options);
}
