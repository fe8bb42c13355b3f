import { expect } from 'chai';
import { firstValueFrom } from 'rxjs';
import { NetworkServiceEndpoint } from '../../../../src/api/gen/registry.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import { etcdStore } from '../../../../src/registry/common/etcd/index.js';
import type { StoreEvent } from '../../../../src/registry/common/store/index.js';
import { startEtcd, type EtcdInstance } from '../../../helpers/etcd.js';
import { eventually } from '../../../helpers/eventually.js';

const nse = (name: string, url = 'tcp://127.0.0.1:1') => NetworkServiceEndpoint.fromPartial({ name, url, networkServiceNames: ['s'] });

describe('registry etcd store', function () {
  this.timeout(60_000);
  let etcd: EtcdInstance | undefined;
  let n = 0;
  const store = (prefix = `/store-${n++}/`) => etcdStore(NSE_KIND, [etcd?.endpoint ?? ''], { prefix });

  before(async function () {
    etcd = await startEtcd();
  });
  after(async () => etcd?.stop());
  beforeEach(function () {
    if (etcd === undefined) this.skip();
  });

  it('puts, gets, lists and deletes under its prefix only', async function () {
    const a = store('/iso-a/');
    const b = store('/iso-b/');
    await a.put(nse('x'));
    await b.put(nse('y'));
    expect((await a.get('x'))?.url).to.equal('tcp://127.0.0.1:1');
    expect(await a.get('y')).to.equal(undefined);
    expect((await a.list()).map((i) => i.name)).to.deep.equal(['x']);
    expect((await a.delete('x'))?.name).to.equal('x');
    expect(await a.delete('x')).to.equal(undefined);
    expect((await b.list()).map((i) => i.name)).to.deep.equal(['y']);
    await Promise.all([a.close(), b.close()]);
  });

  it('a watch on one store sees, in order, what another process writes, with nothing missed', async function () {
    const prefix = '/shared-watch/';
    const writer = store(prefix);
    const watcher = store(prefix);
    await writer.put(nse('before'));
    const events: StoreEvent<NetworkServiceEndpoint>[] = [];
    const subscription = watcher.watch().subscribe((e) => events.push(e));
    // Writes race the watch being set up: the snapshot and the stream must join without a gap.
    for (let i = 0; i < 20; i++) await writer.put(nse(`n${i}`, `tcp://127.0.0.1:${i + 2}`));
    await writer.delete('before');
    await eventually(() => events.some((e) => e.deleted));
    const state = new Map<string, string>();
    for (const e of events) {
      if (e.deleted) state.delete(e.item.name);
      else state.set(e.item.name, e.item.url);
    }
    const listed = new Map((await writer.list()).map((i) => [i.name, i.url]));
    expect(state).to.deep.equal(listed);
    expect(events.find((e) => e.deleted)?.item.url).to.equal('tcp://127.0.0.1:1');
    expect(watcher.watchers).to.equal(1);
    subscription.unsubscribe();
    expect(watcher.watchers).to.equal(0);
    await Promise.all([writer.close(), watcher.close()]);
  });

  it('filters watches and lists with a match', async function () {
    const s = store();
    await s.put(nse('keep'));
    await s.put(nse('drop'));
    expect((await s.list({ match: (i) => i.name === 'keep' })).map((i) => i.name)).to.deep.equal(['keep']);
    expect((await s.list({ name: 'drop' })).map((i) => i.name)).to.deep.equal(['drop']);
    const first = await firstValueFrom(s.watch({ match: (i) => i.name === 'drop' }));
    expect(first.item.name).to.equal('drop');
    // A watch on one name reads and watches just that key.
    const events: StoreEvent<NetworkServiceEndpoint>[] = [];
    const byName = s.watch({ name: 'keep' }).subscribe((e) => events.push(e));
    await s.put(nse('other'));
    await s.delete('keep');
    await eventually(() => events.length === 2);
    expect(events.map((e) => [e.item.name, e.deleted])).to.deep.equal([
      ['keep', false],
      ['keep', true],
    ]);
    byName.unsubscribe();
    await s.close();
  });

  it('when etcd goes away, watches error and calls fail with a message naming the store', async function () {
    const own = await startEtcd();
    if (own === undefined) this.skip();
    const s = etcdStore(NSE_KIND, [own.endpoint], { prefix: '/gone/' });
    await s.put(nse('x'));
    const errors: unknown[] = [];
    const seen: string[] = [];
    s.watch().subscribe({ next: (e) => seen.push(e.item.name), error: (e) => errors.push(e) });
    // The current items come once the etcd watcher exists.
    await eventually(() => seen.length === 1, 10_000);
    await own.stop();
    await eventually(() => errors.length === 1, 20_000);
    expect(String(errors[0])).to.include('etcd(');
    const failure = await s.put(nse('y')).catch((e: unknown) => e);
    expect(failure).to.be.instanceOf(Error);
    expect((failure as Error).message).to.match(/etcd\(.*\/gone\/ put y/);
    await s.close();
  });
});
