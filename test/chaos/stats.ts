/**
 * Small helpers of the chaos run: a seeded PRNG (the kill schedule and each client's choices are
 * reproducible from the seed), percentiles, and grouping of error messages by their shape.
 * @module
 */

/** A seeded pseudo-random number generator (mulberry32): the same seed gives the same sequence. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One of `items`, each as likely as its weight. */
  weighted<T>(items: readonly T[], weight: (item: T) => number): T {
    const total = items.reduce((sum, item) => sum + weight(item), 0);
    let pick = this.next() * total;
    for (const item of items) {
      pick -= weight(item);
      if (pick < 0) return item;
    }
    const last = items.at(-1);
    if (last === undefined) throw new Error('nothing to pick from');
    return last;
  }

  /** A new generator for a sub-sequence (one client's), independent of how much this one is used later. */
  fork(salt: number): Prng {
    return new Prng(Math.imul((this.state ^ salt) >>> 0, 2654435761) ^ salt);
  }
}

/** A seed from the environment (`NSM_CHAOS_SEED`) or a random one. */
export function seedFrom(env: NodeJS.ProcessEnv): number {
  const given = env['NSM_CHAOS_SEED']?.trim();
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`NSM_CHAOS_SEED must be an integer from 0 to 4294967295, got "${given}"`);
    return seed;
  }
  return Math.floor(Math.random() * 0x100000000);
}

/** count, p50, p90, p99 and max of a list of durations (ms). */
export interface Distribution {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** The distribution of `values` (nearest-rank percentiles; all 0 for an empty list). */
export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  return { count: sorted.length, p50: rank(50), p90: rank(90), p99: rank(99), max: sorted.at(-1) ?? 0 };
}

/**
 * The shape of an error message, for grouping: ids, addresses, ports, role generations and numbers are
 * replaced, so the same failure on different connections and roles counts as one reason.
 */
export function reasonOf(message: string): string {
  return (message.split('\n')[0] ?? '')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/unix:\/\/\S+?\.sock/g, '<socket>')
    .replace(/\/\S*?\.sock\b/g, '<socket>')
    .replace(/tcp:\/\/[\d.]+:\d+|127\.0\.0\.1:\d+/g, '<tcp>')
    .replace(/\b(nsmgr|forwarder|nse|registry)(-\d+)*(-r\d+)?\b/g, '$1-*')
    .replace(/\d+(\.\d+)?/g, '#')
    .slice(0, 240);
}

/** Counts of items by key, largest first, with the first example and when the key was first and last seen. */
export class Tally {
  private readonly counts = new Map<string, { count: number; example: string; first: number; last: number }>();

  /** Counts one occurrence of `key` at `at` (seconds into the run); the first `example` of each key is kept. */
  add(key: string, example = key, at = 0): void {
    const entry = this.counts.get(key);
    if (entry === undefined) this.counts.set(key, { count: 1, example, first: at, last: at });
    else {
      entry.count++;
      entry.last = at;
    }
  }

  /** Every key with its count, first example and first and last time, the most frequent first. */
  entries(): { readonly key: string; readonly count: number; readonly example: string; readonly first: number; readonly last: number }[] {
    return [...this.counts.entries()].map(([key, e]) => ({ key, ...e })).sort((a, b) => b.count - a.count);
  }

  /** The total count. */
  get total(): number {
    let total = 0;
    for (const e of this.counts.values()) total += e.count;
    return total;
  }
}

/** Sleeps `ms`, or less when `signal` aborts (never rejects). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes; resolves with the last result. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await pause(everyMs);
  }
}
