/**
 * `authorize` with the default policies through a whole sandbox domain (mTLS): the attacks a workload of
 * the trust domain could try are refused, each by the policy named, and nothing is left behind.
 */
import { expect } from 'chai';
import { Client } from '@grpc/grpc-js';
import { firstValueFrom } from 'rxjs';
import { createRegistryClient } from '../../../src/registry/chains/client/client.js';
import { watchConnections } from '../../../src/networkservice/common/monitor/index.js';
import { ChainContext } from '../../../src/networkservice/core/context.js';
import { grpcTarget, parseAddress } from '../../../src/tools/grpc/address.js';
import { status } from '../../../src/tools/grpc/status.js';
import { createUnsignedTokenGenerator } from '../../../src/tools/token/index.js';
import { statusRejection } from '../../helpers/status.js';
import { sandboxHooks } from '../nsmgr/sandbox.js';

describe('authorize with the default policies (sandbox, mTLS)', function () {
  this.timeout(40_000);
  const sandbox = sandboxHooks();

  it('another workload can neither replace nor unregister an endpoint, through the manager or at the registry', async () => {
    const domain = await sandbox.start({ nodes: 1 });
    await domain.registerService({ name: 'svc' });
    const nse = await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const realURL = (await domain.admin.findEndpoints({ name: 'nse-1' }))[0]?.url;
    const evilSecurity = domain.security('nse', 'evil');
    for (const connectTo of [domain.nodes[0]!.nsmgr.url, domain.registry.url]) {
      const evil = createRegistryClient({ connectTo, ctx: domain.ctx, chain: { security: evilSecurity, name: 'evil', heal: false } });
      try {
        const hijack = await statusRejection(evil.registerEndpoint({ name: 'nse-1', url: 'tcp://127.0.0.1:1', networkServiceNames: ['svc'] }, { timeoutMs: 5000 }));
        expect(hijack.code, hijack.message).to.equal(status.PERMISSION_DENIED);
        expect(hijack.message).to.match(/policy "registry_client_allowed" failed: "nse-1" is registered by spiffe:\/\/sandbox.local\/nse\/nse-1; spiffe:\/\/sandbox.local\/nse\/evil may not register it/);
        const removal = await statusRejection(evil.unregisterEndpoint('nse-1', { timeoutMs: 5000 }));
        expect(removal.code, removal.message).to.equal(status.PERMISSION_DENIED);
        expect(removal.message).to.contain('may not unregister it');
      } finally {
        await evil.close({ timeoutMs: 1000 });
      }
    }
    const after = await domain.admin.findEndpoints({ name: 'nse-1' });
    expect(after.map((e) => e.url), 'the endpoint is still registered, at its own URL').to.deep.equal([realURL]);
    // Its own workload still may: the endpoint's refreshes go on, and its own unregister works.
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    await client.close(await client.request({ connection: { networkService: 'svc' } }));
    expect(nse.counter.requests).to.equal(1);
  });

  it('a client sees only its own connections in MonitorConnections', async () => {
    const domain = await sandbox.start({ nodes: 1 });
    await domain.registerService({ name: 'svc' });
    await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const alice = domain.nodes[0]!.client({ name: 'alice' });
    const bob = domain.nodes[0]!.client({ name: 'bob' });
    const aliceConn = await alice.request({ connection: { networkService: 'svc' } });
    const bobConn = await bob.request({ connection: { networkService: 'svc' } });
    const watchAs = async (role: string, name: string): Promise<string[]> => {
      const security = domain.security(role, name);
      const channel = new Client(grpcTarget(parseAddress(domain.nodes[0]!.nsmgr.url)), security.channelCredentials(), { 'grpc.ssl_target_name_override': 'localhost' });
      try {
        const initial = await firstValueFrom(watchConnections(channel, {}, ChainContext.background()));
        return Object.values(initial.connections).map((c) => c.path?.pathSegments[0]?.name ?? '');
      } finally {
        channel.close();
      }
    };
    expect(await watchAs('nsc', 'alice'), "alice's own connection only").to.deep.equal(['alice']);
    expect(await watchAs('nsc', 'mallory'), 'a workload on no path sees nothing').to.deep.equal([]);
    expect((await watchAs('nsmgr', 'nsmgr-0')).sort(), 'the manager (on both paths) sees both').to.deep.equal(['alice', 'bob']);
    await alice.close(aliceConn);
    await bob.close(bobConn);
  });

  it('a client presenting unsigned tokens over mTLS is refused by tokens_valid, and the manager holds nothing', async () => {
    const domain = await sandbox.start({ nodes: 1 });
    await domain.registerService({ name: 'svc' });
    await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const forger = domain.nodes[0]!.client({
      name: 'forger',
      heal: false,
      tokenGenerator: createUnsignedTokenGenerator({ subject: 'spiffe://sandbox.local/nsc/forger', lifetimeMs: 60_000 }),
    });
    const error = await statusRejection(forger.request({ connection: { networkService: 'svc' } }, { timeoutMs: 5000 }));
    expect(error.code, error.message).to.equal(status.PERMISSION_DENIED);
    expect(error.message).to.match(/policy "tokens_valid" failed at path segment 0 \(forger\)/);
    expect(domain.nodes[0]!.nsmgr.binding.held.size).to.equal(0);
  });
});
