import { expect } from 'chai';
import { createDomain, type Domain } from '../../../src/tools/sandbox/index.js';

describe('nsmgr use cases (sandbox)', function () {
  this.timeout(30_000);
  let domain: Domain | undefined;

  afterEach(async () => {
    await domain?.stop();
    domain = undefined;
  });

  it('local: client, manager, forwarder, endpoint; request, refresh and close each reach the endpoint once', async function () {
    domain = await createDomain({ nodes: 1 });
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
    domain = await createDomain({ nodes: 2 });
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
