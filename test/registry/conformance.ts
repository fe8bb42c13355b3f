/**
 * The registry conformance suite: the same behaviour checked through real gRPC against a registry server
 * over any pair of stores (memory, etcd). Each test gets fresh stores from `makeStores`.
 */
import { expect } from 'chai';
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import type { NetworkService, NetworkServiceEndpoint } from '../../src/api/gen/registry.js';
import { ChainContext } from '../../src/networkservice/core/context.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/chains/client/index.js';
import { serveRegistryServer, type ServedRegistry } from '../../src/registry/chains/server/index.js';
import type { FindResult } from '../../src/registry/core/types.js';
import type { RegistryStore } from '../../src/registry/common/store/index.js';
import { FakeClock } from '../../src/tools/clock/index.js';
import { millisFromTimestamp } from '../../src/api/path.js';
import { statusRejection } from '../helpers/status.js';
import { tempSocketDir } from '../helpers/servers.js';
import { eventually, record } from '../helpers/eventually.js';

/** Fresh stores for one test. */
export interface ConformanceStores {
  readonly nse: RegistryStore<NetworkServiceEndpoint>;
  readonly ns: RegistryStore<NetworkService>;
  close(): Promise<void>;
}

const nse = (name: string, services: string[], url = 'tcp://127.0.0.1:5001', labels: Record<string, string> = {}) => ({
  name,
  networkServiceNames: services,
  networkServiceLabels: Object.fromEntries(services.map((s) => [s, { labels }])),
  url,
});

/** Defines the suite for stores made by `makeStores` (called in each test). */
export function registryConformance(title: string, makeStores: () => Promise<ConformanceStores | undefined>): void {
  describe(`registry conformance: ${title}`, function () {
    let sockets: ReturnType<typeof tempSocketDir>;
    let stores: ConformanceStores;
    let clock: FakeClock;
    let registry: ServedRegistry;
    let client: RegistryClient;
    let ctx: ChainContext;

    beforeEach(async function () {
      const made = await makeStores();
      if (made === undefined) this.skip();
      stores = made;
      sockets = tempSocketDir();
      clock = new FakeClock(Date.now());
      // The registry runs on the fake clock (expiry is driven by the test); clients on the real one, so their
      // retries and timeouts work, except where a test drives a client's refresh.
      ctx = ChainContext.background({ clock });
      registry = await serveRegistryServer(sockets.socket('registry'), { ctx, nseStore: stores.nse, nsStore: stores.ns });
      client = createRegistryClient({ connectTo: registry.url, chain: { retry: { intervalMs: 50 } } });
    });

    afterEach(async function () {
      if (registry === undefined) return;
      await client.close({ timeoutMs: 5000 });
      await registry.stop();
      await stores.close();
      sockets.cleanup();
    });

    it('registers, finds by name, service and labels, and unregisters', async function () {
      await client.registerEndpoint(nse('nse-a', ['svc-1'], 'tcp://127.0.0.1:5001', { app: 'a' }));
      await client.registerEndpoint(nse('nse-b', ['svc-1', 'svc-2'], 'tcp://127.0.0.1:5002', { app: 'b' }));
      const names = (list: NetworkServiceEndpoint[]) => list.map((n) => n.name).sort();
      expect(names(await client.findEndpoints({ name: 'nse-b' }))).to.deep.equal(['nse-b']);
      expect(names(await client.findEndpoints({ networkServiceNames: ['svc-1'] }))).to.deep.equal(['nse-a', 'nse-b']);
      expect(names(await client.findEndpoints({ networkServiceNames: ['svc-2'] }))).to.deep.equal(['nse-b']);
      const byLabel = await client.findEndpoints({ networkServiceLabels: { 'svc-1': { labels: { app: 'a' } } } });
      expect(names(byLabel)).to.deep.equal(['nse-a']);
      const [found] = await client.findEndpoints({ name: 'nse-a' });
      expect(found?.url).to.equal('tcp://127.0.0.1:5001');
      expect(found?.initialRegistrationTime).to.not.equal(undefined);
      expect(found?.pathIds.length).to.equal(2);

      await client.unregisterEndpoint('nse-a');
      expect(names(await client.findEndpoints({}))).to.deep.equal(['nse-b']);
      expect((await stores.nse.list()).map((n) => n.name)).to.deep.equal(['nse-b']);
    });

    it('a watch sees the current items, then add, update and delete', async function () {
      await client.registerEndpoint(nse('nse-old', ['svc']));
      const watch = record<FindResult<NetworkServiceEndpoint>>(client.watchEndpoints({ networkServiceNames: ['svc'] }));
      await eventually(() => watch.events.length === 1);
      await client.registerEndpoint(nse('nse-new', ['svc']));
      await client.registerEndpoint(nse('nse-new', ['svc'], 'tcp://127.0.0.1:6000'));
      await client.registerEndpoint(nse('other', ['elsewhere']));
      await client.unregisterEndpoint('nse-new');
      await eventually(() => watch.events.length === 4);
      watch.subscription.unsubscribe();
      const seen = watch.events.map((e) => [e.item.name, e.deleted, e.item.url]);
      expect(seen).to.deep.equal([
        ['nse-old', false, 'tcp://127.0.0.1:5001'],
        ['nse-new', false, 'tcp://127.0.0.1:5001'],
        ['nse-new', false, 'tcp://127.0.0.1:6000'],
        ['nse-new', true, 'tcp://127.0.0.1:6000'],
      ]);
      expect(watch.errors).to.deep.equal([]);
    });

    it('expires an endpoint at its expiration time, and watchers see the delete', async function () {
      const plain = createRegistryClient({ connectTo: registry.url, ctx, chain: { heal: false, retry: false } });
      // Registered by a chain without refresh: nothing keeps it alive.
      await plain.ns.register({ name: 'svc', payload: '', matches: [], pathIds: [] }, ctx);
      const registered = await registry.nseChain.register(
        { ...nse('nse-x', ['svc']), expirationTime: undefined, initialRegistrationTime: undefined, pathIds: [] },
        ctx,
      );
      const expiresAt = millisFromTimestamp(registered.expirationTime ?? { seconds: 0, nanos: 0 });
      expect(expiresAt - clock.now()).to.be.within(59_000, 60_000);
      const watch = record<FindResult<NetworkServiceEndpoint>>(client.watchEndpoints({ name: 'nse-x' }));
      await eventually(() => watch.events.length === 1);
      clock.advance(30_000);
      expect((await stores.nse.list()).length).to.equal(1);
      clock.advance(31_000);
      await eventually(() => watch.events.length === 2);
      expect(watch.events[1]).to.deep.include({ deleted: true });
      expect(watch.events[1]?.item.name).to.equal('nse-x');
      expect(await stores.nse.list()).to.deep.equal([]);
      watch.subscription.unsubscribe();
    });

    it('refresh keeps an endpoint alive past its first lifetime', async function () {
      const refreshing = createRegistryClient({ connectTo: registry.url, ctx, chain: { heal: false } });
      const first = await refreshing.registerEndpoint(nse('nse-r', ['svc']));
      const firstExpiry = millisFromTimestamp(first.expirationTime ?? { seconds: 0, nanos: 0 });
      clock.advance(41_000); // past 2/3 of the minute: the client refreshes
      await eventually(async () => {
        const [stored] = await stores.nse.list();
        return stored !== undefined && millisFromTimestamp(stored.expirationTime ?? { seconds: 0, nanos: 0 }) > firstExpiry;
      });
      clock.advance(30_000); // past the first expiration time
      const [stored] = await stores.nse.list();
      expect(stored?.name).to.equal('nse-r');
      await refreshing.close();
      expect(await stores.nse.list()).to.deep.equal([]);
    });

    it('1,000 concurrent registrations of distinct endpoints all land exactly once', async function () {
      this.timeout(60_000);
      const watch = record<FindResult<NetworkServiceEndpoint>>(client.watchEndpoints({ networkServiceNames: ['bulk'] }));
      const names = Array.from({ length: 1000 }, (_, i) => `bulk-${i}`);
      await Promise.all(names.map((name, i) => client.registerEndpoint(nse(name, ['bulk'], `tcp://127.0.0.1:${10000 + i}`))));
      const stored = await stores.nse.list();
      expect(stored.map((n) => n.name).sort()).to.deep.equal([...names].sort());
      await eventually(() => watch.events.length >= 1000, 20_000);
      const counts = new Map<string, number>();
      for (const e of watch.events) counts.set(e.item.name, (counts.get(e.item.name) ?? 0) + 1);
      expect(counts.size).to.equal(1000);
      expect([...counts.values()].every((c) => c === 1)).to.equal(true);
      watch.subscription.unsubscribe();
    });

    it('refuses bad input with INVALID_ARGUMENT and leaves the store unchanged', async function () {
      const direct = createRegistryClient({ connectTo: registry.url, ctx, chain: { retry: false, heal: false } });
      await direct.registerEndpoint(nse('keep', ['svc']));
      const before = await stores.nse.list();
      const cases: [Partial<NetworkServiceEndpoint>, RegExp][] = [
        [nse('', ['svc']), /name/],
        [nse('no-url', ['svc'], ''), /url/i],
        [nse('bad-url', ['svc'], 'http//nowhere'), /bad-url|url/i],
      ];
      for (const [item, message] of cases) {
        const error = await statusRejection(direct.registerEndpoint(item));
        expect(error.code, JSON.stringify(item)).to.equal(3);
        expect(error.details).to.match(message);
      }
      const badMatch = await statusRejection(
        direct.registerService({ name: 'svc', matches: [{ sourceSelector: { app: 'x' }, routes: [], fallthrough: false, metadata: undefined }] }),
      );
      expect(badMatch.code).to.equal(3);
      expect(badMatch.details).to.match(/routes/);
      const emptyService = await statusRejection(direct.registerService({ name: '' }));
      expect(emptyService.code).to.equal(3);
      expect(await stores.nse.list()).to.deep.equal(before);
      expect(await stores.ns.list()).to.deep.equal([]);
      await direct.close();
    });

    it('registers, watches and unregisters network services, with the default payload', async function () {
      const watch = record<FindResult<NetworkService>>(client.watchServices({}));
      const registered = await client.registerService({ name: 'secure-intranet' });
      expect(registered.payload).to.equal('IP');
      const [found] = await client.findServices({ name: 'secure-intranet' });
      expect(found?.payload).to.equal('IP');
      await client.unregisterService('secure-intranet');
      await eventually(() => watch.events.length === 2);
      expect(watch.events.map((e) => e.deleted)).to.deep.equal([false, true]);
      watch.subscription.unsubscribe();
      expect(await client.findServices({})).to.deep.equal([]);
    });

    it('a non-watch find completes and an unsubscribed watch releases its stream', async function () {
      await client.registerEndpoint(nse('nse-1', ['svc']));
      const results = await firstValueFrom(client.nse.find({ networkServiceEndpoint: undefined, watch: false }, ctx).pipe(toArray()));
      expect(results.map((r) => r.item.name)).to.deep.equal(['nse-1']);
      const first = await firstValueFrom(client.watchEndpoints({}).pipe(filter((r) => !r.deleted), take(1)));
      expect(first.item.name).to.equal('nse-1');
      await eventually(() => registry.nseBinding.openFinds === 0 || registry.nseBinding.openFinds === 1);
      await eventually(() => registry.nseBinding.openFinds <= 1); // the client's own heal watch on nse-1
    });
  });
}
