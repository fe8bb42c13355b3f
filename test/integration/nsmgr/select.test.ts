import { expect } from 'chai';
import type { Connection } from '../../../src/api/gen/connection.js';
import type { NetworkServiceServer } from '../../../src/networkservice/core/types.js';
import { noopDataplane } from '../../../src/networkservice/chains/forwarder/chain.js';
import { createDomain, type Domain } from '../../../src/tools/sandbox/index.js';
import { baseline, expectNoLeaks, type Resources } from '../../helpers/leaks.js';

const names = (conn: Connection): string[] => conn.path?.pathSegments.map((s) => s.name) ?? [];

describe('nsmgr: NetworkService matches (sandbox)', function () {
  this.timeout(30_000);
  let domain: Domain | undefined;
  let before: Resources;

  beforeEach(async () => {
    before = await baseline();
  });
  afterEach(async () => {
    await domain?.stop();
    domain = undefined;
    await expectNoLeaks(before);
  });

  it('chooses endpoints by the client labels, with fallthrough and a {{.nodeName}} template', async function () {
    domain = await createDomain({ nodes: 1 });
    await domain.registerService({
      name: 'svc',
      matches: [
        { sourceSelector: { app: 'firewall' }, routes: [{ destinationSelector: { app: 'fw-nse' } }] },
        { fallthrough: true, routes: [{ destinationSelector: { node: '{{.nodeName}}' } }] },
        { routes: [{ destinationSelector: { app: 'default' } }] },
      ],
    });
    const node = domain.nodes[0]!;
    await node.addEndpoint({ name: 'fw-nse', networkServices: ['svc'], labels: { app: 'fw-nse' } });
    await node.addEndpoint({ name: 'node-1-nse', networkServices: ['svc'], labels: { node: 'node-1' } });
    await node.addEndpoint({ name: 'default-nse', networkServices: ['svc'], labels: { app: 'default' } });
    const client = node.client({ name: 'nsc' });
    const cases: [Record<string, string>, string][] = [
      [{ app: 'firewall' }, 'fw-nse'],
      [{ nodeName: 'node-1' }, 'node-1-nse'],
      [{ nodeName: 'node-9' }, 'default-nse'],
      [{}, 'default-nse'],
    ];
    for (const [labels, expected] of cases) {
      for (let i = 0; i < 3; i++) {
        const conn = await client.request({ connection: { networkService: 'svc', labels } });
        expect(conn.networkServiceEndpointName, JSON.stringify(labels)).to.equal(expected);
        await client.close(conn);
      }
    }
  });
});

/** A forwarder data plane that refuses every request. */
const broken: NetworkServiceServer = {
  name: 'broken-dataplane',
  request: () => Promise.reject(new Error('this forwarder is broken')),
  close: () => Promise.resolve(),
};

describe('nsmgr: forwarder selection (sandbox)', function () {
  this.timeout(60_000);
  let domain: Domain | undefined;
  let before: Resources;

  beforeEach(async () => {
    before = await baseline();
  });
  afterEach(async () => {
    await domain?.stop();
    domain = undefined;
    await expectNoLeaks(before);
  });

  it('point-to-point by default, point-to-multipoint when the match asks for it by metadata labels', async function () {
    domain = await createDomain({ nodes: 1, forwarders: 0 });
    const node = domain.nodes[0]!;
    await node.addForwarder('fwd-p2p');
    await node.addForwarder('fwd-p2mp', { p2mp: 'true' });
    await domain.registerService({
      name: 'svc',
      // A match applies to the clients its source selector picks; the second one takes everybody else.
      matches: [
        { sourceSelector: { mode: 'multi' }, metadata: { labels: { p2mp: 'true' } } },
        { routes: [{ destinationSelector: {} }] },
      ],
    });
    await node.addEndpoint({ name: 'nse', networkServices: ['svc'] });
    const client = node.client({ name: 'nsc' });
    const p2p = await client.request({ connection: { networkService: 'svc' } });
    expect(names(p2p)[2]).to.equal('fwd-p2p');
    const p2mp = await client.request({ connection: { networkService: 'svc', labels: { mode: 'multi' } } });
    expect(names(p2mp)[2]).to.equal('fwd-p2mp');
    await client.close(p2p);
    await client.close(p2mp);
  });

  it('skips a failing forwarder', async function () {
    domain = await createDomain({ nodes: 1, forwarders: 0 });
    const node = domain.nodes[0]!;
    const dataplane = noopDataplane();
    await node.addForwarder('fwd-broken', undefined, { server: [broken, ...dataplane.server], client: dataplane.client });
    await node.addForwarder('fwd-good');
    await domain.registerService({ name: 'svc' });
    const nse = await node.addEndpoint({ name: 'nse', networkServices: ['svc'] });
    const client = node.client({ name: 'nsc' });
    for (let i = 0; i < 4; i++) {
      const conn = await client.request({ connection: { networkService: 'svc' } });
      expect(names(conn)[2]).to.equal('fwd-good');
      await client.close(conn);
    }
    expect(nse.counter.requests).to.equal(4);
  });

  it('keeps the chosen forwarder while the connection is fine, and across 10 manager restarts', async function () {
    domain = await createDomain({ nodes: 1, forwarders: 3 });
    const node = domain.nodes[0]!;
    await domain.registerService({ name: 'svc' });
    const nse = await node.addEndpoint({ name: 'nse', networkServices: ['svc'] });
    const client = node.client({ name: 'nsc' });
    // Three connections take the three forwarders in turn; a fresh manager would start the turns again,
    // so only the path can tell it which forwarder each one used.
    let conns = [];
    for (let i = 0; i < 3; i++) conns.push(await client.request({ connection: { networkService: 'svc' } }));
    const forwarders = conns.map((c) => names(c)[2]);
    expect(new Set(forwarders).size).to.equal(3);
    for (let i = 0; i < 3; i++) {
      conns = await Promise.all(conns.map((c) => client.request({ connection: c })));
      expect(conns.map((c) => names(c)[2])).to.deep.equal(forwarders);
    }
    for (let restart = 0; restart < 10; restart++) {
      await node.restartNsmgr();
      // In another order each time, so that taking turns afresh would hand out other forwarders.
      for (let k = 0; k < conns.length; k++) {
        const i = (k + restart + 1) % conns.length;
        conns[i] = await client.request({ connection: conns[i] }, { timeoutMs: 10_000 });
      }
      expect(conns.map((c) => names(c)[2]), `after restart ${restart + 1}`).to.deep.equal(forwarders);
    }
    for (const conn of conns) await client.close(conn);
    expect(nse.counter.closes).to.equal(3);
  });
});
