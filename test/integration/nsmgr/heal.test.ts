/**
 * Connections survive the death of any component: ports of upstream's heal, reselect and select-forwarder
 * scenarios, in the sandbox. Clients heal by default (watching their manager's monitor); some tests give
 * them a data-plane liveness check, which the sandbox's no-op data plane lets a test decide.
 */
import { expect } from 'chai';
import { type Connection, State } from '../../../src/api/gen/connection.js';
import type { NsmClient } from '../../../src/networkservice/chains/client/client.js';
import type { Domain } from '../../../src/tools/sandbox/index.js';
import { eventually, record } from '../../helpers/eventually.js';
import { sandboxHooks } from './sandbox.js';

const names = (conn: Connection | undefined): string[] => conn?.path?.pathSegments.map((s) => s.name) ?? [];

/** Watches `conn` at the client and resolves with the first version that is UP on `endpoint`. */
async function healedTo(client: NsmClient, conn: Connection, endpoint: string, ms = 10_000): Promise<Connection> {
  const seen = record<Connection>(client.watch(conn));
  try {
    await eventually(() => seen.events.some((c) => c.state === State.UP && c.networkServiceEndpointName === endpoint), ms);
    return seen.events.filter((c) => c.state === State.UP && c.networkServiceEndpointName === endpoint).at(-1) as Connection;
  } finally {
    seen.subscription.unsubscribe();
  }
}

/** Counts the heals of one client that started and that ended. */
function healCounter(): { started: number; done: number; onHeal: (e: { phase: 'start' | 'done' }) => void } {
  const counter = {
    started: 0,
    done: 0,
    onHeal: (e: { phase: 'start' | 'done' }) => {
      if (e.phase === 'start') counter.started++;
      else counter.done++;
    },
  };
  return counter;
}

async function service(domain: Domain): Promise<void> {
  await domain.registerService({ name: 'svc' });
}

describe('heal: the endpoint dies (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  for (const where of ['local', 'remote'] as const) {
    it(`${where}: the connection comes back on a new endpoint; refresh and Close with the old object reach it`, async function () {
      const domain = await sandbox.start({ nodes: where === 'local' ? 1 : 2 });
      await service(domain);
      const nodeOfEndpoints = domain.nodes[where === 'local' ? 0 : 1]!;
      const first = await nodeOfEndpoints.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
      const client = domain.nodes[0]!.client({ name: 'nsc' });
      const conn = await client.request({ connection: { networkService: 'svc' } });
      expect(conn.networkServiceEndpointName).to.equal('nse-1');

      await first.kill();
      const second = await nodeOfEndpoints.addEndpoint({ name: 'nse-2', networkServices: ['svc'] });
      const healed = await healedTo(client, conn, 'nse-2');
      expect(names(healed)).to.have.length(where === 'local' ? 4 : 6);
      expect(names(healed).at(-1)).to.equal('nse-2');
      expect(healed.id, 'the client keeps its connection id').to.equal(conn.id);
      // The old endpoint's addresses went with it: only the new endpoint's pair is left.
      expect(healed.context?.ipContext?.srcIpAddrs).to.have.length(1);
      expect(healed.context?.ipContext?.srcIpAddrs).to.not.deep.equal(conn.context?.ipContext?.srcIpAddrs);
      expect(second.counter.requests).to.equal(1);

      const refreshed = await client.request({ connection: conn });
      expect(refreshed.networkServiceEndpointName).to.equal('nse-2');
      expect(second.counter.requests).to.equal(2);
      await client.close(conn);
      expect(second.counter.closes).to.equal(1);
      expect(first.counter.closes, 'the dead endpoint got nothing').to.equal(0);
    });
  }
});

describe('heal: data plane and control plane (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  it('data plane broken and control plane broken: reselects', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    await service(domain);
    const first = await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const second = await domain.nodes[0]!.addEndpoint({ name: 'nse-2', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({
      name: 'nsc',
      // Traffic flows through a connection unless its endpoint is nse-1 and nse-1 is down.
      heal: { livenessCheck: (c) => c.networkServiceEndpointName !== 'nse-1' || first.served() !== undefined },
    });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    expect(conn.networkServiceEndpointName).to.equal('nse-1');
    await first.kill();
    await healedTo(client, conn, 'nse-2');
    expect(second.counter.requests).to.equal(1);
    await client.close(conn);
    expect(second.counter.closes).to.equal(1);
  });

  it('data plane broken, control plane healthy: the liveness check fails and the client reselects', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    await service(domain);
    const first = await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const second = await domain.nodes[0]!.addEndpoint({ name: 'nse-2', networkServices: ['svc'] });
    let nse1DataplaneUp = true;
    const heals = healCounter();
    const client = domain.nodes[0]!.client({
      name: 'nsc',
      heal: { livenessCheck: (c) => c.networkServiceEndpointName !== 'nse-1' || nse1DataplaneUp, livenessCheckIntervalMs: 50, onHeal: heals.onHeal },
    });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    expect(conn.networkServiceEndpointName).to.equal('nse-1');
    await new Promise((r) => setTimeout(r, 200));
    expect(heals.started, 'a live data plane is left alone').to.equal(0);

    nse1DataplaneUp = false; // every component still runs
    const healed = await healedTo(client, conn, 'nse-2');
    expect(names(healed)).to.deep.equal(['nsc', 'nsmgr-0', 'forwarder-0-0', 'nse-2']);
    expect(first.counter.closes, 'the old path was closed').to.equal(1);
    expect(second.counter.requests).to.equal(1);
    expect(heals.started).to.equal(1);
    await client.close(conn);
    expect(second.counter.closes).to.equal(1);
  });

  it('data plane healthy, control plane broken (the local manager restarts): restored on the same endpoint, it does not move', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    await service(domain);
    const first = await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const second = await domain.nodes[0]!.addEndpoint({ name: 'nse-2', networkServices: ['svc'] });
    const heals = healCounter();
    const client = domain.nodes[0]!.client({ name: 'nsc', heal: { livenessCheck: () => true, onHeal: heals.onHeal } });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    expect(conn.networkServiceEndpointName).to.equal('nse-1');
    const forwarder = domain.forwarderCounter('forwarder-0-0');

    await domain.nodes[0]!.restartNsmgr();
    await eventually(() => heals.done === 1, 10_000);
    expect(first.counter.requests, 'the restore reached the same endpoint').to.equal(2);
    expect(first.counter.closes).to.equal(0);
    expect(forwarder.closes, 'nothing was torn down').to.equal(0);
    expect(second.counter.requests).to.equal(0);

    const refreshed = await client.request({ connection: conn });
    expect(names(refreshed)).to.deep.equal(['nsc', 'nsmgr-0', 'forwarder-0-0', 'nse-1']);
    await client.close(conn);
    expect(first.counter.closes).to.equal(1);
    expect(forwarder.closes).to.equal(1);
  });
});

describe('heal: forwarders, managers and the registry (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  for (const where of ['local', 'remote'] as const) {
    it(`the ${where} forwarder dies and comes back: the connection is re-established through it`, async function () {
      const domain = await sandbox.start({ nodes: 2 });
      await service(domain);
      const nse = await domain.nodes[1]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
      const client = domain.nodes[0]!.client({ name: 'nsc' });
      const conn = await client.request({ connection: { networkService: 'svc' } });
      const seen = record<Connection>(client.watch(conn));
      await domain.nodes[where === 'local' ? 0 : 1]!.restartForwarder(0);
      await eventually(() => seen.events.some((c) => c.state === State.DOWN));
      await eventually(() => seen.events.at(-1)?.state === State.UP, 10_000);
      seen.subscription.unsubscribe();
      expect(nse.counter.requests).to.equal(2);
      const refreshed = await client.request({ connection: conn });
      expect(names(refreshed)).to.deep.equal(['nsc', 'nsmgr-0', 'forwarder-0-0', 'nsmgr-1', 'forwarder-1-0', 'nse-1']);
      await client.close(conn);
      expect(domain.forwarderCounter(`forwarder-${where === 'local' ? 0 : 1}-0`).closes).to.be.greaterThan(0);
      expect(nse.counter.closes).to.be.greaterThan(0);
      expect(nse.served()?.connections.size).to.equal(0);
    });
  }

  it('a remote manager dies: the connection moves to a new endpoint on a third node', async function () {
    const domain = await sandbox.start({ nodes: 3 });
    await service(domain);
    await domain.nodes[1]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    expect(names(conn)[3]).to.equal('nsmgr-1');

    await domain.nodes[1]!.killNsmgr();
    const third = await domain.nodes[2]!.addEndpoint({ name: 'nse-3', networkServices: ['svc'] });
    const healed = await healedTo(client, conn, 'nse-3');
    expect(names(healed)).to.deep.equal(['nsc', 'nsmgr-0', 'forwarder-0-0', 'nsmgr-2', 'forwarder-2-0', 'nse-3']);
    await client.close(conn);
    expect(third.counter.closes).to.equal(1);
  });

  it('the registry restarts: refresh and new requests keep working', async function () {
    const domain = await sandbox.start({ nodes: 2 });
    await service(domain);
    const nse = await domain.nodes[1]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const conn = await client.request({ connection: { networkService: 'svc' } });

    await domain.restartRegistry();
    expect(await domain.admin.findEndpoints({ name: 'nse-1' })).to.have.length(0);
    // Registrations heal: the endpoint, the forwarders and the service come back by themselves.
    await eventually(async () => (await domain.admin.findEndpoints({ name: 'nse-1' })).length === 1);
    await eventually(async () => (await domain.admin.findServices({ name: 'svc' })).length === 1);
    const refreshed = await client.request({ connection: conn });
    expect(refreshed.networkServiceEndpointName).to.equal('nse-1');
    const another = domain.nodes[0]!.client({ name: 'nsc-2' });
    const second = await another.request({ connection: { networkService: 'svc' } }, { timeoutMs: 10_000 });
    expect(names(second)).to.have.length(6);
    expect(nse.counter.requests).to.equal(3);
    await another.close(second);
    await client.close(conn);
    expect(nse.counter.closes).to.equal(2);
  });

  it('Close works with the registry dead', async function () {
    const domain = await sandbox.start({ nodes: 2 });
    await service(domain);
    const nse = await domain.nodes[1]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    await domain.registry.kill();
    await client.close(conn);
    expect(nse.counter.closes).to.equal(1);
    expect(domain.forwarderCounter('forwarder-0-0').closes).to.equal(1);
    expect(domain.forwarderCounter('forwarder-1-0').closes).to.equal(1);
  });
});

describe('heal: reselect after manager restarts (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  const cases = [
    { what: 'local', nodes: 1, restart: [0] },
    { what: 'remote', nodes: 2, restart: [1] },
    { what: 'both', nodes: 2, restart: [0, 1] },
  ];
  for (const c of cases) {
    it(`${c.what}: every forwarder gets exactly one Close, the new endpoint none; refresh closes nothing; the final Close goes through the whole path`, async function () {
      const domain = await sandbox.start({ nodes: c.nodes });
      await service(domain);
      const endpointNode = domain.nodes[c.nodes - 1]!;
      const first = await endpointNode.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
      const attempts: number[] = [];
      const client = domain.nodes[0]!.client({
        name: 'nsc',
        heal: { reselect: (factory, _conn, attempt, signal) => (attempts.push(attempt), factory.request({ reselect: attempt === 1, signal })) },
      });
      const conn = await client.request({ connection: { networkService: 'svc' } });
      const forwarders = domain.nodes.map((n) => domain.forwarderCounter(n.forwarders[0]!.name));
      // The old endpoint's data plane goes with the managers: the reselect must find another one.
      const second = await endpointNode.addEndpoint({ name: 'nse-2', networkServices: ['svc'] });
      await first.kill();
      for (const i of c.restart) await domain.nodes[i]!.restartNsmgr();

      await healedTo(client, conn, 'nse-2');
      // One heal attempt: exactly one Close per forwarder. On a loaded machine the first attempt can fail
      // (the forwarder not yet registered at the new manager), and begin then closes what that attempt
      // built: one more Close, bounded by the attempts made.
      const extra = attempts.length - 1;
      for (const f of forwarders) expect(f.closes, `heal attempts: ${attempts.join(',')}`).to.be.within(1, 1 + extra);
      expect(second.counter.closes).to.be.within(0, extra);
      expect(second.counter.requests).to.be.within(1, 1 + extra);
      const closes = forwarders.map((f) => f.closes);
      const secondCloses = second.counter.closes;

      await client.request({ connection: conn });
      expect(forwarders.map((f) => f.closes), 'refresh closes nothing').to.deep.equal(closes);
      expect(second.counter.closes).to.equal(secondCloses);

      await client.close(conn);
      expect(forwarders.map((f) => f.closes)).to.deep.equal(closes.map((n) => n + 1));
      expect(second.counter.closes).to.equal(secondCloses + 1);
    });
  }
});

describe('heal: refresh and forwarder failures (sandbox)', function () {
  this.timeout(60_000);
  const sandbox = sandboxHooks();

  it('a refresh that fails at the endpoint, then a broken data plane: reselect with exactly one request to the new endpoint', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    await service(domain);
    let failRefresh = false;
    const first = await domain.nodes[0]!.addEndpoint({
      name: 'nse-1',
      networkServices: ['svc'],
      additionalFunctionality: [
        {
          name: 'fail-refresh',
          request: (request, ctx, next) => (failRefresh ? Promise.reject(new Error('refresh refused')) : next.request(request, ctx)),
          close: (conn, ctx, next) => next.close(conn, ctx),
        },
      ],
    });
    let dataplaneUp = true;
    const client = domain.nodes[0]!.client({
      name: 'nsc',
      heal: { livenessCheck: (c) => c.networkServiceEndpointName !== 'nse-1' || dataplaneUp, livenessCheckIntervalMs: 50 },
    });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    failRefresh = true;
    const refreshError = await client.request({ connection: conn }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(String(refreshError)).to.contain('refresh refused');
    const second = await domain.nodes[0]!.addEndpoint({ name: 'nse-2', networkServices: ['svc'] });
    dataplaneUp = false;
    await healedTo(client, conn, 'nse-2');
    await new Promise((r) => setTimeout(r, 200));
    expect(second.counter.requests).to.equal(1);
    expect(first.counter.closes).to.equal(1);
    await client.close(conn);
    expect(second.counter.closes).to.equal(1);
  });

  it('the forwarder killed during 15 successive refreshes: the connection always recovers', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    await service(domain);
    const nse = await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    for (let i = 0; i < 15; i++) {
      const refresh = client.request({ connection: conn }, { timeoutMs: 10_000 }).catch(() => undefined);
      await domain.nodes[0]!.restartForwarder(0);
      await refresh;
      // Recovered: a refresh goes through again, on a path that is UP.
      await eventually(
        () =>
          client.request({ connection: conn }, { timeoutMs: 2000 }).then(
            (c) => c.state === State.UP,
            () => false,
          ),
        10_000,
      );
    }
    await client.close(conn);
    expect(nse.served()?.connections.size).to.equal(0);
    expect(domain.nodes[0]!.forwarders[0]!.binding.held.size).to.equal(0);
  });
});

describe('Close during heal (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  for (const expiry of [false, true]) {
    it(`leaves nothing behind${expiry ? ', with the endpoint expiring from the registry' : ''}`, async function () {
      const domain = await sandbox.start({ nodes: 1, discoverWaitMs: 500, ...(expiry ? { registrationLifetimeMs: 500 } : {}) });
      await service(domain);
      const nse = await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
      const heals = healCounter();
      const client = domain.nodes[0]!.client({ name: 'nsc', heal: { onHeal: heals.onHeal, attemptTimeoutMs: 1000 } });
      const conn = await client.request({ connection: { networkService: 'svc' } });
      await nse.kill();
      if (expiry) nse.registry.abandon();
      await eventually(() => heals.started === 1);
      await new Promise((r) => setTimeout(r, expiry ? 1000 : 300));
      await client.close(conn, { timeoutMs: 5000 });
      expect(heals.done, 'nothing to heal to').to.equal(0);
      expect(client.connections()).to.have.length(0);
      expect(domain.nodes[0]!.nsmgr.binding.held.size).to.equal(0);
      expect(domain.nodes[0]!.forwarders[0]!.binding.held.size).to.equal(0);
      // The leak check after the test proves the heal loop, its timers and streams are gone.
    });
  }
});

describe('retry (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  it('a client with retry gets its connection once the endpoint shows up; without retry the first failure is final', async function () {
    const domain = await sandbox.start({ nodes: 1, discoverWaitMs: 100 });
    await service(domain);
    const plain = domain.nodes[0]!.client({ name: 'nsc-plain' });
    const error = await plain.request({ connection: { networkService: 'svc' } }).then(
      () => undefined,
      (e: unknown) => e as { code?: number },
    );
    expect(error?.code, 'NOT_FOUND').to.equal(5);
    const retrying = domain.nodes[0]!.client({ name: 'nsc', retry: { intervalMs: 100 } });
    const pending = retrying.request({ connection: { networkService: 'svc' } }, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 500));
    const nse = await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const conn = await pending;
    expect(conn.networkServiceEndpointName).to.equal('nse-1');
    expect(nse.counter.requests).to.equal(1);
    await retrying.close(conn);
    expect(nse.counter.closes).to.equal(1);
  });
});
