/** Waiting in tests for asynchronous effects: polling a condition, and recording what a stream emits. */
import type { Subscription } from 'rxjs';

/** Resolves when `predicate` holds, polling (real time) up to `ms`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Collects what a subscription emits. */
export function record<T>(source: { subscribe(observer: { next(v: T): void; error(e: unknown): void }): Subscription }): {
  events: T[];
  errors: unknown[];
  subscription: Subscription;
} {
  const events: T[] = [];
  const errors: unknown[] = [];
  const subscription = source.subscribe({ next: (v) => events.push(v), error: (e) => errors.push(e) });
  return { events, errors, subscription };
}
