import { expect } from 'chai';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { NetworkService, NetworkServiceEndpoint, type DeepPartial } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { discoverServer, discoveredFrom, type Discovered } from '../../../../src/networkservice/common/discover/index.js';
import { NS_KIND, NSE_KIND } from '../../../../src/registry/core/kind.js';
import { toRegistryHandler } from '../../../../src/registry/core/chain.js';
import { memoryStore } from '../../../../src/registry/common/memory/index.js';
import { storeElement } from '../../../../src/registry/common/store/index.js';
import { status } from '../../../../src/tools/grpc/status.js';
import { FakeNext } from '../../../helpers/fake-next.js';

function registry() {
  const ns = toRegistryHandler(storeElement(NS_KIND, memoryStore(NS_KIND)));
  const nse = toRegistryHandler(storeElement(NSE_KIND, memoryStore(NSE_KIND)));
  const ctx = ChainContext.background();
  return {
    ns,
    nse,
    addService: (s: DeepPartial<NetworkService>) => ns.register(NetworkService.fromPartial(s), ctx),
    addEndpoint: (e: Partial<NetworkServiceEndpoint>) => nse.register(NetworkServiceEndpoint.fromPartial({ url: 'tcp://127.0.0.1:1', ...e }), ctx),
  };
}

function request(conn: Record<string, unknown>): NetworkServiceRequest {
  return NetworkServiceRequest.fromPartial({ connection: { id: 'c1', ...conn } });
}

/** A next that records what discover found. */
function recording(): { next: FakeNext; found: () => Discovered | undefined } {
  const next = new FakeNext();
  let found: Discovered | undefined;
  next.onRequest = (req, ctx) => {
    found = discoveredFrom(ctx);
    return Promise.resolve(req.connection!);
  };
  return { next, found: () => found };
}

describe('discover', function () {
  it('keeps the endpoints the service matches allow for the client labels, and sets the payload', async function () {
    const r = registry();
    await r.addService({ name: 'svc', payload: 'ETHERNET', matches: [{ sourceSelector: { app: 'a' }, routes: [{ destinationSelector: { color: 'red' } }] }] });
    await r.addEndpoint({ name: 'red', networkServiceNames: ['svc'], networkServiceLabels: { svc: { labels: { color: 'red' } } } });
    await r.addEndpoint({ name: 'blue', networkServiceNames: ['svc'], networkServiceLabels: { svc: { labels: { color: 'blue' } } } });
    await r.addEndpoint({ name: 'other', networkServiceNames: ['other-svc'] });
    const { next, found } = recording();
    const conn = await discoverServer(r.ns, r.nse).request(request({ networkService: 'svc', labels: { app: 'a' } }), ChainContext.background(), next);
    expect(found()?.endpoints.map((e) => e.name)).to.deep.equal(['red']);
    expect(found()?.service.name).to.equal('svc');
    expect(conn.payload).to.equal('ETHERNET');
  });

  it('a named endpoint is the only candidate', async function () {
    const r = registry();
    await r.addService({ name: 'svc' });
    await r.addEndpoint({ name: 'one', networkServiceNames: ['svc'] });
    await r.addEndpoint({ name: 'two', networkServiceNames: ['svc'] });
    const { next, found } = recording();
    await discoverServer(r.ns, r.nse).request(request({ networkService: 'svc', networkServiceEndpointName: 'two' }), ChainContext.background(), next);
    expect(found()?.endpoints.map((e) => e.name)).to.deep.equal(['two']);
  });

  it('a named endpoint that does not offer the service is no candidate: a client cannot name a forwarder (found by the fuzz tests)', async function () {
    const r = registry();
    await r.addService({ name: 'svc' });
    await r.addEndpoint({ name: 'forwarder-0', networkServiceNames: ['forwarder'] });
    const { next, found } = recording();
    const error: unknown = await discoverServer(r.ns, r.nse, { waitMs: 50 })
      .request(request({ networkService: 'svc', networkServiceEndpointName: 'forwarder-0' }), ChainContext.background(), next)
      .catch((e: unknown) => e);
    expect(error).to.have.property('code', status.NOT_FOUND);
    expect(error).to.have.property('details').that.matches(/endpoint "forwarder-0" does not offer network service "svc"/);
    expect(found()).to.equal(undefined);
  });

  it('waits for a service and an endpoint that register after the request', async function () {
    const r = registry();
    const { next, found } = recording();
    const pending = discoverServer(r.ns, r.nse, { waitMs: 5000 }).request(request({ networkService: 'late' }), ChainContext.background(), next);
    await new Promise((res) => setTimeout(res, 30));
    expect(next.requests).to.have.length(0);
    await r.addService({ name: 'late' });
    await new Promise((res) => setTimeout(res, 30));
    expect(next.requests).to.have.length(0);
    await r.addEndpoint({ name: 'late-nse', networkServiceNames: ['late'] });
    await pending;
    expect(found()?.endpoints.map((e) => e.name)).to.deep.equal(['late-nse']);
  });

  it('NOT_FOUND, naming what is missing, when the wait runs out', async function () {
    const r = registry();
    await r.addService({ name: 'svc', matches: [{ sourceSelector: {}, routes: [{ destinationSelector: { x: 'y' } }] }] });
    await r.addEndpoint({ name: 'nse', networkServiceNames: ['svc'] });
    const d = discoverServer(r.ns, r.nse, { waitMs: 50 });
    const e1 = (await d.request(request({ networkService: 'nope' }), ChainContext.background(), new FakeNext()).catch((e: unknown) => e)) as Error & { code: number };
    expect(e1.code).to.equal(5);
    expect(e1.message).to.include('network service "nope" is not registered');
    const e2 = (await d.request(request({ networkService: 'svc', labels: { k: 'v' } }), ChainContext.background(), new FakeNext()).catch((e: unknown) => e)) as Error;
    expect(e2.message).to.include(`no endpoint of network service "svc" matches the client's labels {k=v}`);
    const e3 = (await d.request(request({ networkService: 'svc', networkServiceEndpointName: 'ghost' }), ChainContext.background(), new FakeNext()).catch((e: unknown) => e)) as Error;
    expect(e3.message).to.include('endpoint "ghost" is not registered');
  });

  it('refuses a connection without a network service; Close needs no registry', async function () {
    const r = registry();
    const d = discoverServer(r.ns, r.nse);
    const e = (await d.request(request({}), ChainContext.background(), new FakeNext()).catch((x: unknown) => x)) as Error & { code: number };
    expect(e.code).to.equal(3);
    const next = new FakeNext();
    await d.close(request({ networkService: 'gone' }).connection!, ChainContext.background(), next);
    expect(next.closes).to.have.length(1);
  });
});
