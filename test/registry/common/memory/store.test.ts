import { expect } from 'chai';
import { NetworkServiceEndpoint } from '../../../../src/api/gen/registry.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import { memoryStore } from '../../../../src/registry/common/memory/index.js';
import type { StoreEvent } from '../../../../src/registry/common/store/index.js';

const nse = (name: string, url = 'tcp://127.0.0.1:1') => NetworkServiceEndpoint.create({ name, url });

describe('registry memory store', function () {
  it('puts, gets, lists and deletes copies', async function () {
    const store = memoryStore(NSE_KIND);
    const item = nse('a');
    await store.put(item);
    item.url = 'changed by the caller';
    expect((await store.get('a'))?.url).to.equal('tcp://127.0.0.1:1');
    const got = await store.get('a');
    if (got !== undefined) got.url = 'changed again';
    expect((await store.list()).map((n) => n.url)).to.deep.equal(['tcp://127.0.0.1:1']);
    expect((await store.delete('a'))?.name).to.equal('a');
    expect(await store.delete('a')).to.equal(undefined);
    expect(await store.get('a')).to.equal(undefined);
    expect(store.size).to.equal(0);
  });

  it('finds by service through its index: only the items of the term are looked at, and the index follows changes', async function () {
    const store = memoryStore(NSE_KIND);
    const offering = (name: string, ...services: string[]) => NetworkServiceEndpoint.create({ name, networkServiceNames: services });
    await store.put(offering('a', 'svc', 'other'));
    await store.put(offering('b', 'svc'));
    await store.put(offering('c', 'other'));
    const looked: string[] = [];
    const match = (item: NetworkServiceEndpoint): boolean => (looked.push(item.name), item.networkServiceNames.includes('svc'));
    expect((await store.list({ term: 'svc', match })).map((n) => n.name)).to.deep.equal(['a', 'b']);
    expect(looked, 'c was never looked at').to.deep.equal(['a', 'b']);
    // a registers again without svc: the index forgets it under svc and keeps it under other.
    await store.put(offering('a', 'other'));
    expect((await store.list({ term: 'svc', match })).map((n) => n.name)).to.deep.equal(['b']);
    expect((await store.list({ term: 'other' })).map((n) => n.name).sort()).to.deep.equal(['a', 'c']);
    expect(await store.list({ term: 'nobody' })).to.deep.equal([]);
    for (const name of ['a', 'b', 'c']) await store.delete(name);
    expect(store.indexedTerms, 'nothing left in the index').to.equal(0);
  });

  it('a watch emits the current items, then changes in order, filtered, to each watcher its own copy', async function () {
    const store = memoryStore(NSE_KIND);
    await store.put(nse('a'));
    await store.put(nse('skip'));
    const first: StoreEvent<NetworkServiceEndpoint>[] = [];
    const second: StoreEvent<NetworkServiceEndpoint>[] = [];
    const s1 = store.watch({ match: (item) => item.name !== 'skip' }).subscribe((e) => first.push(e));
    const s2 = store.watch().subscribe((e) => second.push(e));
    expect(store.watchers).to.equal(2);
    await store.put(nse('b'));
    await store.put(nse('b', 'tcp://127.0.0.1:2'));
    await store.delete('a');
    expect(first.map((e) => [e.item.name, e.item.url, e.deleted])).to.deep.equal([
      ['a', 'tcp://127.0.0.1:1', false],
      ['b', 'tcp://127.0.0.1:1', false],
      ['b', 'tcp://127.0.0.1:2', false],
      ['a', 'tcp://127.0.0.1:1', true],
    ]);
    expect(second.length).to.equal(5);
    expect(first[1]?.item).to.not.equal(undefined);
    expect(first[1]?.item).to.not.equal(second[2]?.item);
    const named: string[] = [];
    const s3 = store.watch({ name: 'b' }).subscribe((e) => named.push(`${e.item.name}:${e.deleted}`));
    await store.delete('b');
    expect(named).to.deep.equal(['b:false', 'b:true']);
    expect((await store.list({ name: 'skip' })).map((i) => i.name)).to.deep.equal(['skip']);
    s1.unsubscribe();
    s2.unsubscribe();
    s3.unsubscribe();
    expect(store.watchers).to.equal(0);
  });

  it('close completes open watches', async function () {
    const store = memoryStore(NSE_KIND);
    let completed = false;
    store.watch().subscribe({ complete: () => (completed = true) });
    await store.close();
    expect(completed).to.equal(true);
  });
});
