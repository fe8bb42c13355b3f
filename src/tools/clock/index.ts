/**
 * Time as the SDK sees it. Every element that waits or reads the time goes through a {@link Clock}
 * taken from the chain context, so tests can replace real time with a {@link FakeClock}.
 * @module
 */

/** An opaque handle returned by {@link Clock.setTimeout}. */
export interface TimerHandle {
  /** Identifies the timer to the clock that made it. */
  readonly id: number;
}

/** A source of time and timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds unless cleared first. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; clearing a fired or cleared timer does nothing. */
  clearTimeout(handle: TimerHandle): void;
}

/** Resolves after `ms` milliseconds of `clock` time, or rejects when `signal` aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The longest delay Node's setTimeout takes (2^31-1 ms, about 24.8 days): past it, Node warns and fires
 * after 1 ms instead. A caller's token may well expire later than that (a peer chooses its expiry).
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

class SystemClock implements Clock {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private nextId = 1;

  now(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    // Longer delays wait in steps of the longest one Node takes, each step re-armed under the same id.
    const wait = (left: number): void => {
      const step = Math.min(left, MAX_TIMER_DELAY_MS);
      const timer = setTimeout(() => {
        if (left > step) {
          wait(left - step);
          return;
        }
        this.timers.delete(id);
        fn();
      }, step);
      this.timers.set(id, timer);
    };
    wait(Number.isNaN(ms) ? 0 : Math.max(0, ms));
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.timers.get(handle.id);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(handle.id);
    }
  }

  /** Timers still pending; used by leak checks. */
  get pending(): number {
    return this.timers.size;
  }
}

/** The real clock. */
export const systemClock: Clock & {
  /** Timers still pending; used by leak checks. */
  readonly pending: number;
} = new SystemClock();

interface FakeTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when told to. Timers fire, in time order, during {@link FakeClock.advance}.
 */
export class FakeClock implements Clock {
  private current: number;
  private timers: FakeTimer[] = [];
  private nextId = 1;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { id: this.nextId++, at: this.current + Math.max(0, ms), fn };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle.id);
  }

  /** Timers not yet fired or cleared. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order (each one sees `now()` at its due time). */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = end;
  }

  /** Sets the time, firing timers due on the way. */
  set(time: number): void {
    this.advance(Math.max(0, time - this.current));
  }
}

/**
 * A one-shot timer for per-connection work (refresh, timeout): arming it again replaces the pending run,
 * and once stopped it can never run again. While pending it sits in `live`, so an element can count its
 * timers for leak checks and drop them all when its role ends.
 */
export class ConnectionTimer {
  private handle: TimerHandle | undefined;
  private done = false;

  constructor(
    private readonly clock: Clock,
    private readonly live: Set<ConnectionTimer>,
  ) {}

  /** True once stopped: nothing may be scheduled on it any more. */
  get stopped(): boolean {
    return this.done;
  }

  /** Runs `fn` after `ms`, replacing a pending run; does nothing once stopped. */
  arm(fn: () => void, ms: number): void {
    if (this.done) return;
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.live.add(this);
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      this.live.delete(this);
      fn();
    }, ms);
  }

  /** Cancels a pending run, for good. */
  stop(): void {
    this.done = true;
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    this.live.delete(this);
  }
}
