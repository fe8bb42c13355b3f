/**
 * `retry` (client, in front of a client chain): a Request that fails is sent again after `intervalMs`
 * until it succeeds, the caller's context is cancelled or its deadline passes, or the retry budget
 * (`timeoutMs`) is used up. A client started before its manager, or talking to a manager that restarts,
 * then gets its connection once the other side is up instead of failing at once. Close is retried the
 * same way (best effort: a Close that never gets through leaves the next hop to time the connection out).
 *
 * It goes first, before the client chain, so that every try runs the whole chain again (path, token,
 * dial, connect):
 *
 * ```ts
 * const client = chain(retryClient(), clientChain({ connectTo }));
 * ```
 *
 * Each try gets a fresh copy of the request (the chain may have changed the one it was given before
 * failing) and a context limited by `tryTimeoutMs` and by what is left of the budget. Nothing is retried
 * once the caller's context is aborted. When it gives up, the error is the last try's, unchanged (a gRPC
 * status error keeps its code). Refreshes started by `refresh` begin after this element and are not
 * retried by it: `refresh` has its own retries.
 * @module
 */
import { Connection } from '../../../api/gen/connection.js';
import { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { sleep } from '../../../tools/clock/index.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';

/** Options of {@link RetryClient}. */
export interface RetryClientOptions {
  /** Pause between a failed try and the next (ms). Default 200. */
  readonly intervalMs?: number;
  /**
   * The whole budget (ms): no try starts after it, and a try running when it ends is cancelled. The
   * caller's own deadline, when earlier, ends it first. Default 15000.
   */
  readonly timeoutMs?: number;
  /** The time limit of one try (ms). Default: none beyond the budget. */
  readonly tryTimeoutMs?: number;
}

/** The `retry` client element. */
export class RetryClient implements NetworkServiceElement {
  readonly name = 'retry';
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly tryTimeoutMs: number;

  constructor(options: RetryClientOptions = {}) {
    this.intervalMs = Math.max(0, options.intervalMs ?? 200);
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.tryTimeoutMs = options.tryTimeoutMs ?? Number.POSITIVE_INFINITY;
  }

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    return this.tryUntilDone('request', ctx, (tryCtx) => next.request(NetworkServiceRequest.fromPartial(request), tryCtx));
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return this.tryUntilDone('close', ctx, (tryCtx) => next.close(Connection.fromPartial(connection), tryCtx));
  }

  private async tryUntilDone<T>(what: string, ctx: ChainContext, attempt: (ctx: ChainContext) => Promise<T>): Promise<T> {
    const clock = ctx.clock;
    let end = clock.now() + this.timeoutMs;
    if (ctx.deadline !== undefined) end = Math.min(end, ctx.deadline);
    for (let tries = 1; ; tries++) {
      const limit = Math.max(0, Math.min(this.tryTimeoutMs, end - clock.now()));
      const [tryCtx, cancel] = Number.isFinite(limit) ? ctx.withCancel(limit) : ctx.withCancel();
      let failure: unknown;
      try {
        return await attempt(tryCtx);
      } catch (error) {
        failure = error;
      } finally {
        cancel();
      }
      if (ctx.signal.aborted || clock.now() + this.intervalMs >= end) {
        ctx.logger.debug(`retry: ${what} failed, giving up`, { tries, error: errorMessage(failure) });
        throw failure;
      }
      ctx.logger.debug(`retry: ${what} failed, trying again`, { tries, retryInMs: this.intervalMs, error: errorMessage(failure) });
      try {
        await sleep(clock, this.intervalMs, ctx.signal);
      } catch {
        // Cancelled while waiting: the caller learns why the last try failed.
        throw failure;
      }
    }
  }
}

/**
 * A `retry` client element. Put it in front of the client chain: `chain(retryClient(), clientChain(...))`.
 */
export function retryClient(options?: RetryClientOptions): RetryClient {
  return new RetryClient(options);
}
