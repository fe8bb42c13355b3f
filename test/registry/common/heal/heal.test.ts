import { expect } from 'chai';
import { Observable, Subject, firstValueFrom, take, toArray } from 'rxjs';
import { NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { registryChain } from '../../../../src/registry/core/chain.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import type { FindResult, NSERegistryHandler } from '../../../../src/registry/core/types.js';
import { beginRegistryClient } from '../../../../src/registry/common/begin/index.js';
import { healRegistryClient } from '../../../../src/registry/common/heal/index.js';
import { registryMetadataClient } from '../../../../src/registry/common/metadata/index.js';
import { eventually } from '../../../helpers/eventually.js';

type NSE = NetworkServiceEndpoint;
type Q = NetworkServiceEndpointQuery;

/** A next whose watches are subjects the test controls. */
class FakeRegistry implements NSERegistryHandler {
  registers: string[] = [];
  unregisters: string[] = [];
  watches: { query: Q; subject: Subject<FindResult<NSE>>; closed: boolean }[] = [];

  register(item: NSE): Promise<NSE> {
    this.registers.push(item.name);
    return Promise.resolve(item);
  }
  find(query: Q): Observable<FindResult<NSE>> {
    return new Observable((s) => {
      const watch = { query, subject: new Subject<FindResult<NSE>>(), closed: false };
      this.watches.push(watch);
      const sub = watch.subject.subscribe(s);
      return () => {
        watch.closed = true;
        sub.unsubscribe();
      };
    });
  }
  unregister(item: NSE): Promise<void> {
    this.unregisters.push(item.name);
    return Promise.resolve();
  }
  get open(): number {
    return this.watches.filter((w) => !w.closed).length;
  }
}

describe('registry heal (unit)', function () {
  const ctx = ChainContext.background();
  const chain = () => registryChain<NSE, Q>(beginRegistryClient(NSE_KIND), registryMetadataClient(NSE_KIND), healRegistryClient(NSE_KIND, { reconnectDelayMs: 10 }));

  it('watches its own registration and registers again when the watch breaks, ends or reports a delete', async function () {
    const next = new FakeRegistry();
    const c = chain();
    await c.register(NetworkServiceEndpoint.create({ name: 'me' }), ctx, next);
    expect(next.watches).to.have.length(1);
    expect(next.watches[0]?.query).to.deep.include({ watch: true });
    expect(next.watches[0]?.query.networkServiceEndpoint?.name).to.equal('me');

    next.watches[0]?.subject.error(new Error('registry gone'));
    await eventually(() => next.registers.length === 2 && next.watches.length === 2);
    next.watches[1]?.subject.complete();
    await eventually(() => next.registers.length === 3 && next.watches.length === 3);
    next.watches[2]?.subject.next({ item: NetworkServiceEndpoint.create({ name: 'me' }), deleted: true });
    await eventually(() => next.registers.length === 4 && next.watches.length === 4);
    expect(next.open).to.equal(1);

    await c.unregister(NetworkServiceEndpoint.create({ name: 'me' }), ctx, next);
    expect(next.open).to.equal(0);
    next.watches[3]?.subject.error(new Error('late'));
    await new Promise((r) => setTimeout(r, 30));
    expect(next.registers).to.have.length(4);
  });

  it('reopens a broken watching find until unsubscribed; a non-watch find is not retried', async function () {
    const next = new FakeRegistry();
    const c = chain();
    const seen: string[] = [];
    const subscription = c.find({ networkServiceEndpoint: undefined, watch: true }, ctx, next).subscribe((r) => seen.push(r.item.name));
    await eventually(() => next.watches.length === 1);
    next.watches[0]?.subject.next({ item: NetworkServiceEndpoint.create({ name: 'x' }), deleted: false });
    next.watches[0]?.subject.error(new Error('broken'));
    await eventually(() => next.watches.length === 2);
    next.watches[1]?.subject.next({ item: NetworkServiceEndpoint.create({ name: 'y' }), deleted: false });
    expect(seen).to.deep.equal(['x', 'y']);
    subscription.unsubscribe();
    expect(next.open).to.equal(0);

    const once = firstValueFrom(c.find({ networkServiceEndpoint: undefined, watch: false }, ctx, next).pipe(take(1), toArray())).catch(
      (e: unknown) => e,
    );
    await eventually(() => next.watches.length === 3);
    next.watches[2]?.subject.error(new Error('fails once'));
    expect(await once).to.be.instanceOf(Error);
    await new Promise((r) => setTimeout(r, 30));
    expect(next.watches).to.have.length(3);
  });

  it('aborting the lifetime signal stops every self-watch and ends healed finds, without unregistering', async function () {
    const next = new FakeRegistry();
    const lifetime = new AbortController();
    const heal = healRegistryClient<NSE, Q>(NSE_KIND, { reconnectDelayMs: 10, signal: lifetime.signal });
    const c = registryChain<NSE, Q>(beginRegistryClient(NSE_KIND, lifetime.signal), registryMetadataClient(NSE_KIND), heal);
    await c.register(NetworkServiceEndpoint.create({ name: 'a' }), ctx, next);
    await c.register(NetworkServiceEndpoint.create({ name: 'b' }), ctx, next);
    let completed = false;
    c.find({ networkServiceEndpoint: undefined, watch: true }, ctx, next).subscribe({ complete: () => (completed = true) });
    expect(heal.size).to.equal(2);
    expect(next.open).to.equal(3);

    lifetime.abort();
    expect(heal.size).to.equal(0);
    expect(next.open).to.equal(0);
    expect(completed).to.equal(true);
    await new Promise((r) => setTimeout(r, 30));
    expect(next.registers).to.deep.equal(['a', 'b']); // no heal re-registration
    expect(next.unregisters).to.deep.equal([]);
    // A register after the end goes through, but starts nothing in the background.
    await c.register(NetworkServiceEndpoint.create({ name: 'c' }), ctx, next);
    expect(next.open).to.equal(0);
  });

  it('many healed finds at once add no abort listener each to the lifetime signal (found by the fuzz tests)', async function () {
    const next = new FakeRegistry();
    const lifetime = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const c = registryChain<NSE, Q>(healRegistryClient<NSE, Q>(NSE_KIND, { reconnectDelayMs: 10, signal: lifetime.signal }));
      let completed = 0;
      for (let i = 0; i < 30; i++) c.find({ networkServiceEndpoint: undefined, watch: true }, ctx, next).subscribe({ complete: () => void completed++ });
      expect(next.open).to.equal(30);
      // Node reports a listener leak through a process warning, emitted on a later tick.
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).to.deep.equal([]);
      lifetime.abort();
      expect(completed).to.equal(30);
      expect(next.open).to.equal(0);
      // A find made after the end ends at once.
      let late = false;
      c.find({ networkServiceEndpoint: undefined, watch: true }, ctx, next).subscribe({ complete: () => (late = true) });
      expect(late).to.equal(true);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
