/**
 * `refresh` (client, after `begin` and `metadata`): keeps a connection alive by requesting it again
 * before its tokens expire. Every hop of an NSM path holds a token with an expiry, and a hop drops the
 * connection when its caller's token runs out (see `timeout`), so a client that asked once and went quiet
 * would lose its connection. After every successful Request this element sets a timer on the context's
 * clock and, when it fires, re-runs the request from the start of the chain through `begin`'s event
 * factory (so the refresh queues behind the peer's own calls and passes through this element again,
 * which schedules the next one).
 *
 * When: the shortest remaining lifetime over the path's segments, scaled as upstream does (see
 * {@link refreshDelay}): a third of it for a one-segment path, otherwise 0.2 + 0.2 · index / length of
 * it, so hops nearer the client refresh a little earlier than those behind them and one refresh from the
 * front usually renews the whole path before the inner hops' own timers fire.
 *
 * A refresh that fails is tried again every `retryDelayMs` while the shortest token would still be valid
 * at the next try, each failure logged as a warning; then it gives up (logged as an error) and the
 * connection is left to expire. Close cancels the timer, and so does a newer successful Request (which
 * schedules its own). A failed first Request schedules nothing; a failed re-request keeps the timer it
 * had. Segments without `expires` are ignored; a path with no expiry at all is not refreshed.
 * @module
 */
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { millisFromTimestamp } from '../../../api/path.js';
import { ConnectionTimer, type Clock } from '../../../tools/clock/index.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import type { Logger } from '../../../tools/log/index.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { eventFactoryFrom, type EventFactory } from '../begin/index.js';
import { connectionMetadata, MetadataKey } from '../metadata/index.js';

/** Options of {@link RefreshClient}. */
export interface RefreshOptions {
  /** Pause before trying a failed refresh again (ms). Default 200. */
  readonly retryDelayMs?: number;
  /** The shortest delay before a refresh (ms), a floor for the computed one. Default 0. */
  readonly minDelayMs?: number;
}

/** The earliest `expires` over the path's segments (ms since the epoch), or undefined when none has one. */
function earliestExpiry(conn: Connection): number | undefined {
  let earliest: number | undefined;
  for (const segment of conn.path?.pathSegments ?? []) {
    if (segment.expires === undefined) continue;
    const expires = millisFromTimestamp(segment.expires);
    if (earliest === undefined || expires < earliest) earliest = expires;
  }
  return earliest;
}

/**
 * How long after `nowMs` the connection should be refreshed (ms), or undefined when no segment of its path
 * has an expiry. With `shortest` the least remaining lifetime over the segments that have one, the delay is
 * `shortest / 3` for a one-segment path and `shortest · (0.2 + 0.2 · index / length)` otherwise (`index` is
 * `path.index`, `length` the number of segments), rounded down. An already expired token gives 0.
 */
export function refreshDelay(conn: Connection, nowMs: number): number | undefined {
  const earliest = earliestExpiry(conn);
  if (earliest === undefined) return undefined;
  const shortest = earliest - nowMs;
  if (shortest <= 0) return 0;
  const length = conn.path?.pathSegments.length ?? 0;
  if (length <= 1) return Math.floor(shortest / 3);
  const index = conn.path?.index ?? 0;
  // 0.2 + 0.2·i/n written as one fraction, (n + i) / 5n, so whole results stay whole.
  return Math.floor((shortest * (length + index)) / (5 * length));
}

const SCHEDULE = new MetadataKey<ConnectionTimer>('refresh.schedule');

/** What a timer needs to refresh one connection. */
interface Target {
  readonly schedule: ConnectionTimer;
  readonly factory: EventFactory;
  readonly clock: Clock;
  readonly logger: Logger;
  /** When the shortest token of the connection as last refreshed expires (ms since the epoch). */
  readonly expiresAt: number;
}

/** The `refresh` client element. */
export class RefreshClient implements NetworkServiceElement {
  readonly name = 'refresh';
  private readonly retryDelayMs: number;
  private readonly minDelayMs: number;
  private readonly live = new Set<ConnectionTimer>();

  constructor(options: RefreshOptions = {}) {
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.minDelayMs = options.minDelayMs ?? 0;
  }

  /** Refresh timers pending now (for leak checks). */
  get size(): number {
    return this.live.size;
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    // Before next: a chain without metadata fails before anything is established downstream.
    const metadata = connectionMetadata(ctx, 'client');
    const conn = await next.request(request, ctx);
    metadata.get(SCHEDULE)?.stop();
    metadata.delete(SCHEDULE);
    const factory = eventFactoryFrom(ctx);
    const clock = ctx.clock;
    const delay = refreshDelay(conn, clock.now());
    const expiresAt = earliestExpiry(conn);
    if (delay === undefined || expiresAt === undefined) return conn;
    if (factory === undefined) {
      ctx.logger.warn('refresh: no event factory in context (put begin before refresh); not refreshing', { id: conn.id });
      return conn;
    }
    const schedule = new ConnectionTimer(clock, this.live);
    metadata.set(SCHEDULE, schedule);
    const target: Target = { schedule, factory, clock, logger: ctx.logger, expiresAt };
    schedule.arm(() => this.refresh(target), Math.max(this.minDelayMs, delay));
    return conn;
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const metadata = connectionMetadata(ctx, 'client');
    metadata.get(SCHEDULE)?.stop();
    metadata.delete(SCHEDULE);
    await next.close(connection, ctx);
  }

  /** Requests again; a success has already been rescheduled by {@link request}, a failure is retried here. */
  private refresh(target: Target): void {
    const { schedule, factory, clock, logger, expiresAt } = target;
    // Bounded by the token: a refresh that hangs past it is useless, and would hold up a Close behind it.
    factory.request({ timeoutMs: Math.max(1, expiresAt - clock.now()) }).then(
      () => undefined,
      (error: unknown) => {
        // Closed, or replaced by a newer request, while this refresh waited or ran.
        if (schedule.stopped) return;
        const now = clock.now();
        if (now + this.retryDelayMs >= expiresAt) {
          schedule.stop();
          logger.error('refresh: giving up, the token expires before another try', {
            id: factory.id,
            expiresInMs: expiresAt - now,
            error: errorMessage(error),
          });
          return;
        }
        logger.warn('refresh failed, trying again', { id: factory.id, retryInMs: this.retryDelayMs, error: errorMessage(error) });
        schedule.arm(() => this.refresh(target), this.retryDelayMs);
      },
    );
  }
}

/** A `refresh` client element; place it after `begin` and `metadata`. */
export function refreshClient(options?: RefreshOptions): RefreshClient {
  return new RefreshClient(options);
}
