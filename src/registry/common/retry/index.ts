/**
 * `retry` for registry clients: a Register or Unregister that fails is tried again after an interval
 * until it succeeds or the caller's context ends (its deadline, its cancellation). Each try gets its own
 * time limit, so one hung attempt does not use up the whole budget. A refusal (PERMISSION_DENIED,
 * UNAUTHENTICATED) is final: asking again would get the same answer, and the caller should see the reason,
 * not a deadline. Finds pass through (`heal` restarts watches).
 * @module
 */
import type { ChainContext } from '../../../networkservice/core/context.js';
import { sleep } from '../../../tools/clock/index.js';
import { errorMessage, isRefusal } from '../../../tools/grpc/status.js';
import type { RegistryHandler } from '../../core/types.js';
import { NullRegistry } from '../null/index.js';

/** Options of {@link RetryRegistry}. */
export interface RetryOptions {
  /** Pause between tries (ms); default 200. */
  readonly intervalMs?: number;
  /** Time limit of one try (ms); default 15000. */
  readonly tryTimeoutMs?: number;
}

/** The registry `retry` client element. */
export class RetryRegistry<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'retry';
  private readonly intervalMs: number;
  private readonly tryTimeoutMs: number;

  constructor(options: RetryOptions = {}) {
    super();
    this.intervalMs = options.intervalMs ?? 200;
    this.tryTimeoutMs = options.tryTimeoutMs ?? 15_000;
  }

  private async tryUntilDone<T>(what: string, ctx: ChainContext, attempt: (ctx: ChainContext) => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      const [tryCtx, cancel] = ctx.withCancel(this.tryTimeoutMs);
      try {
        return await attempt(tryCtx);
      } catch (error) {
        if (ctx.signal.aborted || isRefusal(error)) throw error;
        ctx.logger.debug(`registry ${what} failed, retrying`, { tries, error: errorMessage(error) });
      } finally {
        cancel();
      }
      try {
        await sleep(ctx.clock, this.intervalMs, ctx.signal);
      } catch {
        ctx.throwIfAborted();
      }
    }
  }

  override register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    return this.tryUntilDone('register', ctx, (c) => next.register(item, c));
  }

  override unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    return this.tryUntilDone('unregister', ctx, (c) => next.unregister(item, c));
  }
}

/** A registry `retry` element. */
export function retryRegistry<R, Q>(options?: RetryOptions): RetryRegistry<R, Q> {
  return new RetryRegistry(options);
}
