/**
 * Discovery without round trips: once the first Request of a service has been discovered, further
 * Requests, refreshes and Closes of that service ask neither the registry nor (from the forwarders) the
 * managers anything, and open no new watches; a newly registered endpoint is still found, because the
 * managers' caches are kept current by their watches. Calls are counted where they are served.
 */
import { expect } from 'chai';
import type { Connection } from '../../../src/api/gen/connection.js';
import type { RegistryCallCounts } from '../../../src/registry/core/serve.js';
import type { Domain } from '../../../src/tools/sandbox/index.js';
import { eventually } from '../../helpers/eventually.js';
import { sandboxHooks } from './sandbox.js';

/** Every registry call served so far, by server: the registry and each manager's registry services. */
function served(domain: Domain): Record<string, RegistryCallCounts> {
  const sum = (a: Readonly<RegistryCallCounts>, b: Readonly<RegistryCallCounts>): RegistryCallCounts => ({
    register: a.register + b.register,
    find: a.find + b.find,
    watch: a.watch + b.watch,
    unregister: a.unregister + b.unregister,
  });
  const counts: Record<string, RegistryCallCounts> = {
    registry: sum(domain.registry.nseBinding.calls, domain.registry.nsBinding.calls),
  };
  for (const node of domain.nodes) counts[node.nsmgr.name] = sum(node.nsmgr.nseBinding.calls, node.nsmgr.nsBinding.calls);
  return counts;
}

function finds(counts: Record<string, RegistryCallCounts>): Record<string, { find: number; watch: number }> {
  return Object.fromEntries(Object.entries(counts).map(([name, c]) => [name, { find: c.find, watch: c.watch }]));
}

describe('discovery without round trips (sandbox)', function () {
  this.timeout(60_000);
  const sandbox = sandboxHooks();

  it('steady-state Requests, refreshes and Closes make no registry Find and open no watch', async () => {
    const domain = await sandbox.start({ nodes: 2 });
    await domain.registerService({ name: 'svc' });
    const first = await domain.nodes[1]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const local = domain.nodes[0]!.client({ name: 'nsc-local' });
    const remote = domain.nodes[0]!.client({ name: 'nsc-remote' });

    // Warm-up: the first Request of the service is discovered through the registry.
    const warm = await remote.request({ connection: { networkService: 'svc' } });
    expect(warm.path?.pathSegments.map((s) => s.name)).to.deep.equal(['nsc-remote', 'nsmgr-0', 'forwarder-0-0', 'nsmgr-1', 'forwarder-1-0', 'nse-1']);
    const before = finds(served(domain));
    expect(before['registry']!.find, 'the warm-up did ask the registry').to.be.greaterThan(0);

    const connections: Connection[] = [];
    for (let i = 0; i < 20; i++) connections.push(await remote.request({ connection: { networkService: 'svc' } }));
    const refreshed = await remote.request({ connection: connections[0]! });
    expect(refreshed.id).to.equal(connections[0]!.id);
    for (const connection of connections) await remote.close(connection);
    expect(finds(served(domain)), 'nothing was asked after the warm-up').to.deep.equal(before);

    // A new endpoint of the service is seen through the manager's watch of the service, with no Find by
    // service. Reaching it the first time does look it up by name (a new filter, once per role), after
    // which it is steady state again.
    const second = await domain.nodes[1]!.addEndpoint({ name: 'nse-2', networkServices: ['svc'] });
    const beforeNew = served(domain);
    await eventually(async () => {
      const conn = await remote.request({ connection: { networkService: 'svc' } });
      connections.push(conn);
      return second.counter.requests > 0;
    });
    expect(served(domain)['nsmgr-0']!.find - beforeNew['nsmgr-0']!.find, 'no new Find by service at the client side').to.be.at.most(1);
    const afterNew = finds(served(domain));
    const firstBefore = first.counter.requests;
    const secondBefore = second.counter.requests;
    for (let i = 0; i < 10; i++) connections.push(await remote.request({ connection: { networkService: 'svc' } }));
    expect(first.counter.requests, 'round robin still reaches the first endpoint').to.be.greaterThan(firstBefore);
    expect(second.counter.requests, 'and the new one').to.be.greaterThan(secondBefore);
    expect(finds(served(domain)), 'both endpoints known: nothing asked').to.deep.equal(afterNew);
    for (const connection of connections.slice(20)) await remote.close(connection);

    // A node-local client: the local manager's forwarder finds nothing either once warmed up.
    await domain.nodes[0]!.addEndpoint({ name: 'nse-local', networkServices: ['svc-local'] });
    await domain.registerService({ name: 'svc-local' });
    const warmLocal = await local.request({ connection: { networkService: 'svc-local' } });
    const beforeLocal = finds(served(domain));
    const more = await Promise.all(Array.from({ length: 10 }, () => local.request({ connection: { networkService: 'svc-local' } })));
    for (const connection of [warmLocal, ...more]) await local.close(connection);
    expect(finds(served(domain))).to.deep.equal(beforeLocal);
    await remote.close(warm);
  });
});
