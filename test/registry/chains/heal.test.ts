import { expect } from 'chai';
import { ChainContext } from '../../../src/networkservice/core/context.js';
import { createRegistryClient } from '../../../src/registry/chains/client/index.js';
import { serveRegistryServer } from '../../../src/registry/chains/server/index.js';
import { NS_KIND, NSE_KIND } from '../../../src/registry/core/kind.js';
import { memoryStore } from '../../../src/registry/common/memory/index.js';
import { tempSocketDir } from '../../helpers/servers.js';
import { eventually } from '../../helpers/eventually.js';

describe('registry heal', function () {
  let sockets: ReturnType<typeof tempSocketDir>;

  beforeEach(() => {
    sockets = tempSocketDir();
  });
  afterEach(() => sockets.cleanup());

  for (const how of ['killed', 'stopped'] as const) {
    it(`registers an endpoint again after the registry is ${how} and restarts on the same address`, async function () {
      const url = sockets.socket('registry');
      const firstStore = memoryStore(NSE_KIND);
      const first = await serveRegistryServer(url, { nseStore: firstStore });
      const ctx = ChainContext.background();
      const client = createRegistryClient({ connectTo: url, ctx, chain: { retry: { intervalMs: 50 }, heal: { reconnectDelayMs: 50 } } });
      await client.registerEndpoint({ name: 'nse-heal', networkServiceNames: ['svc'], url: 'tcp://127.0.0.1:5001' });
      expect(firstStore.size).to.equal(1);

      if (how === 'killed') await first.kill();
      else await first.stop();
      // The new registry remembers nothing: only the client's heal can bring the endpoint back.
      const secondStore = memoryStore(NSE_KIND);
      const second = await serveRegistryServer(url, { nseStore: secondStore });
      await eventually(() => secondStore.size === 1, 10_000);
      const [found] = await client.findEndpoints({ name: 'nse-heal' });
      expect(found?.url).to.equal('tcp://127.0.0.1:5001');

      expect(second.nseChain.expire.pending).to.equal(1);
      await client.close();
      expect(secondStore.size).to.equal(0);
      expect(second.nseChain.expire.pending).to.equal(0);
      await eventually(() => second.nseBinding.openFinds === 0);
      await second.stop();
    });
  }

  it('an unregister is not stuck behind a heal that retries against a dead registry', async function () {
    const url = sockets.socket('registry');
    const registry = await serveRegistryServer(url);
    const client = createRegistryClient({ connectTo: url, chain: { retry: { intervalMs: 50 }, heal: { reconnectDelayMs: 50 } } });
    await client.registerEndpoint({ name: 'nse-stuck', networkServiceNames: ['svc'], url: 'tcp://127.0.0.1:5001' });
    await registry.kill();
    await new Promise((r) => setTimeout(r, 200)); // heal is now retrying, with no deadline of its own
    const error = await client.unregisterEndpoint('nse-stuck', { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(Error); // the registry is dead: the unregister fails, within its time limit
    const restarted = await serveRegistryServer(url, { nseStore: memoryStore(NSE_KIND) });
    await new Promise((r) => setTimeout(r, 300));
    expect(await client.findEndpoints({})).to.deep.equal([]); // and heal stopped: nothing came back
    await restarted.stop();
  });

  it('stops healing once the endpoint is unregistered', async function () {
    const url = sockets.socket('registry');
    const first = await serveRegistryServer(url);
    const client = createRegistryClient({ connectTo: url, chain: { retry: { intervalMs: 50 }, heal: { reconnectDelayMs: 50 } } });
    await client.registerEndpoint({ name: 'nse-gone', networkServiceNames: ['svc'], url: 'tcp://127.0.0.1:5001' });
    await client.registerEndpoint({ name: 'nse-left', networkServiceNames: ['svc'], url: 'tcp://127.0.0.1:5002' });
    await client.unregisterEndpoint('nse-gone');
    // nse-left stays registered: stopping the registry cancels its expiry timer, leaving no timer behind.
    expect(first.nseChain.expire.pending).to.equal(1);
    await first.stop();
    expect(first.nseChain.expire.pending).to.equal(0);
    await client.unregisterEndpoint('nse-left', { timeoutMs: 300 }).catch(() => undefined);
    const store = memoryStore(NSE_KIND);
    const second = await serveRegistryServer(url, { nseStore: store });
    await new Promise((r) => setTimeout(r, 300));
    expect(store.size).to.equal(0);
    await second.stop();
  });

  it('a closed client stops healing its network services (they stay registered) and its endpoints', async function () {
    const url = sockets.socket('registry');
    const first = await serveRegistryServer(url);
    const options = { connectTo: url, chain: { retry: { intervalMs: 50 }, heal: { reconnectDelayMs: 50 } } };
    const client = createRegistryClient(options);
    const control = createRegistryClient(options); // stays open: shows when heal has had its chance
    await client.registerService({ name: 'svc' });
    await client.registerEndpoint({ name: 'nse-closed', networkServiceNames: ['svc'], url: 'tcp://127.0.0.1:5001' });
    await control.registerService({ name: 'svc-control' });
    await control.registerEndpoint({ name: 'nse-control', networkServiceNames: ['svc-control'], url: 'tcp://127.0.0.1:5002' });
    await first.kill();
    await new Promise((r) => setTimeout(r, 200)); // the heals are now retrying against the dead registry
    await client.close({ timeoutMs: 300 });
    const nsStore = memoryStore(NS_KIND);
    const nseStore = memoryStore(NSE_KIND);
    const second = await serveRegistryServer(url, { nsStore, nseStore });
    await eventually(() => nsStore.size > 0 && nseStore.size > 0, 10_000);
    expect((await nsStore.list()).map((s) => s.name)).to.deep.equal(['svc-control']);
    expect((await nseStore.list()).map((s) => s.name)).to.deep.equal(['nse-control']);
    await control.close();
    await eventually(() => second.nsBinding.openFinds + second.nseBinding.openFinds === 0);
    expect((await nsStore.list()).map((s) => s.name)).to.deep.equal(['svc-control']); // services stay registered
    await second.stop();
  });
});
