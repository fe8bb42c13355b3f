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

  /** Whether the context is cancelled (or its deadline passed), without making its signal. */
  get cancelled(): boolean {
    const source = this.source;
    return source instanceof Cancellation ? source.aborted : source.aborted;
  }

  /** Why the context was cancelled (undefined while it is not), without making its signal. */
  get cancelReason(): unknown {
    const source = this.source;
    if (source instanceof Cancellation) return source.why;
    const reason: unknown = source.aborted ? source.reason : undefined;
    return reason;
  }

  /**
   * Runs `fn` when the context is cancelled; returns a function that removes it (call it when done, so
   * long-lived signals do not collect listeners). Nothing is registered on a context that can never be
   * cancelled, so any number of calls may share a background context; nothing runs for a context
   * already cancelled (as with an AbortSignal's listeners). A context of `withCancel` keeps its
   * listeners itself, with no AbortSignal.
   */
  onCancel(fn: () => void): () => void {
    const source = this.source;
    if (source === NEVER) return noop;
    if (source instanceof Cancellation) return source.onCancel(fn);
    source.addEventListener('abort', fn, { once: true });
    return () => source.removeEventListener('abort', fn);
  }

  /** Throws the abort reason if the context is cancelled. */
  throwIfAborted(): void {
    if (this.cancelled) {
      const reason = this.cancelReason;
      throw reason instanceof Error ? reason : new Error('context cancelled');
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

/**
 * Runs `make` with stack capture off. For errors made once per call or connection whose message says
 * all there is to say (cancellation reasons, grpc-js's per-call caller stack): capturing a stack costs
 * more than the rest of the work.
 */
export function withoutStackTrace<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** An Error without a stack trace, for aborting a signal with: the message says why. */
export function abortReason(message: string): Error {
  return withoutStackTrace(() => new Error(message));
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
 * The cancellation state of a context made by `withCancel`, made as cheap as the use allows:
 * - not used: a flag. Whether it is cancelled is worked out when asked (its own cancel, its parent,
 *   its deadline), so a served call nobody watches costs no timer, no listener and no error object;
 * - `onCancel` listeners: kept in a set, with the deadline's timer and one listener on the parent;
 * - `signal` asked for: an AbortController besides, aborted with the same reason.
 */
class Cancellation {
  private done = false;
  private reason: unknown;
  private armed = false;
  private timer: TimerHandle | undefined;
  private unhookParent: (() => void) | undefined;
  private listeners: Set<() => void> | undefined;
  private controller: AbortController | undefined;

  constructor(
    private readonly parent: ChainContext,
    private readonly deadline: number | undefined,
    private readonly clock: Clock,
  ) {}

  /** Cancelled, by itself, its parent or its deadline (checked now when nothing watches for them). */
  get aborted(): boolean {
    if (!this.done && !this.armed) {
      if (this.parent.cancelled) this.cancel(this.parent.cancelReason);
      else if (this.deadline !== undefined && this.deadline <= this.clock.now()) this.cancel(new DeadlineExceededError());
    }
    return this.done;
  }

  /** The reason, once cancelled. */
  get why(): unknown {
    if (!this.aborted) return undefined;
    this.reason ??= new CancelledError();
    return this.reason;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.why);
      else this.arm();
    }
    return this.controller.signal;
  }

  onCancel(fn: () => void): () => void {
    if (this.aborted) return noop;
    this.arm();
    const listeners = (this.listeners ??= new Set());
    listeners.add(fn);
    return () => void listeners.delete(fn);
  }

  cancel(reason?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.reason = reason;
    this.unhookParent?.();
    this.unhookParent = undefined;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const listeners = this.listeners;
    this.listeners = undefined;
    // Nobody waits (listeners come and go with each outgoing call): no reason object is made.
    if (this.controller === undefined && (listeners === undefined || listeners.size === 0)) return;
    const why = this.why;
    this.controller?.abort(why);
    for (const fn of listeners ?? []) fn();
  }

  /** From now on someone waits: the deadline gets its timer, and the parent's cancel reaches this one. */
  private arm(): void {
    if (this.armed || this.done) return;
    this.armed = true;
    if (this.deadline !== undefined) {
      this.timer = this.clock.setTimeout(() => this.cancel(new DeadlineExceededError()), Math.max(0, this.deadline - this.clock.now()));
    }
    this.unhookParent = this.parent.onCancel(() => this.cancel(this.parent.cancelReason));
  }
}
