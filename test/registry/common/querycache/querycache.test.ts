import { expect } from 'chai';
import { defer, lastValueFrom, merge, Observable, Subject, takeUntil, toArray } from 'rxjs';
import { NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { FakeClock } from '../../../../src/tools/clock/index.js';
import { status, statusError } from '../../../../src/tools/grpc/status.js';
import { toRegistryHandler } from '../../../../src/registry/core/chain.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import type { FindResult, NSERegistryHandler } from '../../../../src/registry/core/types.js';
import { memoryServer } from '../../../../src/registry/common/memory/index.js';
import { queryCacheClient, type QueryCacheClient } from '../../../../src/registry/common/querycache/index.js';
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

  it('passes watching finds through uncached', async function () {
    const seen: string[] = [];
    const subscription = handler.find(query({ networkServiceNames: ['svc'] }, true), ctx).subscribe((r) => seen.push(r.item.name));
    try {
      expect(seen.sort()).to.deep.equal(['a', 'b']);
      expect(cache.size).to.equal(0);
      expect(next.watches).to.equal(1);
    } finally {
      subscription.unsubscribe();
    }
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
});
