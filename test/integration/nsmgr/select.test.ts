import { expect } from 'chai';
import { type Connection, State } from '../../../src/api/gen/connection.js';
import { eventually, record } from '../../helpers/eventually.js';
import type { NetworkServiceServer } from '../../../src/networkservice/core/types.js';
import { noopDataplane } from '../../../src/networkservice/chains/forwarder/chain.js';
import { excludedPrefixesClient } from '../../../src/networkservice/common/excludedprefixes/index.js';
import { sandboxHooks } from './sandbox.js';

const names = (conn: Connection): string[] => conn.path?.pathSegments.map((s) => s.name) ?? [];

describe('nsmgr: NetworkService matches (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  it('chooses endpoints by the client labels, with fallthrough and a {{.nodeName}} template', async function () {
    const domain = await sandbox.start({ nodes: 1 });
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
  const sandbox = sandboxHooks();

  it('point-to-point by default, point-to-multipoint when the match asks for it by metadata labels', async function () {
    const domain = await sandbox.start({ nodes: 1, forwarders: 0 });
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
    const domain = await sandbox.start({ nodes: 1, forwarders: 0 });
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
    const domain = await sandbox.start({ nodes: 1, forwarders: 3 });
    const node = domain.nodes[0]!;
    await domain.registerService({ name: 'svc' });
    const nse = await node.addEndpoint({ name: 'nse', networkServices: ['svc'] });
    // No heal: this test re-requests by hand after each restart, to see what the path alone brings back.
    // Retry: a re-request may race the kill on its channel's old transport (CANCELLED), as a refresh would.
    const client = node.client({ name: 'nsc', heal: false, retry: { intervalMs: 50 } });
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

describe('nsmgr: labels, excluded prefixes, service changes (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  it('the manager labels connections with its node name, so {{.nodeName}} routes each client to its own node', async function () {
    const domain = await sandbox.start({ nodes: 2 });
    await domain.registerService({ name: 'svc', matches: [{ routes: [{ destinationSelector: { node: '{{.nodeName}}' } }] }] });
    await domain.nodes[0]!.addEndpoint({ name: 'nse-on-0', networkServices: ['svc'], labels: { node: 'node-0' } });
    await domain.nodes[1]!.addEndpoint({ name: 'nse-on-1', networkServices: ['svc'], labels: { node: 'node-1' } });
    for (const index of [0, 1, 0, 1]) {
      const client = domain.nodes[index]!.client({ name: `nsc-${index}` });
      const conn = await client.request({ connection: { networkService: 'svc' } });
      expect(conn.networkServiceEndpointName).to.equal(`nse-on-${index}`);
      expect(names(conn)).to.have.length(4);
      await client.close(conn);
    }
  });

  it('excluded prefixes: a client with excludedprefixes gets non-overlapping addresses from two endpoints with one CIDR; manager prefixes are avoided', async function () {
    const domain = await sandbox.start({ nodes: 1, excludedPrefixes: ['10.30.0.0/31'] });
    await domain.registerService({ name: 'svc-a' });
    await domain.registerService({ name: 'svc-b' });
    await domain.nodes[0]!.addEndpoint({ name: 'nse-a', networkServices: ['svc-a'], cidr: '10.30.0.0/24' });
    await domain.nodes[0]!.addEndpoint({ name: 'nse-b', networkServices: ['svc-b'], cidr: '10.30.0.0/24' });
    const aware = domain.nodes[0]!.client({ name: 'nsc', additionalFunctionality: [excludedPrefixesClient()] });
    const a = await aware.request({ connection: { networkService: 'svc-a' } });
    const b = await aware.request({ connection: { networkService: 'svc-b' } });
    const addresses = (c: Connection) => [...(c.context?.ipContext?.srcIpAddrs ?? []), ...(c.context?.ipContext?.dstIpAddrs ?? [])];
    expect(addresses(a)).to.have.length(2);
    expect(addresses(b)).to.have.length(2);
    expect(addresses(a).filter((x) => addresses(b).includes(x))).to.deep.equal([]);
    for (const x of [...addresses(a), ...addresses(b)]) expect(x).to.not.match(/^10\.30\.0\.[01]\//);
    // Without the element two fresh endpoints with one CIDR hand out the same pair.
    await domain.registerService({ name: 'svc-c' });
    await domain.registerService({ name: 'svc-d' });
    await domain.nodes[0]!.addEndpoint({ name: 'nse-c', networkServices: ['svc-c'], cidr: '10.30.0.0/24' });
    await domain.nodes[0]!.addEndpoint({ name: 'nse-d', networkServices: ['svc-d'], cidr: '10.30.0.0/24' });
    const unaware = domain.nodes[0]!.client({ name: 'nsc-plain' });
    const c = await unaware.request({ connection: { networkService: 'svc-c' } });
    const d = await unaware.request({ connection: { networkService: 'svc-d' } });
    expect(addresses(c)).to.deep.equal(addresses(d));
    for (const conn of [a, b]) await aware.close(conn);
    for (const conn of [c, d]) await unaware.close(conn);
  });

  it('changing the NetworkService so that the endpoint no longer matches moves the connection to the endpoint that matches now', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    const service = (color: string) => ({ name: 'svc', matches: [{ routes: [{ destinationSelector: { color } }] }] });
    await domain.registerService(service('red'));
    const red = await domain.nodes[0]!.addEndpoint({ name: 'red', networkServices: ['svc'], labels: { color: 'red' } });
    const blue = await domain.nodes[0]!.addEndpoint({ name: 'blue', networkServices: ['svc'], labels: { color: 'blue' } });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    expect(conn.networkServiceEndpointName).to.equal('red');
    const seen = record<Connection>(client.watch(conn));
    await domain.registerService(service('red')); // an update that keeps it matching closes nothing
    await new Promise((r) => setTimeout(r, 200));
    expect(red.counter.closes).to.equal(0);

    // The manager closes its side; the client's heal sees the DELETE and reselects: blue matches now.
    await domain.registerService(service('blue'));
    await eventually(() => seen.events.some((c) => c.networkServiceEndpointName === 'blue' && c.state === State.UP));
    expect(red.counter.closes).to.equal(1);
    expect(blue.counter.requests).to.equal(1);
    expect(seen.events.some((c) => c.state === State.DOWN), 'reported DOWN while it healed').to.equal(true);
    // The connection object the application holds still works: refresh and Close reach blue.
    const refreshed = await client.request({ connection: conn });
    expect(refreshed.networkServiceEndpointName).to.equal('blue');
    expect(blue.counter.requests).to.equal(2);
    await client.close(conn);
    expect(blue.counter.closes).to.equal(1);
    expect(red.counter.closes).to.equal(1);
    seen.subscription.unsubscribe();
  });
});
