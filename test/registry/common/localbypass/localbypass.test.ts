import { expect } from 'chai';
import { lastValueFrom, toArray, type Observable, type Subscription } from 'rxjs';
import { NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { status, statusError } from '../../../../src/tools/grpc/status.js';
import { toRegistryHandler } from '../../../../src/registry/core/chain.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import type { FindResult, NSERegistryHandler } from '../../../../src/registry/core/types.js';
import { localBypassServer, type LocalBypassServer } from '../../../../src/registry/common/localbypass/index.js';
import { memoryServer } from '../../../../src/registry/common/memory/index.js';
import type { RegistryStore } from '../../../../src/registry/common/store/types.js';
import { statusRejection } from '../../../helpers/status.js';

const MANAGER_URL = 'tcp://10.0.0.1:5001';
const NSE_URL = 'unix:///var/lib/networkservicemesh/nse-1.sock';

/** Records what reaches the store behind the element, and can be told to fail. */
class RecordingNext implements NSERegistryHandler {
  readonly registered: NetworkServiceEndpoint[] = [];
  readonly unregistered: NetworkServiceEndpoint[] = [];
  failRegister = false;

  constructor(private readonly inner: NSERegistryHandler) {}

  register(item: NetworkServiceEndpoint, ctx: ChainContext): Promise<NetworkServiceEndpoint> {
    this.registered.push(NSE_KIND.clone(item));
    if (this.failRegister) return Promise.reject(statusError(status.UNAVAILABLE, 'registry down'));
    return this.inner.register(item, ctx);
  }

  find(query: NetworkServiceEndpointQuery, ctx: ChainContext): Observable<FindResult<NetworkServiceEndpoint>> {
    return this.inner.find(query, ctx);
  }

  unregister(item: NetworkServiceEndpoint, ctx: ChainContext): Promise<void> {
    this.unregistered.push(NSE_KIND.clone(item));
    return this.inner.unregister(item, ctx);
  }
}

function all(handler: NSERegistryHandler, ctx: ChainContext, filter: Partial<NetworkServiceEndpoint> = {}): Promise<FindResult<NetworkServiceEndpoint>[]> {
  return lastValueFrom(handler.find(NSE_KIND.makeQuery(NetworkServiceEndpoint.fromPartial(filter), false), ctx).pipe(toArray()));
}

describe('registry localbypass', function () {
  let ctx: ChainContext;
  let store: RegistryStore<NetworkServiceEndpoint>;
  let next: RecordingNext;
  let element: LocalBypassServer;
  let handler: NSERegistryHandler;

  beforeEach(() => {
    ctx = ChainContext.background();
    const mem = memoryServer(NSE_KIND);
    store = mem.store;
    next = new RecordingNext(toRegistryHandler(mem));
    element = localBypassServer(MANAGER_URL);
    handler = toRegistryHandler(element, next);
  });

  it('publishes the manager URL and gives the real URL back in the response and in finds', async function () {
    const item = NetworkServiceEndpoint.fromPartial({ name: 'nse-1', url: NSE_URL, networkServiceNames: ['svc'] });
    const response = await handler.register(item, ctx);

    expect(response.url).to.equal(NSE_URL);
    expect(response.name).to.equal('nse-1');
    expect(item.url, 'the caller’s item is left alone').to.equal(NSE_URL);
    expect(next.registered.map((r) => r.url)).to.deep.equal([MANAGER_URL]);
    expect((await store.get('nse-1'))?.url).to.equal(MANAGER_URL);
    expect(element.size).to.equal(1);

    const found = await all(handler, ctx, { name: 'nse-1' });
    expect(found.map((r) => [r.item.name, r.item.url, r.deleted])).to.deep.equal([['nse-1', NSE_URL, false]]);
    // What the element returned is its own copy: the store still publishes the manager URL.
    expect((await store.get('nse-1'))?.url).to.equal(MANAGER_URL);
  });

  it('remembers the newest URL when an endpoint registers again from elsewhere', async function () {
    await handler.register(NetworkServiceEndpoint.fromPartial({ name: 'nse-1', url: NSE_URL }), ctx);
    const moved = 'unix:///var/lib/networkservicemesh/nse-1-restarted.sock';
    const response = await handler.register(NetworkServiceEndpoint.fromPartial({ name: 'nse-1', url: moved }), ctx);
    expect(response.url).to.equal(moved);
    const found = await all(handler, ctx);
    expect(found.map((r) => r.item.url)).to.deep.equal([moved]);
    expect(element.size).to.equal(1);
  });

  it('drops found endpoints that carry the manager URL but were not registered here, and passes others', async function () {
    await handler.register(NetworkServiceEndpoint.fromPartial({ name: 'local', url: NSE_URL }), ctx);
    await store.put(NetworkServiceEndpoint.fromPartial({ name: 'orphan', url: MANAGER_URL }));
    await store.put(NetworkServiceEndpoint.fromPartial({ name: 'remote', url: 'tcp://10.0.0.2:5001' }));

    const found = await all(handler, ctx);
    const byName = Object.fromEntries(found.map((r) => [r.item.name, r.item.url]));
    expect(byName).to.deep.equal({ local: NSE_URL, remote: 'tcp://10.0.0.2:5001' });
  });

  it('lets a watcher see the deletion of an endpoint that carries the manager URL', async function () {
    await store.put(NetworkServiceEndpoint.fromPartial({ name: 'orphan', url: MANAGER_URL }));
    const seen: FindResult<NetworkServiceEndpoint>[] = [];
    let subscription: Subscription | undefined;
    try {
      subscription = handler
        .find(NSE_KIND.makeQuery(NetworkServiceEndpoint.create(), true), ctx)
        .subscribe((result) => seen.push(result));
      expect(seen, 'the orphan itself is not announced').to.deep.equal([]);
      await store.delete('orphan');
      expect(seen.map((r) => [r.item.name, r.item.url, r.deleted])).to.deep.equal([['orphan', MANAGER_URL, true]]);
    } finally {
      subscription?.unsubscribe();
    }
  });

  it('unregisters with the manager URL and forgets the endpoint', async function () {
    await handler.register(NetworkServiceEndpoint.fromPartial({ name: 'nse-1', url: NSE_URL }), ctx);
    await handler.unregister(NetworkServiceEndpoint.fromPartial({ name: 'nse-1', url: NSE_URL }), ctx);

    expect(next.unregistered.map((r) => [r.name, r.url])).to.deep.equal([['nse-1', MANAGER_URL]]);
    expect(await store.list()).to.deep.equal([]);
    expect(element.size).to.equal(0);
  });

  it('does not pass on the unregistration of an endpoint it does not know', async function () {
    await store.put(NetworkServiceEndpoint.fromPartial({ name: 'elsewhere', url: MANAGER_URL }));
    await handler.unregister(NetworkServiceEndpoint.fromPartial({ name: 'elsewhere', url: NSE_URL }), ctx);
    expect(next.unregistered).to.deep.equal([]);
    expect((await store.get('elsewhere'))?.name).to.equal('elsewhere');
  });

  it('refuses an endpoint without a URL with INVALID_ARGUMENT and leaves next untouched', async function () {
    const error = await statusRejection(handler.register(NetworkServiceEndpoint.fromPartial({ name: 'nse-1', url: '' }), ctx));
    expect(error.code).to.equal(status.INVALID_ARGUMENT);
    expect(next.registered).to.deep.equal([]);
    expect(element.size).to.equal(0);
  });

  it('forgets an endpoint whose first registration failed, and keeps one whose re-registration failed', async function () {
    next.failRegister = true;
    const error = await statusRejection(handler.register(NetworkServiceEndpoint.fromPartial({ name: 'nse-1', url: NSE_URL }), ctx));
    expect(error.code).to.equal(status.UNAVAILABLE);
    expect(next.registered).to.have.length(1);
    expect(element.size).to.equal(0);

    next.failRegister = false;
    await handler.register(NetworkServiceEndpoint.fromPartial({ name: 'nse-2', url: NSE_URL }), ctx);
    next.failRegister = true;
    await statusRejection(handler.register(NetworkServiceEndpoint.fromPartial({ name: 'nse-2', url: NSE_URL }), ctx));
    expect(element.size).to.equal(1);
    const found = await all(handler, ctx, { name: 'nse-2' });
    expect(found.map((r) => r.item.url)).to.deep.equal([NSE_URL]);
  });

  it('remembers an endpoint by the name the registry gave it', async function () {
    const naming: NSERegistryHandler = {
      register: (item, c) => next.register(NetworkServiceEndpoint.fromPartial({ ...item, name: item.name || 'named-by-registry' }), c),
      find: (query, c) => next.find(query, c),
      unregister: (item, c) => next.unregister(item, c),
    };
    const named = toRegistryHandler(element, naming);
    const response = await named.register(NetworkServiceEndpoint.fromPartial({ url: NSE_URL }), ctx);
    expect(response.name).to.equal('named-by-registry');
    expect(response.url).to.equal(NSE_URL);
    expect(element.size).to.equal(1);
    await named.unregister(response, ctx);
    expect(element.size).to.equal(0);
    expect(await store.list()).to.deep.equal([]);
  });
});
