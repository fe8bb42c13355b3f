/**
 * The request context that travels through a chain: cancellation (an AbortSignal and a deadline),
 * typed values, a logger and a clock. Nothing global: whatever an element needs from outside it
 * takes from here, so tests can inject a fake clock or a capturing logger.
 *
 * A context is an immutable linked list: `withValue` makes one small node that points at its parent,
 * and only where a value is really added, so a request does not allocate a context per element.
 * @module
 */
import { type Clock, systemClock, type TimerHandle } from '../../tools/clock/index.js';
import { type Logger, silentLogger } from '../../tools/log/index.js';

/** A typed key for a context value. Keys compare by identity, so two keys never collide. */
export class ContextKey<T> {
  /** Phantom field so that keys of different types do not mix. */
  declare readonly __type?: T;
  constructor(
    /** A name for debugging only; it plays no part in lookups. */
    readonly description: string,
  ) {}
}

/** The clock of a context; defaults to the system clock. */
export const CLOCK = new ContextKey<Clock>('clock');
/** The logger of a context; defaults to a silent logger. */
export const LOGGER = new ContextKey<Logger>('logger');

const NEVER = new AbortController().signal;
const noop = (): void => undefined;

/** A cancel function returned with a derived context; always call it when done to free timers and listeners. */
export type CancelFunc = (reason?: unknown) => void;

/**
 * What travels with a request through a chain: cancellation (`signal`, `deadline`), a clock, a logger, and
 * typed values added by elements. Immutable: `withValue`, `withSignal`, `withCancel` and `detach` return
 * children.
 */
export class ChainContext {
  private constructor(
    private readonly parent: ChainContext | undefined,
    private readonly key: ContextKey<unknown> | undefined,
    private readonly stored: unknown,
    private readonly source: AbortSignal | Cancellation,
    /** Deadline in clock milliseconds since the epoch, if any. */
    readonly deadline: number | undefined,
  ) {}

  /** Aborted when the operation is cancelled or its deadline passes. */
  get signal(): AbortSignal {
    const source = this.source;
    return source instanceof Cancellation ? source.signal : source;
  }

  /** A root context: never cancelled, no deadline, with an optional clock and logger. */
  static background(options: { clock?: Clock; logger?: Logger } = {}): ChainContext {
    let ctx = new ChainContext(undefined, undefined, undefined, NEVER, undefined);
    if (options.clock !== undefined) ctx = ctx.withValue(CLOCK, options.clock);
    if (options.logger !== undefined) ctx = ctx.withValue(LOGGER, options.logger);
    return ctx;
  }

  /** The value stored under `key` here or in an ancestor, nearest first. */
  value<T>(key: ContextKey<T>): T | undefined {
    for (let node: ChainContext | undefined = this; node !== undefined; node = node.parent) {
      if (node.key === key) return node.stored as T;
    }
    return undefined;
  }

  /** A child context with `key` set to `value`; same signal and deadline. */
  withValue<T>(key: ContextKey<T>, value: T): ChainContext {
    return new ChainContext(this, key, value, this.source, this.deadline);
  }

  /** A child context with another signal (and optionally deadline), same values. */
  withSignal(signal: AbortSignal, ...deadline: [number | undefined] | []): ChainContext {
    // A rest parameter, not a default: an explicit `undefined` must clear the deadline.
    return new ChainContext(this, undefined, undefined, signal, deadline.length === 0 ? this.deadline : deadline[0]);
  }

  /** The clock to use; the system clock unless one was injected. */
  get clock(): Clock {
    return this.value(CLOCK) ?? systemClock;
  }

  /** The logger to use; silent unless one was injected. */
  get logger(): Logger {
    return this.value(LOGGER) ?? silentLogger;
  }

  /** Milliseconds left before the deadline (may be negative), or undefined without one. */
  remaining(): number | undefined {
    return this.deadline === undefined ? undefined : this.deadline - this.clock.now();
  }

  /**
   * Runs `fn` when the context is cancelled; returns a function that removes it (call it when done, so
   * long-lived signals do not collect listeners). Nothing is registered on a context that can never be
   * cancelled, so any number of calls may share a background context.
   */
  onCancel(fn: () => void): () => void {
    if (this.source === NEVER) return noop;
    const signal = this.signal;
    signal.addEventListener('abort', fn, { once: true });
    return () => signal.removeEventListener('abort', fn);
  }

  /** Throws the abort reason if the context is cancelled. */
  throwIfAborted(): void {
    if (this.signal.aborted) {
      throw this.signal.reason instanceof Error ? this.signal.reason : new Error('context cancelled');
    }
  }

  /**
   * A child that is cancelled when this one is, when `cancel` is called, or when `timeoutMs` passes
   * (measured on this context's clock). Call `cancel` when done: it removes the listener and timer.
   *
   * The child's AbortSignal, its timer and its listener on the parent are made only when someone asks
   * for the signal (an outgoing call, `onCancel`, `throwIfAborted`): most calls served by an endpoint
   * never do, and they then cost no AbortController, no timer and no error object.
   */
  withCancel(timeoutMs?: number): [ChainContext, CancelFunc] {
    const clock = this.clock;
    let deadline = this.deadline;
    if (timeoutMs !== undefined) {
      const own = clock.now() + timeoutMs;
      deadline = deadline === undefined ? own : Math.min(deadline, own);
    }
    const cancellation = new Cancellation(this, deadline, clock);
    return [new ChainContext(this, undefined, undefined, cancellation, deadline), (reason?: unknown) => cancellation.cancel(reason)];
  }

  /**
   * The same values with a fresh, never-cancelled signal and no deadline. Used by work that outlives
   * the call that started it (refresh, heal, an event factory re-running a request later).
   */
  detach(): ChainContext {
    return this.withSignal(NEVER, undefined);
  }
}

/** The reason of a context cancelled by its deadline. */
export class DeadlineExceededError extends Error {
  constructor() {
    // No stack trace: a cancellation reason says what happened; where the timer or the caller's cancel
    // ran tells nothing, and capturing it costs more than the rest of a served call.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super('context deadline exceeded');
    Error.stackTraceLimit = limit;
    this.name = 'DeadlineExceededError';
  }
}

/** The reason of a context cancelled explicitly. */
export class CancelledError extends Error {
  constructor() {
    // No stack trace, as above.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super('context cancelled');
    Error.stackTraceLimit = limit;
    this.name = 'CancelledError';
  }
}

/**
 * The cancellation state of a context made by `withCancel`. Until someone asks for its signal it is
 * only a flag; asking makes the AbortController, aborted at once when the context was cancelled (or its
 * parent was, or its deadline passed) in the meantime, and otherwise armed with the deadline's timer
 * and a listener on the parent's signal.
 */
class Cancellation {
  private controller: AbortController | undefined;
  private cancelled = false;
  private reason: unknown;
  private timer: TimerHandle | undefined;
  private parentSignal: AbortSignal | undefined;

  constructor(
    private readonly parent: ChainContext,
    private readonly deadline: number | undefined,
    private readonly clock: Clock,
  ) {}

  get signal(): AbortSignal {
    return (this.controller ?? this.arm()).signal;
  }

  cancel(reason?: unknown): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.reason = reason;
    if (this.parentSignal !== undefined) this.parentSignal.removeEventListener('abort', this.onParentAbort);
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.controller?.abort(reason ?? new CancelledError());
  }

  private readonly onParentAbort = (): void => this.cancel(this.parentSignal?.reason);

  private arm(): AbortController {
    const controller = new AbortController();
    this.controller = controller;
    if (this.cancelled) {
      controller.abort(this.reason ?? new CancelledError());
      return controller;
    }
    const parentSignal = this.parent.signal;
    if (parentSignal.aborted) {
      this.cancel(parentSignal.reason);
      return controller;
    }
    if (this.deadline !== undefined) {
      const left = this.deadline - this.clock.now();
      if (left <= 0) {
        this.cancel(new DeadlineExceededError());
        return controller;
      }
      this.timer = this.clock.setTimeout(() => this.cancel(new DeadlineExceededError()), left);
    }
    if (parentSignal !== NEVER) {
      this.parentSignal = parentSignal;
      parentSignal.addEventListener('abort', this.onParentAbort, { once: true });
    }
    return controller;
  }
}
