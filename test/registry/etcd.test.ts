import { expect } from 'chai';
import { NetworkService, NetworkServiceEndpoint } from '../../src/api/gen/registry.js';
import { createRegistryClient } from '../../src/registry/chains/client/index.js';
import { serveRegistryServer } from '../../src/registry/chains/server/index.js';
import { NS_KIND, NSE_KIND } from '../../src/registry/core/kind.js';
import type { FindResult } from '../../src/registry/core/types.js';
import { etcdStore } from '../../src/registry/common/etcd/index.js';
import { startEtcd, type EtcdInstance } from '../helpers/etcd.js';
import { tempSocketDir } from '../helpers/servers.js';
import { registryConformance } from './conformance.js';
import { eventually, record } from '../helpers/eventually.js';

describe('registry over etcd', function () {
  this.timeout(60_000);
  let etcd: EtcdInstance | undefined;
  let test = 0;

  before(async function () {
    etcd = await startEtcd();
  });
  after(async () => etcd?.stop());

  // Each test its own prefix: the suite shares one etcd.
  const stores = (prefix: string) => {
    const endpoints = [etcd?.endpoint ?? ''];
    const nse = etcdStore(NSE_KIND, endpoints, { prefix: `/${prefix}/nse/` });
    const ns = etcdStore(NS_KIND, endpoints, { prefix: `/${prefix}/ns/` });
    return { nse, ns, close: async () => void (await Promise.all([nse.close(), ns.close()])) };
  };

  registryConformance('etcd store', () => Promise.resolve(etcd === undefined ? undefined : stores(`conformance-${test++}`)));

  describe('two registry servers over one etcd', function () {
    it('an endpoint registered through one is found and watched through the other; killing one loses nothing', async function () {
      if (etcd === undefined) this.skip();
      const sockets = tempSocketDir();
      // Chosen by configuration: each server opens (and on stop closes) its own etcd client.
      const etcdConfig = { endpoints: [etcd?.endpoint ?? ''], prefix: '/shared/' };
      const registryA = await serveRegistryServer('tcp://127.0.0.1:0', { etcd: etcdConfig });
      const registryB = await serveRegistryServer('tcp://127.0.0.1:0', { etcd: etcdConfig });
      expect(registryA.url).to.not.equal(registryB.url);
      const clientA = createRegistryClient({ connectTo: registryA.url });
      const clientB = createRegistryClient({ connectTo: registryB.url });
      try {
        const watchB = record<FindResult<NetworkServiceEndpoint>>(clientB.watchEndpoints({ networkServiceNames: ['shared-svc'] }));
        await clientA.registerService(NetworkService.fromPartial({ name: 'shared-svc' }));
        await clientA.registerEndpoint({ name: 'nse-via-a', networkServiceNames: ['shared-svc'], url: 'tcp://127.0.0.1:5001' });
        const found = await clientB.findEndpoints({ networkServiceNames: ['shared-svc'] });
        expect(found.map((n) => n.name)).to.deep.equal(['nse-via-a']);
        expect((await clientB.findServices({ name: 'shared-svc' })).map((s) => s.payload)).to.deep.equal(['IP']);
        await eventually(() => watchB.events.some((e) => e.item.name === 'nse-via-a' && !e.deleted));

        await registryA.kill();
        const afterKill = await clientB.findEndpoints({ name: 'nse-via-a' });
        expect(afterKill.map((n) => n.url)).to.deep.equal(['tcp://127.0.0.1:5001']);
        await clientB.registerEndpoint({ name: 'nse-via-b', networkServiceNames: ['shared-svc'], url: 'tcp://127.0.0.1:5002' });
        await clientB.unregisterEndpoint('nse-via-b');
        await eventually(() => watchB.events.some((e) => e.item.name === 'nse-via-b' && e.deleted));
        expect(watchB.errors).to.deep.equal([]);
        watchB.subscription.unsubscribe();
        // The items are in etcd, under the configured prefix.
        const inEtcd = etcdStore(NSE_KIND, etcdConfig.endpoints, { prefix: '/shared/NetworkServiceEndpoint/' });
        expect((await inEtcd.list()).map((n) => n.name)).to.deep.equal(['nse-via-a']);
        await inEtcd.close();
      } finally {
        await clientA.close({ timeoutMs: 500 });
        await clientB.close();
        await registryA.stop();
        await registryB.stop();
        sockets.cleanup();
      }
    });
  });
});
