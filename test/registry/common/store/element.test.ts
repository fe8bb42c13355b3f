import { expect } from 'chai';
import { firstValueFrom, of, toArray } from 'rxjs';
import { NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import type { FindResult, NSERegistryHandler } from '../../../../src/registry/core/types.js';
import { memoryStore } from '../../../../src/registry/common/memory/index.js';
import { storeElement } from '../../../../src/registry/common/store/index.js';

type NSE = NetworkServiceEndpoint;
const ctx = ChainContext.background();
const nse = (name: string, services: string[] = ['svc']) => NetworkServiceEndpoint.create({ name, url: 'tcp://127.0.0.1:1', networkServiceNames: services });

function fakeNext(extra: FindResult<NSE>[] = []): NSERegistryHandler & { unregistered: string[] } {
  const unregistered: string[] = [];
  return {
    unregistered,
    register: (item) => Promise.resolve({ ...item, url: `${item.url}/from-next` }),
    find: () => of(...extra),
    unregister: (item) => {
      unregistered.push(item.name);
      return Promise.resolve();
    },
  };
}

const query = (filter: Partial<NSE>, watch = false): NetworkServiceEndpointQuery => ({
  networkServiceEndpoint: NetworkServiceEndpoint.fromPartial(filter),
  watch,
});

describe('registry store element', function () {
  it('stores what the rest of the chain returned and removes it on unregister', async function () {
    const store = memoryStore(NSE_KIND);
    const element = storeElement(NSE_KIND, store);
    const next = fakeNext();
    const response = await element.register(nse('a'), ctx, next);
    expect(response.url).to.equal('tcp://127.0.0.1:1/from-next');
    expect((await store.get('a'))?.url).to.equal('tcp://127.0.0.1:1/from-next');
    await element.unregister(nse('a'), ctx, next);
    expect(store.size).to.equal(0);
    expect(next.unregistered).to.deep.equal(['a']);
  });

  it('find emits the matching items, then what the rest of the chain finds', async function () {
    const store = memoryStore(NSE_KIND);
    await store.put(nse('a', ['x']));
    await store.put(nse('b', ['y']));
    const element = storeElement(NSE_KIND, store);
    const results = await firstValueFrom(
      element.find(query({ networkServiceNames: ['x'] }), ctx, fakeNext([{ item: nse('remote'), deleted: false }])).pipe(toArray()),
    );
    expect(results.map((r) => r.item.name)).to.deep.equal(['a', 'remote']);
  });

  it('a watching find stays open and emits later matching changes', async function () {
    const store = memoryStore(NSE_KIND);
    const element = storeElement(NSE_KIND, store);
    const seen: string[] = [];
    const subscription = element.find(query({ name: 'a' }, true), ctx, fakeNext()).subscribe((r) => seen.push(`${r.item.name}:${r.deleted}`));
    await store.put(nse('a'));
    await store.put(nse('b'));
    await store.delete('a');
    expect(seen).to.deep.equal(['a:false', 'a:true']);
    expect(subscription.closed).to.equal(false);
    subscription.unsubscribe();
    expect(store.watchers).to.equal(0);
  });
});
