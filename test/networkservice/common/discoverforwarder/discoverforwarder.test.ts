import { expect } from 'chai';
import { State } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { NetworkService, NetworkServiceEndpoint } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import { metadataServer } from '../../../../src/networkservice/common/metadata/index.js';
import { clientURLFrom } from '../../../../src/networkservice/common/clienturl/index.js';
import { withDiscovered } from '../../../../src/networkservice/common/discover/index.js';
import { discoverForwarderServer, matchForwarders } from '../../../../src/networkservice/common/discoverforwarder/index.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import { registryChain, toRegistryHandler } from '../../../../src/registry/core/chain.js';
import { localBypassServer } from '../../../../src/registry/common/localbypass/index.js';
import { memoryStore } from '../../../../src/registry/common/memory/index.js';
import { storeElement } from '../../../../src/registry/common/store/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

const MANAGER = 'tcp://127.0.0.1:5000';
const fwd = (name: string, labels: Record<string, string> = { p2p: 'true' }, url = `unix:///run/${name}.sock`) =>
  NetworkServiceEndpoint.fromPartial({ name, url, networkServiceNames: ['forwarder'], networkServiceLabels: { forwarder: { labels } } });

describe('discoverforwarder: matchForwarders', function () {
  const all = [fwd('p2p'), fwd('p2mp', { p2mp: 'true' }), fwd('node-x', { p2p: 'true', node: 'x' })];
  it('a service without matches may use any forwarder of the node', function () {
    expect(matchForwarders({}, NetworkService.create({ name: 's' }), all).map((f) => f.name)).to.deep.equal(['p2p', 'p2mp', 'node-x']);
  });
  it('a match without metadata labels asks for p2p=true; a forwarder without labels for the service never fits', function () {
    const ns = NetworkService.fromPartial({ name: 's', matches: [{ routes: [{ destinationSelector: {} }] }] });
    const unlabelled = NetworkServiceEndpoint.fromPartial({ name: 'bare', url: 'unix:///run/bare.sock', networkServiceNames: ['forwarder'] });
    expect(matchForwarders({}, ns, [...all, unlabelled]).map((f) => f.name)).to.deep.equal(['p2p', 'node-x']);
  });
  it('uses the metadata labels of the first applying match, with templates, and honours fallthrough', function () {
    const ns = NetworkService.fromPartial({
      name: 's',
      matches: [
        { sourceSelector: { mode: 'multi' }, metadata: { labels: { p2mp: 'true' } } },
        { fallthrough: true, metadata: { labels: { node: '{{.nodeName}}' } } },
        { sourceSelector: { app: 'x' } },
      ],
    });
    expect(matchForwarders({ mode: 'multi' }, ns, all).map((f) => f.name)).to.deep.equal(['p2mp']);
    expect(matchForwarders({ nodeName: 'x' }, ns, all).map((f) => f.name)).to.deep.equal(['node-x']);
    // Falls through; the next match does not apply to these labels, so nothing fits.
    expect(matchForwarders({ nodeName: 'y' }, ns, all).map((f) => f.name)).to.deep.equal([]);
    // Falls through to a match that applies and asks for the default p2p=true.
    expect(matchForwarders({ nodeName: 'y', app: 'x' }, ns, all).map((f) => f.name)).to.deep.equal(['p2p', 'node-x']);
  });
  it('a match that applies and picks none ends the search without fallthrough', function () {
    const ns = NetworkService.fromPartial({
      name: 's',
      matches: [{ metadata: { labels: { gpu: 'true' } } }, { metadata: { labels: { p2p: 'true' } } }],
    });
    expect(matchForwarders({}, ns, all)).to.deep.equal([]);
  });
});

describe('discoverforwarder', function () {
  async function setup(forwarders: NetworkServiceEndpoint[]) {
    // As in a manager: forwarders register through localbypass, which publishes them under the manager
    // URL and gives their real URLs back on find.
    const registry = toRegistryHandler(registryChain(localBypassServer(MANAGER), storeElement(NSE_KIND, memoryStore(NSE_KIND))));
    const other = toRegistryHandler(storeElement(NSE_KIND, memoryStore(NSE_KIND)));
    for (const f of forwarders) await (f.url.startsWith('tcp:') ? other : registry).register(f, ChainContext.background());
    const element = discoverForwarderServer(registry, MANAGER, { waitMs: 100 });
    const c = chain(metadataServer(), element);
    const next = new FakeNext();
    const urls: (string | undefined)[] = [];
    next.onRequest = (r, ctx) => {
      urls.push(clientURLFrom(ctx));
      return Promise.resolve(r.connection!);
    };
    const ctx = withDiscovered(ChainContext.background(), { service: NetworkService.create({ name: 'svc' }), endpoints: [] });
    return { c, next, urls, ctx };
  }
  const req = (id: string, extra: Record<string, unknown> = {}) =>
    NetworkServiceRequest.fromPartial({ connection: { id, networkService: 'svc', ...extra } });

  it('sends the request to a forwarder registered at this manager, and keeps it for the connection', async function () {
    const { c, next, urls, ctx } = await setup([fwd('f1'), fwd('f2'), fwd('elsewhere', { p2p: 'true' }, 'tcp://127.0.0.1:6000')]);
    const conn = await c.request(req('a'), ctx, next);
    await c.request(req('a', { path: conn.path }), ctx, next);
    await c.request(req('a'), ctx, next);
    expect(urls).to.have.length(3);
    expect(new Set(urls).size).to.equal(1);
    expect(urls[0]).to.match(/^unix:\/\/\/run\/f[12]\.sock$/);
    // A new connection takes the next forwarder in turn.
    await c.request(req('b'), ctx, next);
    expect(urls[3]).to.match(/^unix:\/\/\/run\/f[12]\.sock$/).and.not.equal(urls[0]);
  });

  it('skips a forwarder that fails; RESELECT_REQUESTED forgets the kept one', async function () {
    const { c, next, ctx } = await setup([fwd('bad'), fwd('good')]);
    const tried: (string | undefined)[] = [];
    next.onRequest = (r, nctx) => {
      const url = clientURLFrom(nctx);
      tried.push(url);
      return url === 'unix:///run/bad.sock' ? Promise.reject(new Error('forwarder down')) : Promise.resolve(r.connection!);
    };
    await c.request(req('a'), ctx, next);
    await c.request(req('a'), ctx, next);
    expect(tried.slice(-2)).to.deep.equal(['unix:///run/good.sock', 'unix:///run/good.sock']);
    // RESELECT_REQUESTED: the kept forwarder is dropped and selection starts over (taking turns).
    tried.length = 0;
    await c.request(req('a', { state: State.RESELECT_REQUESTED }), ctx, next);
    expect(tried[tried.length - 1]).to.equal('unix:///run/good.sock');
    expect(tried.length).to.be.at.least(1);
  });

  it('NOT_FOUND naming the labels when no forwarder matches', async function () {
    const { c, next } = await setup([fwd('p2mp-only', { p2mp: 'true' })]);
    const ns = NetworkService.fromPartial({ name: 'svc', matches: [{ routes: [{ destinationSelector: {} }] }] });
    const ctx = withDiscovered(ChainContext.background(), { service: ns, endpoints: [] });
    const error = (await c.request(req('a'), ctx, next).catch((e: unknown) => e)) as Error & { code: number };
    expect(error.code).to.equal(5);
    expect(error.message).to.include('no forwarder at tcp://127.0.0.1:5000 matches labels {p2p=true}');
  });

  it('a kept forwarder that fails is not tried again in the same request; the failure names every forwarder once', async function () {
    const { c, next, ctx } = await setup([fwd('f1'), fwd('f2')]);
    const conn = await c.request(req('a'), ctx, next);
    const tried: (string | undefined)[] = [];
    next.onRequest = (_r, nctx) => {
      tried.push(clientURLFrom(nctx));
      return Promise.reject(new Error('down'));
    };
    const error = (await c.request(req('a', { path: conn.path }), ctx, next).catch((e: unknown) => e)) as Error;
    expect(tried).to.have.length(2);
    expect(new Set(tried).size).to.equal(2);
    expect(error.message).to.match(/all forwarders have failed: f[12] \(down\); f[12] \(down\)$/);
  });

  it('a reselect tries the forwarder of the broken path last', async function () {
    const { c, next, urls, ctx } = await setup([fwd('f1'), fwd('f2'), fwd('f3')]);
    const path = { index: 1, pathSegments: [{ name: 'nsc' }, { name: 'nsmgr' }, { name: 'f3' }, { name: 'nse' }] };
    for (let i = 0; i < 3; i++) await c.request(req(`r${i}`, { path, state: State.RESELECT_REQUESTED }), ctx, next);
    expect(urls).to.not.include('unix:///run/f3.sock');
    next.onRequest = (r, nctx) =>
      clientURLFrom(nctx) === 'unix:///run/f3.sock' ? Promise.resolve(r.connection!) : Promise.reject(new Error('down'));
    const conn = await c.request(req('r9', { path, state: State.RESELECT_REQUESTED }), ctx, next);
    expect(conn.id).to.equal('r9');
  });

  it('prefers the forwarder named in the path after this manager (a restarted manager has no memory)', async function () {
    const { c, next, urls, ctx } = await setup([fwd('f1'), fwd('f2'), fwd('f3')]);
    // This manager is segment 1; segment 2 names the forwarder used before. Without the path, new
    // connections would take f1, f2, f3 in turn.
    const path = { index: 1, pathSegments: [{ name: 'nsc' }, { name: 'nsmgr' }, { name: 'f3' }, { name: 'nse' }] };
    for (let i = 0; i < 3; i++) await c.request(req(`p${i}`, { path }), ctx, next);
    expect(urls).to.deep.equal(Array(3).fill('unix:///run/f3.sock'));
    expect(next.requests).to.have.length(3);
  });
});
