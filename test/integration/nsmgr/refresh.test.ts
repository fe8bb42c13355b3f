/**
 * Tokens and lifetimes: refresh renews the whole path (the client at the start of the path re-requests
 * before its token expires, and every hop after it passes on the path it received, with the earlier hops'
 * renewed tokens, so no hop's timeout closes a connection that is being refreshed); a connection nobody
 * refreshes is closed before its token expires; a registration nobody refreshes expires.
 */
import { expect } from 'chai';
import type { Connection } from '../../../src/api/gen/connection.js';
import { eventually } from '../../helpers/eventually.js';
import { sandboxHooks } from './sandbox.js';

const expiresAt = (conn: Connection): number[] =>
  (conn.path?.pathSegments ?? []).map((s) => (s.expires?.seconds ?? 0) * 1000 + Math.floor((s.expires?.nanos ?? 0) / 1e6));

describe('refresh renews every hop (sandbox)', function () {
  this.timeout(40_000);
  const sandbox = sandboxHooks();

  for (const nodes of [1, 2]) {
    const where = nodes === 1 ? 'local' : 'remote';
    it(`${where}: 3 s tokens on every role, refreshed over several lifetimes: every segment's expiry moves on and no hop closes`, async function () {
      const lifetimeMs = 3000;
      const domain = await sandbox.start({ nodes, tokenLifetimeMs: lifetimeMs });
      await domain.registerService({ name: 'svc' });
      const nse = await domain.nodes[nodes - 1]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
      let heals = 0;
      const client = domain.nodes[0]!.client({ name: 'nsc', heal: { onHeal: () => heals++ } });
      const conn = await client.request({ connection: { networkService: 'svc' } });
      const first = expiresAt(conn);
      expect(first.length, 'a segment per hop').to.equal(nodes === 1 ? 4 : 6);
      // The endpoint knows the connection by its own segment's id.
      const atEndpoint = (): Connection | undefined => [...(nse.served()?.connections.values() ?? [])][0];
      // Wait until the path as the endpoint last saw it has every segment renewed past the first token's
      // lifetime twice over: with the earlier hops' tokens kept stale, a hop's timeout would close first.
      const horizon = Math.max(...first) + 2 * lifetimeMs;
      await eventually(() => {
        const seen = atEndpoint();
        return seen !== undefined && expiresAt(seen).every((t) => t > horizon);
      }, 6 * lifetimeMs);
      expect(nse.counter.closes, 'no hop closed the connection').to.equal(0);
      expect(heals, 'no heal was needed').to.equal(0);
      const now = Date.now();
      expect(expiresAt(atEndpoint()!).every((t) => t > now), 'every token at the endpoint is valid').to.equal(true);
      expect(nse.counter.requests, 'the endpoint saw the refreshes').to.be.greaterThan(2);
      await client.close(conn);
      await eventually(() => nse.counter.closes === 1, 5000);
      await client.dispose();
    });
  }
});

describe('timeout and expire (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  it('a 2 s token that is not refreshed: the connection is closed before the token expires', async function () {
    // Signed 2 s tokens on every role; the Close the timeouts send carries tokens that have just expired,
    // which `authorize` lets through (upstream sdk#1512).
    const domain = await sandbox.start({ nodes: 1, tokenLifetimeMs: 2000 });
    await domain.registerService({ name: 'svc' });
    const nse = await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const client = domain.nodes[0]!.client({ name: 'nsc', refresh: false, heal: false });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    const expires = conn.path?.pathSegments[0]?.expires;
    expect(expires).to.not.equal(undefined);
    const expiresAt = (expires?.seconds ?? 0) * 1000 + Math.floor((expires?.nanos ?? 0) / 1e6);
    let closedAt = 0;
    await eventually(() => {
      if (nse.counter.closes > 0 && closedAt === 0) closedAt = Date.now();
      return closedAt > 0;
    }, 5000);
    expect(closedAt, 'closed while the token was still valid').to.be.lessThan(expiresAt);
    // The Close reached the endpoint; the hops before it let go once the Close has come back to them.
    const held = (): number[] => [nse.served()?.connections.size ?? -1, domain.nodes[0]!.forwarders[0]!.binding.held.size, domain.nodes[0]!.nsmgr.binding.held.size];
    await eventually(() => held().every((n) => n === 0), 2000).catch(() => undefined);
    expect(held(), 'endpoint, forwarder, manager hold nothing').to.deep.equal([0, 0, 0]);
  });

  it('an endpoint that stops refreshing its registration is gone from the registry', async function () {
    const domain = await sandbox.start({ nodes: 1, registrationLifetimeMs: 1000 });
    const nse = await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await domain.admin.findEndpoints({ name: 'nse-1' }), 'refreshed, it stays').to.have.length(1);
    nse.registry.abandon(); // stops refreshing, as a process that hangs would
    await eventually(async () => (await domain.admin.findEndpoints({ name: 'nse-1' })).length === 0, 5000);
  });
});
