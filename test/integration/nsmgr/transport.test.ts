/**
 * Sockets and monitor streams grow with peers, not with connections: 100 connections across two nodes
 * (client → manager → forwarder → manager → forwarder → endpoint, everything on loopback TCP) use as many
 * TCP connections, and as many MonitorConnections streams, at every role as one connection does. The
 * sockets are counted in the kernel's table.
 */
import { expect } from 'chai';
import type { Connection } from '../../../src/api/gen/connection.js';
import type { Domain } from '../../../src/tools/sandbox/index.js';
import { eventually } from '../../helpers/eventually.js';
import { acceptedOn, portOf } from '../../helpers/sockets.js';
import { sandboxHooks } from './sandbox.js';

interface Census {
  readonly sockets: Record<string, number>;
  readonly streams: Record<string, number>;
}

function census(domain: Domain, endpointURL: string): Census {
  const [a, b] = [domain.nodes[0]!, domain.nodes[1]!];
  const ports: Record<string, string> = {
    'nsmgr-0': a.nsmgr.url,
    'forwarder-0-0': a.forwarders[0]!.url,
    'nsmgr-1': b.nsmgr.url,
    'forwarder-1-0': b.forwarders[0]!.url,
    nse: endpointURL,
  };
  return {
    sockets: Object.fromEntries(Object.entries(ports).map(([name, url]) => [name, acceptedOn(portOf(url))])),
    streams: {
      'nsmgr-0': a.nsmgr.chain.monitor.watchers,
      'forwarder-0-0': a.forwarders[0]!.chain.monitor.watchers,
      'nsmgr-1': b.nsmgr.chain.monitor.watchers,
      'forwarder-1-0': b.forwarders[0]!.chain.monitor.watchers,
    },
  };
}

describe('transport: one socket and one monitor stream per peer (sandbox, TCP)', function () {
  this.timeout(60_000);
  const sandbox = sandboxHooks();

  it('100 remote connections use the sockets and streams of one', async () => {
    const domain = await sandbox.start({ nodes: 2, transport: 'tcp' });
    await domain.registerService({ name: 'svc' });
    const nse = await domain.nodes[1]!.addEndpoint({ name: 'nse', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({ name: 'nsc' });

    const first = await client.request({ connection: { networkService: 'svc' } });
    expect(first.path?.pathSegments.map((s) => s.name)).to.deep.equal(['nsc', 'nsmgr-0', 'forwarder-0-0', 'nsmgr-1', 'forwarder-1-0', 'nse']);
    // Every hop's watch of its next hop is a call on its way: wait until each role serves its stream.
    await eventually(() => Object.values(census(domain, nse.url).streams).every((n) => n >= 1));
    const one = census(domain, nse.url);

    const more: Connection[] = [];
    for (let batch = 0; batch < 11; batch++) {
      more.push(...(await Promise.all(Array.from({ length: 9 }, () => client.request({ connection: { networkService: 'svc' } })))));
    }
    expect(nse.counter.requests).to.equal(100);
    const hundred = census(domain, nse.url);
    expect(hundred.sockets, 'TCP connections accepted by each role').to.deep.equal(one.sockets);
    expect(hundred.streams, 'MonitorConnections streams served by each role').to.deep.equal(one.streams);

    await Promise.all([first, ...more].map((conn) => client.close(conn)));
    expect(nse.counter.closes).to.equal(100);
    expect(domain.nodes[0]!.nsmgr.chain.monitor.size).to.equal(0);
    expect(domain.nodes[1]!.forwarders[0]!.chain.monitor.size).to.equal(0);
  });
});
