/**
 * `timeout` (server, after `begin` and `metadata`; endpoints, managers, forwarders): closes a connection
 * whose caller has stopped refreshing it. The caller's token (the previous path segment's `expires`) says
 * how long the caller vouches for the connection; a caller that is alive requests again well before then
 * (see `refresh`), and each successful Request moves the deadline. If none comes, this element closes the
 * connection through `begin`'s event factory, so the rest of this hop's chain and the hops after it
 * release what they hold instead of leaking it for a client that is gone.
 *
 * The Close goes out a little before the token expires, at `expires - margin` with
 * `margin = max(closeMarginMs, 10% of the token's remaining lifetime at the Request)` (see
 * {@link timeoutDelay}), so that it still carries a valid token and the next hops accept it (upstream
 * sdk#1398 was about timeout Closes sent with expired tokens, which the next hop refused, leaking the
 * connection there).
 *
 * When the timer fires while a Request of the same connection is queued or running in `begin`, the Close
 * waits for it: if it succeeds it has set a new deadline and nothing is closed (upstream cancels the queued
 * Close the same way). Close cancels the timer; a failed first Request leaves none, a failed re-request
 * keeps the one it had. A connection with no previous segment, or whose previous segment has no `expires`,
 * gets no timer. Errors of the timeout Close are logged, never thrown.
 * @module
 */
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { getPrevPathSegment, millisFromTimestamp } from '../../../api/path.js';
import { ConnectionTimer } from '../../../tools/clock/index.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import type { Logger } from '../../../tools/log/index.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { ConnectionState, eventFactoryFrom, type EventFactory } from '../begin/index.js';
import { connectionMetadata, MetadataKey } from '../metadata/index.js';

/** Options of {@link TimeoutServer}. */
export interface TimeoutOptions {
  /**
   * The least time (ms) between the timeout Close and the expiry of the caller's token. Default 100.
   * The margin used is the larger of this and a tenth of the token's remaining lifetime.
   */
  readonly closeMarginMs?: number;
  /** The role's lifetime: when it ends (the role stops or dies), every pending timeout is dropped. */
  readonly signal?: AbortSignal;
}

/**
 * How long after `nowMs` to close a connection whose caller's token expires at `expiresAtMs` (ms since the
 * epoch): `expiresAt - now - max(closeMarginMs, (expiresAt - now) / 10)`, rounded down, never negative.
 */
export function timeoutDelay(expiresAtMs: number, nowMs: number, closeMarginMs = 100): number {
  const remaining = expiresAtMs - nowMs;
  const margin = Math.max(closeMarginMs, remaining / 10);
  return Math.max(0, Math.floor(remaining - margin));
}

const DEADLINE = new MetadataKey<ConnectionTimer>('timeout.deadline');

/** Resolves once every event `begin` had queued for the connection when called has settled. */
function settled(factory: EventFactory): Promise<void> {
  if (!(factory instanceof ConnectionState)) return Promise.resolve();
  return factory.queue.run(() => Promise.resolve());
}

/** The `timeout` server element. */
export class TimeoutServer implements NetworkServiceElement {
  readonly name = 'timeout';
  private readonly closeMarginMs: number;
  private readonly live = new Set<ConnectionTimer>();
  private readonly signal: AbortSignal | undefined;

  constructor(options: TimeoutOptions = {}) {
    this.closeMarginMs = Math.max(0, options.closeMarginMs ?? 100);
    this.signal = options.signal;
    this.signal?.addEventListener('abort', () => [...this.live].forEach((deadline) => deadline.stop()), { once: true });
  }

  /** Timeout timers pending now (for leak checks). */
  get size(): number {
    return this.live.size;
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    // Before next: a chain without metadata fails before anything is established downstream.
    const metadata = connectionMetadata(ctx, 'server');
    const conn = await next.request(request, ctx);
    metadata.get(DEADLINE)?.stop();
    metadata.delete(DEADLINE);
    const expires = getPrevPathSegment(conn)?.expires ?? getPrevPathSegment(request.connection)?.expires;
    if (expires === undefined || this.signal?.aborted === true) return conn;
    const factory = eventFactoryFrom(ctx);
    if (factory === undefined) {
      ctx.logger.warn('timeout: no event factory in context (put begin before timeout); no timeout', { id: conn.id });
      return conn;
    }
    const clock = ctx.clock;
    const expiresAt = millisFromTimestamp(expires);
    const deadline = new ConnectionTimer(clock, this.live);
    metadata.set(DEADLINE, deadline);
    const logger = ctx.logger;
    deadline.arm(() => void this.expire(deadline, factory, logger, expiresAt), timeoutDelay(expiresAt, clock.now(), this.closeMarginMs));
    return conn;
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const metadata = connectionMetadata(ctx, 'server');
    metadata.get(DEADLINE)?.stop();
    metadata.delete(DEADLINE);
    await next.close(connection, ctx);
  }

  /** The timer fired: once the events queued before it are done, close unless one of them renewed it. */
  private async expire(deadline: ConnectionTimer, factory: EventFactory, logger: Logger, expiresAt: number): Promise<void> {
    try {
      await settled(factory);
      if (deadline.stopped) return;
      logger.info('timeout: the caller did not refresh in time, closing', { id: factory.id, tokenExpires: new Date(expiresAt).toISOString() });
      await factory.close();
    } catch (error) {
      logger.warn('timeout: closing an expired connection failed', { id: factory.id, error: errorMessage(error) });
    }
  }
}

/** A `timeout` server element; place it after `begin` and `metadata`. */
export function timeoutServer(options?: TimeoutOptions): TimeoutServer {
  return new TimeoutServer(options);
}
