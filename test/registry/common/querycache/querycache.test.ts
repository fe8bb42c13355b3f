import { expect } from 'chai';
import { defer, lastValueFrom, merge, Observable, Subject, takeUntil, toArray } from 'rxjs';
import {
  NetworkService,
  NetworkServiceEndpoint,
  type NetworkServiceEndpointQuery,
  type NetworkServiceQuery,
} from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { FakeClock } from '../../../../src/tools/clock/index.js';
import { status, statusError } from '../../../../src/tools/grpc/status.js';
import { toRegistryHandler } from '../../../../src/registry/core/chain.js';
import { NS_KIND, NSE_KIND } from '../../../../src/registry/core/kind.js';
import type { FindResult, NSERegistryHandler, NSRegistryHandler } from '../../../../src/registry/core/types.js';
import { memoryServer } from '../../../../src/registry/common/memory/index.js';
import { nsQueryCacheClient, queryCacheClient, type QueryCacheClient } from '../../../../src/registry/common/querycache/index.js';
import type { RegistryStore } from '../../../../src/registry/common/store/types.js';

const EXPIRE_MS = 60_000;

/** A registry behind the cache that counts one-shot finds and open watches, and can break or end watches. */
class CountingNext implements NSERegistryHandler {
  finds = 0;
  watches = 0;
  openWatches = 0;
  private breaker = new Subject<never>();
  private ender = new Subject<void>();

  constructor(private readonly inner: NSERegistryHandler) {}

  register(item: NetworkServiceEndpoint, ctx: ChainContext): Promise<NetworkServiceEndpoint> {
    return this.inner.register(item, ctx);
  }

  find(query: NetworkServiceEndpointQuery, ctx: ChainContext): Observable<FindResult<NetworkServiceEndpoint>> {
    if (!query.watch) {
      return defer(() => {
        this.finds++;
        return this.inner.find(query, ctx);
      });
    }
    return new Observable<FindResult<NetworkServiceEndpoint>>((subscriber) => {
      this.watches++;
      this.openWatches++;
      const subscription = merge(this.inner.find(query, ctx), this.breaker)
        .pipe(takeUntil(this.ender))
        .subscribe(subscriber);
      return () => {
        this.openWatches--;
        subscription.unsubscribe();
      };
    });
  }

  unregister(item: NetworkServiceEndpoint, ctx: ChainContext): Promise<void> {
    return this.inner.unregister(item, ctx);
  }

  /** Fails every open watch, as a lost connection to the registry would. */
  breakWatches(): void {
    this.breaker.error(statusError(status.UNAVAILABLE, 'connection lost'));
    this.breaker = new Subject<never>();
  }

  /** Ends every open watch normally. */
  endWatches(): void {
    this.ender.next();
    this.ender = new Subject<void>();
  }
}

function query(filter: Partial<NetworkServiceEndpoint>, watch = false): NetworkServiceEndpointQuery {
  return NSE_KIND.makeQuery(NetworkServiceEndpoint.fromPartial(filter), watch);
}

function urls(results: FindResult<NetworkServiceEndpoint>[]): Record<string, string> {
  return Object.fromEntries(results.map((r) => [r.item.name, r.item.url]));
}

describe('registry querycache', function () {
  let clock: FakeClock;
  let ctx: ChainContext;
  let store: RegistryStore<NetworkServiceEndpoint>;
  let next: CountingNext;
  let cache: QueryCacheClient;
  let handler: NSERegistryHandler;

  const find = (filter: Partial<NetworkServiceEndpoint>): Promise<FindResult<NetworkServiceEndpoint>[]> =>
    lastValueFrom(handler.find(query(filter), ctx).pipe(toArray()));

  beforeEach(async () => {
    clock = new FakeClock();
    ctx = ChainContext.background({ clock });
    const mem = memoryServer(NSE_KIND);
    store = mem.store;
    next = new CountingNext(toRegistryHandler(mem));
    cache = queryCacheClient({ expireTimeoutMs: EXPIRE_MS });
    handler = toRegistryHandler(cache, next);
    await store.put(NetworkServiceEndpoint.fromPartial({ name: 'a', url: 'tcp://1.1.1.1:1', networkServiceNames: ['svc'] }));
    await store.put(NetworkServiceEndpoint.fromPartial({ name: 'b', url: 'tcp://2.2.2.2:1', networkServiceNames: ['svc'] }));
    await store.put(NetworkServiceEndpoint.fromPartial({ name: 'c', url: 'tcp://3.3.3.3:1', networkServiceNames: ['other'] }));
  });

  afterEach(() => {
    cache.close();
    expect(next.openWatches, 'every watch is released').to.equal(0);
  });

  it('answers a repeated find from the cache without asking the registry', async function () {
    const first = await find({ networkServiceNames: ['svc'] });
    expect(urls(first)).to.deep.equal({ a: 'tcp://1.1.1.1:1', b: 'tcp://2.2.2.2:1' });
    expect(next.finds).to.equal(1);
    expect(cache.size).to.equal(1);
    expect(next.openWatches).to.equal(1);

    const second = await find({ networkServiceNames: ['svc'] });
    expect(urls(second)).to.deep.equal(urls(first));
    expect(next.finds, 'the second find stayed in the cache').to.equal(1);

    await find({ networkServiceNames: ['other'] });
    expect(next.finds, 'another query is another entry').to.equal(2);
    expect(cache.size).to.equal(2);
  });

  it('hands out copies that callers may change', async function () {
    await find({ name: 'a' });
    const [cached] = await find({ name: 'a' });
    expect(cached?.item.url).to.equal('tcp://1.1.1.1:1');
    if (cached !== undefined) cached.item.url = 'tcp://changed:1';
    const [again] = await find({ name: 'a' });
    expect(again?.item.url).to.equal('tcp://1.1.1.1:1');
    expect(next.finds).to.equal(1);
  });

  it('keeps a cached answer current with the updates its watch reports', async function () {
    await find({ networkServiceNames: ['svc'] });
    await store.put(NetworkServiceEndpoint.fromPartial({ name: 'a', url: 'tcp://9.9.9.9:1', networkServiceNames: ['svc'] }));
    await store.put(NetworkServiceEndpoint.fromPartial({ name: 'd', url: 'tcp://4.4.4.4:1', networkServiceNames: ['svc'] }));

    const answer = await find({ networkServiceNames: ['svc'] });
    expect(urls(answer)).to.deep.equal({ a: 'tcp://9.9.9.9:1', b: 'tcp://2.2.2.2:1', d: 'tcp://4.4.4.4:1' });
    expect(next.finds).to.equal(1);
  });

  it('removes a deleted endpoint from the cached answer', async function () {
    await find({ networkServiceNames: ['svc'] });
    await store.delete('a');

    const answer = await find({ networkServiceNames: ['svc'] });
    expect(urls(answer)).to.deep.equal({ b: 'tcp://2.2.2.2:1' });
    expect(next.finds).to.equal(1);
    expect(cache.size).to.equal(1);
  });

  it('drops an entry whose watch breaks, so the next find asks the registry', async function () {
    await find({ networkServiceNames: ['svc'] });
    expect(cache.size).to.equal(1);

    next.breakWatches();
    expect(cache.size).to.equal(0);
    expect(next.openWatches).to.equal(0);
    expect(clock.pending, 'the expiry timer went with the entry').to.equal(0);

    const answer = await find({ networkServiceNames: ['svc'] });
    expect(urls(answer)).to.deep.equal({ a: 'tcp://1.1.1.1:1', b: 'tcp://2.2.2.2:1' });
    expect(next.finds).to.equal(2);
    expect(cache.size).to.equal(1);
  });

  it('drops an entry whose watch ends', async function () {
    await find({ name: 'a' });
    next.endWatches();
    expect(cache.size).to.equal(0);
    await find({ name: 'a' });
    expect(next.finds).to.equal(2);
  });

  it('drops an entry unused for the expiry time and stops its watch', async function () {
    await find({ networkServiceNames: ['svc'] });
    clock.advance(EXPIRE_MS / 2);
    await find({ networkServiceNames: ['svc'] });
    expect(next.finds).to.equal(1);

    // Used half-way, so still alive a full period after it was made.
    clock.advance(EXPIRE_MS / 2 + 1);
    expect(cache.size).to.equal(1);
    expect(next.openWatches).to.equal(1);

    clock.advance(EXPIRE_MS / 2);
    expect(cache.size).to.equal(0);
    expect(next.openWatches).to.equal(0);
    expect(clock.pending).to.equal(0);

    await find({ networkServiceNames: ['svc'] });
    expect(next.finds).to.equal(2);
  });

  it('serves every watcher of a filter from one watch: a snapshot, then its changes', async function () {
    const seen: string[][] = [[], []];
    const errors: unknown[] = [];
    const subscriptions = seen.map((names) =>
      handler.find(query({ networkServiceNames: ['svc'] }, true), ctx).subscribe({
        next: (r) => names.push(`${r.deleted ? '-' : '+'}${r.item.name}`),
        error: (e: unknown) => errors.push(e),
      }),
    );
    try {
      expect(next.watches, 'one watch for both watchers').to.equal(1);
      expect(cache.watchers).to.equal(2);
      await store.put(NetworkServiceEndpoint.fromPartial({ name: 'd', url: 'tcp://4.4.4.4:1', networkServiceNames: ['svc'] }));
      await store.delete('a');
      for (const names of seen) expect(names.sort()).to.deep.equal(['+a', '+b', '+d', '-a'].sort());

      // A one-shot Find with the same filter is answered from what the watch reported.
      const answer = await find({ networkServiceNames: ['svc'] });
      expect(urls(answer)).to.deep.equal({ b: 'tcp://2.2.2.2:1', d: 'tcp://4.4.4.4:1' });

      // The shared watch breaks: each watcher gets the failure, as from a watch of its own.
      next.breakWatches();
      expect(errors).to.have.length(2);
      expect(cache.size).to.equal(0);
    } finally {
      for (const subscription of subscriptions) subscription.unsubscribe();
    }
    expect(cache.watchers).to.equal(0);
  });

  it('answers a one-shot find by name from a watch that already reported that name', async function () {
    const subscription = handler.find(query({ name: 'a' }, true), ctx).subscribe();
    try {
      const answer = await find({ name: 'a' });
      expect(urls(answer)).to.deep.equal({ a: 'tcp://1.1.1.1:1' });
      expect(next.finds, 'no one-shot find reached the registry').to.equal(0);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('trusts what its watch reported over an older one-shot answer', async function () {
    const fresh = NetworkServiceEndpoint.fromPartial({ name: 'a', url: 'tcp://new:1', networkServiceNames: ['svc'] });
    const stale = NetworkServiceEndpoint.fromPartial({ name: 'a', url: 'tcp://old:1', networkServiceNames: ['svc'] });
    const racing: NSERegistryHandler = {
      register: (item, c) => next.register(item, c),
      // The watch is opened first and reports the newer record; the one-shot answer was read before it.
      find: (q) =>
        new Observable<FindResult<NetworkServiceEndpoint>>((s) => {
          s.next({ item: q.watch ? fresh : stale, deleted: false });
          if (!q.watch) s.complete();
        }),
      unregister: (item, c) => next.unregister(item, c),
    };
    const cached = toRegistryHandler(cache, racing);
    await lastValueFrom(cached.find(query({ networkServiceNames: ['svc'] }), ctx).pipe(toArray()));
    const answer = await lastValueFrom(cached.find(query({ networkServiceNames: ['svc'] }), ctx).pipe(toArray()));
    expect(urls(answer)).to.deep.equal({ a: 'tcp://new:1' });
  });

  it('caches network services the same way', async function () {
    const mem = memoryServer(NS_KIND);
    await mem.store.put(NetworkService.fromPartial({ name: 'svc', payload: 'IP' }));
    const memHandler: NSRegistryHandler = toRegistryHandler(mem);
    let finds = 0;
    const counting: NSRegistryHandler = {
      register: (item, c) => memHandler.register(item, c),
      find: (q: NetworkServiceQuery, c) =>
        defer(() => {
          if (!q.watch) finds++;
          return memHandler.find(q, c);
        }),
      unregister: (item, c) => memHandler.unregister(item, c),
    };
    const nsCache = nsQueryCacheClient({ expireTimeoutMs: EXPIRE_MS });
    const nsHandler = toRegistryHandler(nsCache, counting);
    const findNS = (): Promise<FindResult<NetworkService>[]> =>
      lastValueFrom(nsHandler.find(NS_KIND.makeQuery(NetworkService.fromPartial({ name: 'svc' }), false), ctx).pipe(toArray()));
    try {
      expect((await findNS()).map((r) => r.item.payload)).to.deep.equal(['IP']);
      await mem.store.put(NetworkService.fromPartial({ name: 'svc', payload: 'ETHERNET' }));
      expect((await findNS()).map((r) => r.item.payload)).to.deep.equal(['ETHERNET']);
      expect(finds).to.equal(1);
    } finally {
      nsCache.close();
    }
    expect(nsCache.size).to.equal(0);
  });

  it('drops everything and caches nothing more once its signal aborts', async function () {
    const lifetime = new AbortController();
    const bounded = queryCacheClient({ expireTimeoutMs: EXPIRE_MS, signal: lifetime.signal });
    const boundedHandler = toRegistryHandler(bounded, next);
    const findBounded = (): Promise<FindResult<NetworkServiceEndpoint>[]> =>
      lastValueFrom(boundedHandler.find(query({ networkServiceNames: ['svc'] }), ctx).pipe(toArray()));
    await findBounded();
    expect(next.openWatches).to.equal(1);
    lifetime.abort();
    expect(bounded.size).to.equal(0);
    expect(next.openWatches).to.equal(0);
    await findBounded();
    await findBounded();
    expect(next.finds, 'every find after the abort reached the registry').to.equal(3);
    expect(bounded.size).to.equal(0);
  });

  it('caches nothing from a find that failed', async function () {
    const failing: NSERegistryHandler = {
      register: (item, c) => next.register(item, c),
      find: () => new Observable<FindResult<NetworkServiceEndpoint>>((s) => s.error(statusError(status.UNAVAILABLE, 'down'))),
      unregister: (item, c) => next.unregister(item, c),
    };
    const broken = toRegistryHandler(cache, failing);
    let failed = false;
    try {
      await lastValueFrom(broken.find(query({ name: 'a' }), ctx).pipe(toArray()));
    } catch {
      failed = true;
    }
    expect(failed).to.equal(true);
    expect(cache.size).to.equal(0);
  });

  it('releases every entry and watch on close', async function () {
    await find({ networkServiceNames: ['svc'] });
    await find({ name: 'c' });
    expect(cache.size).to.equal(2);
    expect(next.openWatches).to.equal(2);

    cache.close();
    expect(cache.size).to.equal(0);
    expect(next.openWatches).to.equal(0);
    expect(clock.pending).to.equal(0);
  });

  it('holds at most maxEntries watches: the entry unused longest goes, a fully watched cache passes through', async function () {
    const small = queryCacheClient({ expireTimeoutMs: EXPIRE_MS, maxEntries: 2 });
    const bounded = toRegistryHandler(small, next);
    const findIn = (filter: Partial<NetworkServiceEndpoint>): Promise<FindResult<NetworkServiceEndpoint>[]> =>
      lastValueFrom(bounded.find(query(filter), ctx).pipe(toArray()));
    await findIn({ name: 'a' });
    clock.advance(10);
    await findIn({ name: 'b' });
    clock.advance(10);
    await findIn({ name: 'a' }); // now b is the one unused longest
    expect(next.finds).to.equal(2);
    await findIn({ name: 'c' });
    expect(small.size, 'never more than maxEntries').to.equal(2);
    expect(next.openWatches, 'the evicted entry took its watch with it').to.equal(2);
    await findIn({ name: 'a' });
    expect(next.finds, 'a stayed cached').to.equal(3);
    await findIn({ name: 'b' });
    expect(next.finds, 'b was evicted: asked again').to.equal(4);

    // Both entries watched: a third filter gets a watch of its own, and no entry.
    const subs = [bounded.find(query({ name: 'a' }, true), ctx).subscribe(), bounded.find(query({ name: 'b' }, true), ctx).subscribe()];
    const seen = await findIn({ networkServiceNames: ['svc'] });
    expect(urls(seen)).to.deep.equal({ a: 'tcp://1.1.1.1:1', b: 'tcp://2.2.2.2:1' });
    expect(next.finds, 'passed through').to.equal(5);
    expect(small.size).to.equal(2);
    expect(small.watchers).to.equal(2);
    for (const sub of subs) sub.unsubscribe();
    small.close();
  });
});
