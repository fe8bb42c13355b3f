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
 * once the caller's context is cancelled. Each failed try is logged at info (connection id, service,
 * reason) and given to `onAttemptFailed`. When time runs out (the budget or the caller's deadline), the
 * answer is DEADLINE_EXCEEDED whose message carries the last real reason (a try cut short by the deadline
 * says only "cancelled"; the one before it said why); when the caller cancels, the last try's error is
 * passed on unchanged. A refusal (PERMISSION_DENIED from `authorize`, UNAUTHENTICATED from mTLS) is
 * not retried: it is passed on at once. Refreshes started by `refresh` begin after this element and are not retried by
 * it: `refresh` has its own retries.
 * @module
 */
import { Connection } from '../../../api/gen/connection.js';
import { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { sleep } from '../../../tools/clock/index.js';
import { errorMessage, hasStatusCode, isRefusal, status, statusError } from '../../../tools/grpc/status.js';
import { DeadlineExceededError, type ChainContext } from '../../core/context.js';
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
  /** Told of every failed try (for a command line that prints each reason, or metrics). */
  readonly onAttemptFailed?: (failure: AttemptFailure) => void;
}

/** One failed try, as {@link RetryClientOptions.onAttemptFailed} sees it. */
export interface AttemptFailure {
  /** `request` or `close`. */
  readonly what: 'request' | 'close';
  /** The connection id (empty for a first request that had none). */
  readonly id: string;
  /** The network service asked for. */
  readonly networkService: string;
  /** Which try this was, from 1. */
  readonly attempt: number;
  /** What it failed with. */
  readonly error: unknown;
  /** True when no further try follows. */
  readonly final: boolean;
}

/** Codes a try gets when it was cut short, not refused: they say nothing of why the earlier tries failed. */
const CUT_SHORT: readonly number[] = [status.CANCELLED, status.DEADLINE_EXCEEDED];

/** The `retry` client element. */
export class RetryClient implements NetworkServiceElement {
  readonly name = 'retry';
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly tryTimeoutMs: number;
  private readonly onAttemptFailed: ((failure: AttemptFailure) => void) | undefined;

  constructor(options: RetryClientOptions = {}) {
    this.onAttemptFailed = options.onAttemptFailed;
    this.intervalMs = Math.max(0, options.intervalMs ?? 200);
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.tryTimeoutMs = options.tryTimeoutMs ?? Number.POSITIVE_INFINITY;
  }

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    const about = { id: conn?.id ?? '', networkService: conn?.networkService ?? '' };
    return this.tryUntilDone('request', about, ctx, (tryCtx) => next.request(NetworkServiceRequest.fromPartial(request), tryCtx));
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const about = { id: connection.id, networkService: connection.networkService };
    return this.tryUntilDone('close', about, ctx, (tryCtx) => next.close(Connection.fromPartial(connection), tryCtx));
  }

  private async tryUntilDone<T>(
    what: 'request' | 'close',
    about: { readonly id: string; readonly networkService: string },
    ctx: ChainContext,
    attempt: (ctx: ChainContext) => Promise<T>,
  ): Promise<T> {
    const clock = ctx.clock;
    const started = clock.now();
    let end = started + this.timeoutMs;
    if (ctx.deadline !== undefined) end = Math.min(end, ctx.deadline);
    let lastReal: unknown;
    for (let tries = 1; ; tries++) {
      const limit = Math.max(0, Math.min(this.tryTimeoutMs, end - clock.now()));
      const [tryCtx, cancel] = Number.isFinite(limit) ? ctx.withCancel(limit) : ctx.withCancel();
      let failure: unknown;
      try {
        return await attempt(tryCtx);
      } catch (error) {
        failure = error;
        if (!(hasStatusCode(error) && CUT_SHORT.includes(error.code)) || lastReal === undefined) lastReal = error;
      } finally {
        cancel();
      }
      const callerCancelled = ctx.signal.aborted && !(ctx.signal.reason instanceof DeadlineExceededError);
      const final = ctx.signal.aborted || clock.now() + this.intervalMs >= end;
      this.report(what, about, tries, failure, final, ctx);
      if (callerCancelled) throw failure;
      // A refusal is an answer, not a failure: asking again gets the same one, and the caller should see why.
      if (isRefusal(failure)) throw failure;
      if (final) throw this.outOfTime(what, tries, clock.now() - started, lastReal);
      try {
        await sleep(clock, this.intervalMs, ctx.signal);
      } catch {
        if (!(ctx.signal.reason instanceof DeadlineExceededError)) throw failure;
        throw this.outOfTime(what, tries, clock.now() - started, lastReal);
      }
    }
  }

  private report(
    what: 'request' | 'close',
    about: { readonly id: string; readonly networkService: string },
    attempt: number,
    error: unknown,
    final: boolean,
    ctx: ChainContext,
  ): void {
    ctx.logger.info(
      `retry: ${what} ${about.id === '' ? '' : `of connection ${about.id} `}for ${JSON.stringify(about.networkService)} failed (try ${attempt}${final ? ', giving up' : ''}): ${errorMessage(error)}`,
    );
    this.onAttemptFailed?.({ what, ...about, attempt, error, final });
  }

  /** DEADLINE_EXCEEDED naming how long and how often it tried, and the last real reason. */
  private outOfTime(what: string, tries: number, elapsedMs: number, lastReal: unknown): Error {
    const reason = lastReal === undefined ? '' : `: ${errorMessage(lastReal)}`;
    return statusError(status.DEADLINE_EXCEEDED, `${what} gave up after ${tries} tries in ${Math.round(elapsedMs)} ms${reason}`, lastReal);
  }
}

/**
 * A `retry` client element. Put it in front of the client chain: `chain(retryClient(), clientChain(...))`.
 */
export function retryClient(options?: RetryClientOptions): RetryClient {
  return new RetryClient(options);
}
