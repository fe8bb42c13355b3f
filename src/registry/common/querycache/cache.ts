/**
 * The registry `querycache` element, for either resource (see the `querycache` module for what it is for
 * and where the prebuilt chains put it).
 *
 * An entry is made per query filter (the protobuf encoding of the query's item) by the first Find with
 * that filter, one-shot or watching. Making it opens one watching Find with that filter through the rest
 * of the chain, on a detached context: the entry's *view* is what that watch has reported (an update
 * replaces the item of that name or adds it, a deletion removes it), and every later Find with the same
 * filter is served from it:
 *
 * - A one-shot Find is answered from the view once the view is known to be *complete*, with no call
 *   through the chain. Until then it goes through the chain (the watch alone cannot tell when its first
 *   snapshot is over), and when it completes, the items it returned that the watch has not reported
 *   yet are added to the view, which is then complete. A filter with a name matches one item at most,
 *   so its view is complete as soon as the watch has reported that item (or its deletion).
 * - A watching Find gets the view as its snapshot, then every change the entry's watch reports: the
 *   watchers of a filter, however many, share one watch.
 *
 * The watch is opened before the first one-shot Find is sent, so a change the Find's answer misses is
 * still reported by the watch; the watch's news about an item wins over the Find's answer.
 *
 * An entry ends, with its watch, when the watch fails (its watchers get the error, as they would have
 * from a watch of their own: they reopen or give up as before), when the watch ends (watchers complete),
 * when nobody has used it for `expireTimeoutMs` and no watcher is attached, when it is the one unused
 * longest without watchers and a new filter needs its place (`maxEntries`), and when the element is
 * closed or its `signal` aborts (watchers complete). After that the next Find asks the registry again.
 * Register and Unregister pass through untouched; so does everything once the element is closed for
 * good by its `signal`.
 *
 * What the cache cannot know: a filtered watch does not report an item that changes so that it no
 * longer matches the filter (an endpoint that re-registers without the service), so such an item stays
 * in the view until it is deleted or the entry ends.
 * @module
 */
import { Observable, Subject, type Subscription } from 'rxjs';
import type { ChainContext } from '../../../networkservice/core/context.js';
import type { Clock, TimerHandle } from '../../../tools/clock/index.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import type { RegistryKind } from '../../core/kind.js';
import type { FindResult, RegistryHandler } from '../../core/types.js';
import { NullRegistry } from '../null/index.js';

/** Options of {@link QueryCache}. */
export interface QueryCacheOptions {
  /** How long an entry is kept without being asked for and without watchers (ms); default 60000. */
  readonly expireTimeoutMs?: number;
  /**
   * The most entries kept (each holds a watch at the registry); default 1000. When a new filter comes
   * and the cache is full, the entry unused longest that no watcher holds goes; when every entry is
   * watched, the Find passes through uncached. Filters come from callers (a Request's service name), so
   * without a bound anyone could make a role hold any number of watches.
   */
  readonly maxEntries?: number;
  /**
   * The lifetime of the chain the element is in: when it aborts, every entry is dropped (watchers
   * complete) and from then on every call passes through uncached.
   */
  readonly signal?: AbortSignal | undefined;
}

interface Entry<R> {
  readonly key: string;
  /** The filter's item name, `''` when the filter has none. */
  readonly name: string;
  /** The current view, by item name; the cache's own copies. */
  readonly items: Map<string, R>;
  /**
   * The names the watch has reported while the view is not known to be complete; undefined once it is
   * (then one-shot Finds are answered from the view).
   */
  touched: Set<string> | undefined;
  /** What the watch reports, after the view took it in, for the watchers. */
  readonly changes: Subject<FindResult<R>>;
  /** Watching Finds served from the entry now. */
  watchers: number;
  /** The clock of the Find that made the entry; it times the expiry. */
  readonly clock: Clock;
  lastUsed: number;
  timer: TimerHandle | undefined;
  watch: Subscription | undefined;
  dropped: boolean;
}

/** The `querycache` registry client element, for the resource `kind` describes. */
export class QueryCache<R, Q> extends NullRegistry<R, Q> {
  override readonly name: string = 'querycache';
  private readonly expireTimeoutMs: number;
  private readonly maxEntries: number;
  private readonly entries = new Map<string, Entry<R>>();
  /** Set when the lifetime signal aborted: nothing is cached any more. */
  private ended = false;

  constructor(
    private readonly kind: RegistryKind<R, Q, unknown>,
    options: QueryCacheOptions = {},
  ) {
    super();
    this.expireTimeoutMs = options.expireTimeoutMs ?? 60_000;
    this.maxEntries = Math.max(1, options.maxEntries ?? 1000);
    const signal = options.signal;
    if (signal?.aborted === true) this.ended = true;
    signal?.addEventListener(
      'abort',
      () => {
        this.ended = true;
        this.close();
      },
      { once: true },
    );
  }

  /** How many filters have an entry (for leak checks). */
  get size(): number {
    return this.entries.size;
  }

  /** How many watching Finds are served from entries now (for leak checks). */
  get watchers(): number {
    let count = 0;
    for (const entry of this.entries.values()) count += entry.watchers;
    return count;
  }

  override find(query: Q, ctx: ChainContext, next: RegistryHandler<R, Q>): Observable<FindResult<R>> {
    if (this.ended) return next.find(query, ctx);
    const { filter, watch } = this.kind.readQuery(query);
    const key = Buffer.from(this.kind.encode(filter)).toString('base64');
    return watch ? this.watching(key, filter, query, ctx, next) : this.oneShot(key, filter, query, ctx, next);
  }

  /** Drops every entry and stops every watch; watchers complete. Later Finds fill the cache again (unless the signal aborted). */
  close(): void {
    for (const entry of [...this.entries.values()]) this.drop(entry);
  }

  private oneShot(key: string, filter: R, query: Q, ctx: ChainContext, next: RegistryHandler<R, Q>): Observable<FindResult<R>> {
    return new Observable<FindResult<R>>((subscriber) => {
      const found = this.lookup(key);
      if (found !== undefined && found.touched === undefined) {
        for (const item of found.items.values()) {
          if (subscriber.closed) break;
          subscriber.next({ item: this.kind.clone(item), deleted: false });
        }
        subscriber.complete();
        return undefined;
      }
      const made = found === undefined;
      const entry = found ?? this.create(key, filter, ctx, next);
      const collected = new Map<string, R>();
      let settled = false;
      const subscription = next.find(query, ctx).subscribe({
        next: (result) => {
          const name = this.kind.nameOf(result.item);
          if (result.deleted) collected.delete(name);
          else collected.set(name, this.kind.clone(result.item));
          subscriber.next(result);
        },
        error: (error: unknown) => {
          settled = true;
          this.abandon(entry, made);
          subscriber.error(error);
        },
        complete: () => {
          settled = true;
          // Before completing, so a Find made as soon as this one ends is answered from the cache.
          if (entry !== undefined) this.fill(entry, collected);
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        // Given up before the whole answer came: an entry made for it alone is not worth keeping.
        if (!settled) this.abandon(entry, made);
      };
    });
  }

  private watching(key: string, filter: R, query: Q, ctx: ChainContext, next: RegistryHandler<R, Q>): Observable<FindResult<R>> {
    return new Observable<FindResult<R>>((subscriber) => {
      const entry = this.lookup(key) ?? this.create(key, filter, ctx, next);
      // No entry (the cache is full of watched entries, or the watch failed while being opened): the
      // caller gets a watch of its own, and any failure first hand.
      if (entry === undefined) return next.find(query, ctx).subscribe(subscriber);
      entry.watchers++;
      for (const item of entry.items.values()) {
        if (subscriber.closed) break;
        subscriber.next({ item: this.kind.clone(item), deleted: false });
      }
      // Subscribed right after the snapshot, in the same turn: nothing the watch reports falls in between.
      const subscription = entry.changes.subscribe({
        next: (result) => subscriber.next({ item: this.kind.clone(result.item), deleted: result.deleted }),
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        subscription.unsubscribe();
        entry.watchers--;
        entry.lastUsed = entry.clock.now();
      };
    });
  }

  /** The live entry for `key`, marked as used; an entry past its time counts as absent. */
  private lookup(key: string): Entry<R> | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const now = entry.clock.now();
    // The timer may not have run yet (a busy event loop): the time, not the timer, decides.
    if (entry.watchers === 0 && now - entry.lastUsed >= this.expireTimeoutMs) {
      this.drop(entry);
      return undefined;
    }
    entry.lastUsed = now;
    return entry;
  }

  /** Makes the entry for `key` and opens its watch; undefined when the cache is full of watched entries or the watch failed at once. */
  private create(key: string, filter: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Entry<R> | undefined {
    if (this.entries.size >= this.maxEntries && !this.evictOne()) return undefined;
    const clock = ctx.clock;
    const entry: Entry<R> = {
      key,
      name: this.kind.nameOf(filter),
      items: new Map(),
      touched: new Set(),
      changes: new Subject(),
      watchers: 0,
      clock,
      lastUsed: clock.now(),
      timer: undefined,
      watch: undefined,
      dropped: false,
    };
    this.entries.set(key, entry);
    this.schedule(entry, this.expireTimeoutMs);
    // Detached: the watch outlives the Find that started it, and ends only with the entry.
    const subscription = next.find(this.kind.makeQuery(this.kind.clone(filter), true), ctx.detach()).subscribe({
      next: (result) => this.apply(entry, result),
      error: (error: unknown) => {
        ctx.logger.debug('querycache: watch failed, dropping the cached answer', { key, error: errorMessage(error) });
        this.drop(entry, error);
      },
      complete: () => this.drop(entry),
    });
    // The watch may have ended while subscribing, before there was a subscription to keep.
    if (entry.dropped) {
      subscription.unsubscribe();
      return undefined;
    }
    entry.watch = subscription;
    return entry;
  }

  /** Drops the entry unused longest among those no watcher holds; false when every entry is watched. */
  private evictOne(): boolean {
    let oldest: Entry<R> | undefined;
    for (const entry of this.entries.values()) {
      if (entry.watchers === 0 && (oldest === undefined || entry.lastUsed < oldest.lastUsed)) oldest = entry;
    }
    if (oldest === undefined) return false;
    this.drop(oldest);
    return true;
  }

  /** Takes one report of the entry's watch into the view, then passes it to the watchers. */
  private apply(entry: Entry<R>, result: FindResult<R>): void {
    if (entry.dropped) return;
    const name = this.kind.nameOf(result.item);
    if (result.deleted) entry.items.delete(name);
    else entry.items.set(name, this.kind.clone(result.item));
    if (entry.touched !== undefined) {
      entry.touched.add(name);
      // A filter with a name matches one item at most: once the watch has reported it, the view is whole.
      if (entry.name !== '' && name === entry.name) entry.touched = undefined;
    }
    entry.changes.next(result);
  }

  /** A one-shot Find's whole answer: what the watch has not reported yet is added, and the view is complete. */
  private fill(entry: Entry<R>, answer: ReadonlyMap<string, R>): void {
    const touched = entry.touched;
    if (entry.dropped || touched === undefined) return;
    entry.touched = undefined;
    for (const [name, item] of answer) {
      // The watch's news about an item is at least as recent as the answer (it was opened first).
      if (touched.has(name)) continue;
      entry.items.set(name, item);
      entry.changes.next({ item, deleted: false });
    }
  }

  /** A one-shot Find that made `entry` failed or was given up: the entry goes, unless others use it. */
  private abandon(entry: Entry<R> | undefined, made: boolean): void {
    if (entry === undefined || !made || entry.dropped) return;
    if (entry.touched !== undefined && entry.watchers === 0) this.drop(entry);
  }

  /** Arms the expiry check; when it runs early (the entry was used since, or is watched), it checks again later. */
  private schedule(entry: Entry<R>, delayMs: number): void {
    entry.timer = entry.clock.setTimeout(() => {
      entry.timer = undefined;
      const left = entry.watchers > 0 ? this.expireTimeoutMs : entry.lastUsed + this.expireTimeoutMs - entry.clock.now();
      if (left > 0) this.schedule(entry, left);
      else this.drop(entry);
    }, delayMs);
  }

  private drop(entry: Entry<R>, error?: unknown): void {
    if (entry.dropped) return;
    entry.dropped = true;
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    if (entry.timer !== undefined) entry.clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.watch?.unsubscribe();
    entry.watch = undefined;
    if (error === undefined) entry.changes.complete();
    else entry.changes.error(error);
  }
}
