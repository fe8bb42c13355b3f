import { expect } from 'chai';
import { sandboxHooks } from './sandbox.js';
import { latePeer } from '../../helpers/servers.js';

describe('nsmgr use cases (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  it('local: client, manager, forwarder, endpoint; request, refresh and close each reach the endpoint once', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    await domain.registerService({ name: 'svc' });
    const nse = await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({ name: 'nsc' });

    const conn = await client.request({ connection: { networkService: 'svc' } });
    expect(conn.path?.pathSegments.map((s) => s.name)).to.deep.equal(['nsc', 'nsmgr-0', 'forwarder-0-0', 'nse-1']);
    expect(conn.networkServiceEndpointName).to.equal('nse-1');
    expect(conn.mechanism?.type).to.equal('KERNEL');
    expect(conn.context?.ipContext?.srcIpAddrs).to.have.length(1);
    expect(nse.counter.requests).to.equal(1);

    const refreshed = await client.request({ connection: conn });
    expect(refreshed.path?.pathSegments.map((s) => s.name)).to.deep.equal(['nsc', 'nsmgr-0', 'forwarder-0-0', 'nse-1']);
    expect(nse.counter.requests).to.equal(2);
    expect(refreshed.context?.ipContext?.srcIpAddrs).to.deep.equal(conn.context?.ipContext?.srcIpAddrs);

    await client.close(refreshed);
    expect(nse.counter.closes).to.equal(1);
  });

  it('remote: six segments across two nodes, VXLAN between the forwarders', async function () {
    const domain = await sandbox.start({ nodes: 2 });
    await domain.registerService({ name: 'svc' });
    const nse = await domain.nodes[1]!.addEndpoint({ name: 'nse-remote', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({ name: 'nsc' });

    const conn = await client.request({ connection: { networkService: 'svc' } });
    expect(conn.path?.pathSegments.map((s) => s.name)).to.deep.equal([
      'nsc',
      'nsmgr-0',
      'forwarder-0-0',
      'nsmgr-1',
      'forwarder-1-0',
      'nse-remote',
    ]);
    expect(conn.mechanism?.type).to.equal('KERNEL');
    // Between the nodes the forwarders use a VXLAN tunnel: the remote forwarder got one in its incoming side.
    const remoteSide = [...domain.nodes[1]!.forwarders[0]!.binding.held.values()];
    expect(remoteSide.map((c) => c.mechanism?.type)).to.deep.equal(['VXLAN']);
    expect(remoteSide[0]?.mechanism?.parameters).to.include.keys('src_ip', 'dst_ip', 'vni');
    const localSide = [...domain.nodes[0]!.forwarders[0]!.binding.held.values()];
    expect(localSide.map((c) => c.mechanism?.type)).to.deep.equal(['KERNEL']);
    expect(nse.counter.requests).to.equal(1);
    await client.request({ connection: conn });
    expect(nse.counter.requests).to.equal(2);
    await client.close(conn);
    expect(nse.counter.closes).to.equal(1);
  });
});

describe('nsmgr use cases over loopback TCP only (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  it('local and remote paths work with every server on TCP; forwarders then reach endpoints over VXLAN', async function () {
    const domain = await sandbox.start({ nodes: 2, transport: 'tcp' });
    await domain.registerService({ name: 'svc' });
    const local = await domain.nodes[0]!.addEndpoint({ name: 'nse-0', networkServices: ['svc'], labels: { at: '0' } });
    expect(local.url).to.match(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    await domain.nodes[1]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'], labels: { at: '1' } });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const a = await client.request({ connection: { networkService: 'svc', networkServiceEndpointName: 'nse-0' } });
    expect(a.path?.pathSegments).to.have.length(4);
    const b = await client.request({ connection: { networkService: 'svc', networkServiceEndpointName: 'nse-1' } });
    expect(b.path?.pathSegments).to.have.length(6);
    const atEndpoint = [...(local.served()?.connections.values() ?? [])];
    expect(atEndpoint.map((c) => c.mechanism?.type)).to.deep.equal(['VXLAN']);
    await client.close(a);
    await client.close(b);
  });

  it('a forwarder restarted on its address registers again and carries new connections', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    await domain.registerService({ name: 'svc' });
    const nse = await domain.nodes[0]!.addEndpoint({ name: 'nse', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const first = await client.request({ connection: { networkService: 'svc' } });
    await client.close(first);
    const restarted = await domain.nodes[0]!.restartForwarder(0);
    const second = await client.request({ connection: { networkService: 'svc' } }, { timeoutMs: 10_000 });
    expect(second.path?.pathSegments[2]?.name).to.equal(restarted.name);
    expect(restarted.binding.held.size).to.equal(1);
    await client.close(second);
    expect(nse.counter.requests).to.equal(2);
  });
});

describe('nsmgr discovery and selection (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  it('finds an endpoint that registers 100 ms after the request', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    await domain.registerService({ name: 'svc' });
    const nse = await domain.nodes[0]!.addEndpoint({ name: 'nse-late', networkServices: ['svc'], register: false });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const pending = client.request({ connection: { networkService: 'svc' } });
    await new Promise((r) => setTimeout(r, 100));
    expect(nse.counter.requests).to.equal(0);
    await nse.register();
    const conn = await pending;
    expect(conn.networkServiceEndpointName).to.equal('nse-late');
    expect(nse.counter.requests).to.equal(1);
    await client.close(conn);
  });

  it('selects an endpoint whose socket is bound but that answers only 1 s later', async function () {
    // Upstream's restarting-endpoint case: the listener exists, the server behind it is not up yet.
    const domain = await sandbox.start({ nodes: 1 });
    await domain.registerService({ name: 'svc' });
    const nse = await domain.nodes[0]!.addEndpoint({ name: 'nse-slow', networkServices: ['svc'], register: false });
    const latePath = `${nse.url.slice('unix://'.length)}.late`;
    const late = await latePeer(latePath, nse.url.slice('unix://'.length));
    try {
      await nse.registry.registerEndpoint({ ...nse.registration, url: `unix://${latePath}` });
      const client = domain.nodes[0]!.client({ name: 'nsc' });
      const pending = client.request({ connection: { networkService: 'svc' } });
      setTimeout(() => late.open(), 1000);
      const conn = await pending;
      expect(conn.networkServiceEndpointName).to.equal('nse-slow');
      expect(nse.counter.requests).to.equal(1);
      await client.close(conn);
    } finally {
      await late.close();
    }
  });

  it('three failing endpoints and a good one: the good one wins; a dead endpoint fails with a clear error', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    await domain.registerService({ name: 'svc' });
    const refuse = {
      name: 'refuse',
      request: () => Promise.reject(new Error('this endpoint always fails')),
      close: () => Promise.resolve(),
    };
    const bad = [];
    for (const name of ['bad-1', 'bad-2', 'bad-3']) {
      bad.push(await domain.nodes[0]!.addEndpoint({ name, networkServices: ['svc'], additionalFunctionality: [refuse] }));
    }
    const good = await domain.nodes[0]!.addEndpoint({ name: 'good', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    expect(conn.networkServiceEndpointName).to.equal('good');
    expect(good.counter.requests).to.equal(1);
    expect(bad.reduce((n, b) => n + b.counter.requests, 0)).to.be.at.most(3);
    await client.close(conn);

    await domain.registerService({ name: 'dead-svc' });
    const dead = await domain.nodes[0]!.addEndpoint({ name: 'dead', networkServices: ['dead-svc'] });
    await dead.kill();
    const error = await client.request({ connection: { networkService: 'dead-svc' } }, { timeoutMs: 10_000 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).to.match(/all candidates have failed: dead \(/);
  });

  it('a request for a service nobody registered fails with NOT_FOUND naming it', async function () {
    const domain = await sandbox.start({ nodes: 1, discoverWaitMs: 300 });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const error = await client.request({ connection: { networkService: 'nope' } }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: number },
    );
    expect(error?.code, error?.message).to.equal(5);
    expect(error?.message).to.include('network service "nope" is not registered');
  });

  it('spreads new connections over the endpoints in turn', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    await domain.registerService({ name: 'svc' });
    const a = await domain.nodes[0]!.addEndpoint({ name: 'nse-a', networkServices: ['svc'] });
    const b = await domain.nodes[0]!.addEndpoint({ name: 'nse-b', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const conns = [];
    for (let i = 0; i < 4; i++) conns.push(await client.request({ connection: { networkService: 'svc' } }));
    expect([a.counter.requests, b.counter.requests]).to.deep.equal([2, 2]);
    for (const conn of conns) await client.close(conn);
    expect(a.counter.closes + b.counter.closes).to.equal(4);
  });
});

describe('nsmgr passthrough endpoints (sandbox)', function () {
  this.timeout(60_000);
  const sandbox = sandboxHooks();

  for (const where of ['local', 'across nodes'] as const) {
    it(`seven passthrough endpoints chained ${where}: the path has every hop and Close reaches every one`, async function () {
      const n = 7;
      const domain = await sandbox.start({ nodes: where === 'local' ? 1 : 2 });
      const endpoints = [];
      for (let i = 1; i <= n; i++) {
        await domain.registerService({ name: `svc-${i}` });
        // Across nodes, each hop goes to the other node.
        const node = domain.nodes[where === 'local' ? 0 : (i - 1) % 2]!;
        endpoints.push(
          await node.addEndpoint({ name: `nse-${i}`, networkServices: [`svc-${i}`], ...(i < n ? { passthroughTo: `svc-${i + 1}` } : {}) }),
        );
      }
      const client = domain.nodes[0]!.client({ name: 'nsc' });
      const conn = await client.request({ connection: { networkService: 'svc-1' } });
      const names = conn.path?.pathSegments.map((s) => s.name) ?? [];
      // Per passthrough hop: manager, forwarder, the endpoint (its client side continues its segment); across
      // nodes also the remote manager and forwarder. Then the last endpoint's manager, forwarder and itself.
      expect(names).to.have.length(where === 'local' ? 3 * (n - 1) + 4 : 5 * (n - 1) + 4);
      expect(names.filter((s) => s.startsWith('nse-'))).to.deep.equal(endpoints.map((e) => e.name));
      expect(conn.networkService).to.equal('svc-1');
      expect(conn.networkServiceEndpointName).to.equal('nse-1');
      expect(endpoints.map((e) => e.counter.requests)).to.deep.equal(Array(n).fill(1));
      const refreshed = await client.request({ connection: conn });
      expect(refreshed.path?.pathSegments.map((s) => s.name)).to.deep.equal(names);
      expect(endpoints.map((e) => e.counter.requests)).to.deep.equal(Array(n).fill(2));
      await client.close(refreshed);
      expect(endpoints.map((e) => e.counter.closes)).to.deep.equal(Array(n).fill(1));
    });
  }
});

describe('nsmgr multi-service mesh (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  it('one client connected to two network services at once, each with its own interface and addresses', async function () {
    const domain = await sandbox.start({ nodes: 2 });
    await domain.registerService({ name: 'svc-a' });
    await domain.registerService({ name: 'svc-b' });
    const a = await domain.nodes[0]!.addEndpoint({ name: 'nse-a', networkServices: ['svc-a'], cidr: '10.10.1.0/24' });
    const b = await domain.nodes[1]!.addEndpoint({ name: 'nse-b', networkServices: ['svc-b'], cidr: '10.10.2.0/24' });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const [connA, connB] = await Promise.all([
      client.request({ connection: { networkService: 'svc-a' } }),
      client.request({ connection: { networkService: 'svc-b' } }),
    ]);
    expect(connA.networkServiceEndpointName).to.equal('nse-a');
    expect(connB.networkServiceEndpointName).to.equal('nse-b');
    expect(connA.id).to.not.equal(connB.id);
    const ifA = connA.mechanism?.parameters['name'];
    const ifB = connB.mechanism?.parameters['name'];
    expect(ifA).to.be.a('string').and.not.equal('');
    expect(ifB).to.be.a('string').and.not.equal(ifA);
    expect(connA.context?.ipContext?.srcIpAddrs[0]).to.match(/^10\.10\.1\./);
    expect(connB.context?.ipContext?.srcIpAddrs[0]).to.match(/^10\.10\.2\./);
    await client.close(connA);
    expect([a.counter.closes, b.counter.closes]).to.deep.equal([1, 0]);
    await client.close(connB);
    expect([a.counter.closes, b.counter.closes]).to.deep.equal([1, 1]);
  });
});
