/**
 * `querycache` for endpoint registry clients: answers repeated one-shot Finds from memory instead of
 * asking the registry every time (discovery asks for the same endpoints on every request).
 *
 * An entry is made per query filter the first time such a Find completes, holding what it returned. A
 * background watching Find with the same filter, through the rest of the chain and on a detached context,
 * keeps the entry current: an update replaces the endpoint of that name (or adds it), a deletion removes
 * it. When that watch fails or ends, the entry is dropped, so the next Find asks the registry again rather
 * than trust an answer nobody keeps current. An entry not asked for during `expireTimeoutMs` is dropped
 * with its watch. Watching Finds, Register and Unregister pass through untouched.
 *
 * Upstream caches one endpoint per name and so helps only Finds by exact name; this cache keys on the
 * whole filter, so any repeated query is served. The cached answer is only as current as the watch can
 * make it: an endpoint that changes so that it no longer matches the filter is not reported by a filtered
 * watch, and stays in the entry until it is deleted or the entry expires.
 * @module
 */
import { Observable, type Subscription } from 'rxjs';
import {
  NetworkServiceEndpoint,
  type NetworkServiceEndpointQuery,
} from '../../../api/gen/registry.js';
import type { ChainContext } from '../../../networkservice/core/context.js';
import type { Clock, TimerHandle } from '../../../tools/clock/index.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import { NSE_KIND } from '../../core/kind.js';
import type { FindResult, NSERegistryHandler } from '../../core/types.js';
import { NullRegistry } from '../null/index.js';

/** Options of {@link QueryCacheClient}. */
export interface QueryCacheOptions {
  /** How long an entry is kept without being asked for (ms); default 60000. */
  readonly expireTimeoutMs?: number;
}

interface Entry {
  readonly key: string;
  /** The current answer, by endpoint name; the cache's own copies. */
  readonly items: Map<string, NetworkServiceEndpoint>;
  /** The clock of the Find that made the entry; it times the expiry. */
  readonly clock: Clock;
  lastUsed: number;
  timer: TimerHandle | undefined;
  watch: Subscription | undefined;
  dropped: boolean;
}

/** The cache key of a query: its filter, as protobuf JSON (which leaves out fields at their defaults). */
function keyOf(query: NetworkServiceEndpointQuery): string {
  return JSON.stringify(NetworkServiceEndpoint.toJSON(query.networkServiceEndpoint ?? NetworkServiceEndpoint.create()));
}

/** The `querycache` NetworkServiceEndpoint registry client element. */
export class QueryCacheClient extends NullRegistry<NetworkServiceEndpoint, NetworkServiceEndpointQuery> {
  override readonly name = 'querycache';
  private readonly expireTimeoutMs: number;
  private readonly entries = new Map<string, Entry>();

  constructor(options: QueryCacheOptions = {}) {
    super();
    this.expireTimeoutMs = options.expireTimeoutMs ?? 60_000;
  }

  /** How many queries have a cached answer (for leak checks). */
  get size(): number {
    return this.entries.size;
  }

  override find(
    query: NetworkServiceEndpointQuery,
    ctx: ChainContext,
    next: NSERegistryHandler,
  ): Observable<FindResult<NetworkServiceEndpoint>> {
    if (query.watch) return next.find(query, ctx);
    const key = keyOf(query);
    return new Observable<FindResult<NetworkServiceEndpoint>>((subscriber) => {
      const entry = this.lookup(key);
      if (entry !== undefined) {
        for (const item of entry.items.values()) {
          if (subscriber.closed) break;
          subscriber.next({ item: NSE_KIND.clone(item), deleted: false });
        }
        subscriber.complete();
        return undefined;
      }
      const collected = new Map<string, NetworkServiceEndpoint>();
      // Only an answer that arrived in full is cached: unsubscribing early or an error leaves no entry.
      return next.find(query, ctx).subscribe({
        next: (result) => {
          if (result.deleted) collected.delete(result.item.name);
          else collected.set(result.item.name, NSE_KIND.clone(result.item));
          subscriber.next(result);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          // Before completing, so a Find made as soon as this one ends is already answered from the cache.
          this.create(key, query, collected, ctx, next);
          subscriber.complete();
        },
      });
    });
  }

  /** Drops every entry and stops every watch. The element stays usable: later Finds fill it again. */
  close(): void {
    for (const entry of [...this.entries.values()]) this.drop(entry);
  }

  /** The live entry for `key`, marked as used; an entry past its time counts as absent. */
  private lookup(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const now = entry.clock.now();
    // The timer may not have run yet (a busy event loop): the time, not the timer, decides.
    if (now - entry.lastUsed >= this.expireTimeoutMs) {
      this.drop(entry);
      return undefined;
    }
    entry.lastUsed = now;
    return entry;
  }

  private create(
    key: string,
    query: NetworkServiceEndpointQuery,
    items: Map<string, NetworkServiceEndpoint>,
    ctx: ChainContext,
    next: NSERegistryHandler,
  ): void {
    // Two Finds that missed together: the first to finish made the entry, and its watch keeps it current.
    if (this.entries.has(key)) return;
    const clock = ctx.clock;
    const entry: Entry = { key, items, clock, lastUsed: clock.now(), timer: undefined, watch: undefined, dropped: false };
    this.entries.set(key, entry);
    this.schedule(entry, this.expireTimeoutMs);

    const filter = NSE_KIND.clone(query.networkServiceEndpoint ?? NetworkServiceEndpoint.create());
    // Detached: the watch outlives the Find that started it, and ends only with the entry.
    const subscription = next.find(NSE_KIND.makeQuery(filter, true), ctx.detach()).subscribe({
      next: (result) => {
        if (result.deleted) entry.items.delete(result.item.name);
        else entry.items.set(result.item.name, NSE_KIND.clone(result.item));
      },
      error: (error: unknown) => {
        ctx.logger.debug('querycache: watch failed, dropping the cached answer', { key, error: errorMessage(error) });
        this.drop(entry);
      },
      complete: () => this.drop(entry),
    });
    // The watch may have ended while subscribing, before there was a subscription to keep.
    if (entry.dropped) subscription.unsubscribe();
    else entry.watch = subscription;
  }

  /** Arms the expiry check; when it runs early because the entry was used since, it checks again later. */
  private schedule(entry: Entry, delayMs: number): void {
    entry.timer = entry.clock.setTimeout(() => {
      entry.timer = undefined;
      const left = entry.lastUsed + this.expireTimeoutMs - entry.clock.now();
      if (left > 0) this.schedule(entry, left);
      else this.drop(entry);
    }, delayMs);
  }

  private drop(entry: Entry): void {
    if (entry.dropped) return;
    entry.dropped = true;
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    if (entry.timer !== undefined) entry.clock.clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.watch?.unsubscribe();
    entry.watch = undefined;
  }
}

/** A `querycache` element. */
export function queryCacheClient(options?: QueryCacheOptions): QueryCacheClient {
  return new QueryCacheClient(options);
}
