/**
 * Heal with replacement roles, as upstream's heal scenarios run them: the role that dies is not the one
 * that comes back (another name, another address), so heal must leave the broken path rather than wait
 * for it. Also: a live data plane keeps the connection where it is, and a reselect keeps the addresses
 * the client asked for while dropping the old endpoint's.
 */
import { expect } from 'chai';
import { type Connection, State } from '../../../src/api/gen/connection.js';
import type { NsmClient } from '../../../src/networkservice/chains/client/client.js';
import { eventually, record } from '../../helpers/eventually.js';
import { sandboxHooks } from './sandbox.js';

const names = (conn: Connection | undefined): string[] => conn?.path?.pathSegments.map((s) => s.name) ?? [];

/** Resolves with the first version of `conn` seen UP whose path satisfies `ok`. */
async function healed(client: NsmClient, conn: Connection, ok: (path: string[]) => boolean, ms = 15_000): Promise<Connection> {
  const seen = record<Connection>(client.watch(conn));
  try {
    const good = (c: Connection): boolean => c.state === State.UP && ok(names(c));
    await eventually(() => seen.events.some(good), ms);
    return seen.events.filter(good).at(-1) as Connection;
  } finally {
    seen.subscription.unsubscribe();
  }
}

describe('heal with replacement roles (sandbox)', function () {
  this.timeout(40_000);
  const sandbox = sandboxHooks();

  for (const where of ['local', 'remote'] as const) {
    it(`the ${where} forwarder is killed and a new one (new name and address) starts: the connection moves to it`, async function () {
      const domain = await sandbox.start({ nodes: 2 });
      await domain.registerService({ name: 'svc' });
      const nse = await domain.nodes[1]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
      const client = domain.nodes[0]!.client({ name: 'nsc' });
      const conn = await client.request({ connection: { networkService: 'svc' } });
      const node = domain.nodes[where === 'local' ? 0 : 1]!;
      const old = node.forwarders[0]!.name;
      expect(names(conn)).to.include(old);

      await node.killForwarder(0);
      // The dead forwarder stays registered (until its registration expires): heal must not wait on it.
      const fresh = await node.addForwarder(`${old}-new`);
      const moved = await healed(client, conn, (path) => path.includes(fresh.name));
      expect(names(moved)).to.not.include(old);
      expect(names(moved)).to.have.length(6);
      expect(names(moved).at(-1)).to.equal('nse-1');
      const refreshed = await client.request({ connection: conn });
      expect(names(refreshed)).to.include(fresh.name);
      await client.close(conn);
      expect(domain.forwarderCounter(fresh.name).closes).to.equal(1);
      expect(nse.counter.closes).to.be.at.least(1);
      // The new path is released. The old path's Close could not pass the dead forwarder: what it
      // held beyond it (the endpoint's copy, when the forwarder was before the endpoint's manager) is
      // left to time out, as upstream does.
      expect(nse.served()?.connections.size).to.be.at.most(1);
    });
  }

  it('the endpoint is killed and a new one starts only later: heal keeps trying and lands on it', async function () {
    const domain = await sandbox.start({ nodes: 2, discoverWaitMs: 300 });
    await domain.registerService({ name: 'svc' });
    const first = await domain.nodes[1]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({ name: 'nsc', heal: { attemptTimeoutMs: 1000 } });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    await first.kill();
    // Long enough for several failed heal attempts against the dead endpoint.
    await new Promise((r) => setTimeout(r, 1500));
    const second = await domain.nodes[1]!.addEndpoint({ name: 'nse-2', networkServices: ['svc'] });
    const moved = await healed(client, conn, (path) => path.at(-1) === 'nse-2');
    expect(moved.id).to.equal(conn.id);
    expect(second.counter.requests).to.equal(1);
    await client.close(conn);
    expect(second.counter.closes).to.equal(1);
    expect(first.counter.closes).to.equal(0);
  });

  it('the remote manager is killed and comes back on a new port: the connection goes through the new one', async function () {
    const domain = await sandbox.start({ nodes: 2 });
    await domain.registerService({ name: 'svc' });
    const nse = await domain.nodes[1]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    const oldURL = domain.nodes[1]!.nsmgr.url;
    await domain.nodes[1]!.restartNsmgr({ newAddress: true });
    expect(domain.nodes[1]!.nsmgr.url).to.not.equal(oldURL);
    const moved = await healed(client, conn, (path) => path.at(-1) === 'nse-1' && path.length === 6);
    expect(names(moved)[3]).to.equal('nsmgr-1');
    // The new manager holds it: a refresh and the Close go through it.
    await eventually(() => domain.nodes[1]!.nsmgr.binding.held.size === 1);
    await client.request({ connection: conn });
    await client.close(conn);
    await eventually(() => nse.served()?.connections.size === 0);
    expect(domain.nodes[1]!.nsmgr.binding.held.size).to.equal(0);
  });
});

describe('heal keeps a live data plane where it is (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  for (const alive of [true, false]) {
    it(`a forwarder restart with a liveness check that ${alive ? 'passes: the connection stays on its endpoint' : 'fails: it moves'}`, async function () {
      const domain = await sandbox.start({ nodes: 1 });
      await domain.registerService({ name: 'svc' });
      const first = await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
      const second = await domain.nodes[0]!.addEndpoint({ name: 'nse-2', networkServices: ['svc'] });
      let forwarderRestarted = false;
      const done: string[] = [];
      const client = domain.nodes[0]!.client({
        name: 'nsc',
        heal: {
          // The data plane of the first connection dies with the forwarder, unless `alive`.
          livenessCheck: (c) => alive || !forwarderRestarted || c.networkServiceEndpointName !== 'nse-1',
          livenessCheckIntervalMs: 1000,
          onHeal: (e) => void (e.phase === 'done' && done.push(e.cause)),
        },
      });
      const conn = await client.request({ connection: { networkService: 'svc' } });
      expect(conn.networkServiceEndpointName).to.equal('nse-1');
      forwarderRestarted = true;
      await domain.nodes[0]!.restartForwarder(0);
      await eventually(() => done.length > 0, 10_000);
      const now = await client.request({ connection: conn });
      expect(now.networkServiceEndpointName).to.equal(alive ? 'nse-1' : 'nse-2');
      // Moving, the old path's Close stops at the restarted forwarder, which no longer knows the
      // connection (as upstream's begin: an unknown Close is not passed on); nse-1 times it out.
      expect(first.counter.closes, 'nothing torn down at the endpoint').to.equal(0);
      expect(second.counter.requests).to.equal(alive ? 0 : 2);
      await client.close(conn);
    });
  }
});

describe('reselect keeps what the client asked for (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  it('requested addresses survive a reselect; the old endpoint\'s pair does not (strict IPAM)', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    await domain.registerService({ name: 'svc' });
    const first = await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'], cidr: '10.10.1.0/24' });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const asked = { srcIpAddrs: ['10.10.2.50/32'], dstIpAddrs: ['10.10.2.49/32'] };
    const conn = await client.request({ connection: { networkService: 'svc', context: { ipContext: asked } } });
    // nse-1 hands out its own pair; the asked one is not from its pool.
    expect(conn.context?.ipContext?.srcIpAddrs).to.deep.equal(['10.10.1.2/32']);
    await first.kill();
    await domain.nodes[0]!.addEndpoint({ name: 'nse-2', networkServices: ['svc'], cidr: '10.10.2.0/24' });
    const moved = await healed(client, conn, (path) => path.at(-1) === 'nse-2');
    expect(moved.context?.ipContext?.srcIpAddrs).to.deep.equal(['10.10.2.50/32']);
    expect(moved.context?.ipContext?.dstIpAddrs).to.deep.equal(['10.10.2.49/32']);
    expect(moved.context?.ipContext?.srcRoutes.map((r) => r.prefix)).to.deep.equal(['10.10.2.49/32']);
    await client.close(conn);
  });

  it('destination selectors on {{.nodeName}} reach endpoints that never labelled themselves (the manager labels them)', async function () {
    const domain = await sandbox.start({ nodes: 2 });
    await domain.registerService({
      name: 'svc',
      matches: [{ routes: [{ destinationSelector: { nodeName: '{{.nodeName}}' } }] }],
    });
    await domain.nodes[0]!.addEndpoint({ name: 'nse-0', networkServices: ['svc'] });
    await domain.nodes[1]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const found = await domain.admin.findEndpoints({ name: 'nse-1' });
    expect(found[0]?.networkServiceLabels['svc']?.labels['nodeName']).to.equal('node-1');
    for (const i of [0, 1]) {
      const client = domain.nodes[i]!.client({ name: `nsc-${i}` });
      for (let n = 0; n < 3; n++) {
        const conn = await client.request({ connection: { networkService: 'svc' } });
        expect(conn.networkServiceEndpointName).to.equal(`nse-${i}`);
        await client.close(conn);
      }
    }
  });
});
