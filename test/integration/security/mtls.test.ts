/**
 * mTLS through a whole sandbox domain: every hop serves and dials with its own SVID, every path segment
 * carries an ES256 token signed by that hop and addressed to the next, and a peer that is not an SVID of
 * the domain's trust domain gets nowhere.
 */
import { expect } from 'chai';
import { credentials } from '@grpc/grpc-js';
import type { Connection } from '../../../src/api/gen/connection.js';
import { createClient } from '../../../src/index.js';
import { mtlsSecurity } from '../../../src/tools/security/index.js';
import { SANDBOX_TRUST_DOMAIN } from '../../../src/tools/sandbox/security.js';
import { certificateChain, decodeJwt, TokenVerifier } from '../../../src/tools/token/index.js';
import { createDevTrustDomain, DevTrustDomainSource } from '../../../src/tools/spiffe/index.js';
import { sandboxHooks } from '../nsmgr/sandbox.js';
import { ChannelPool } from '../../../src/networkservice/common/dial/index.js';

function subjects(conn: Connection): string[] {
  return (conn.path?.pathSegments ?? []).map((segment) => String(decodeJwt(segment.token).claims.sub));
}

describe('mTLS across the domain (sandbox)', function () {
  this.timeout(40_000);
  const sandbox = sandboxHooks();

  for (const nodes of [1, 2]) {
    const where = nodes === 1 ? 'local' : 'remote';
    it(`${where}: each segment is signed by its hop (verified against the bundle) and addressed to the next`, async () => {
      const domain = await sandbox.start({ nodes, security: 'mtls' });
      await domain.registerService({ name: 'svc' });
      await domain.nodes[nodes - 1]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
      const client = domain.nodes[0]!.client({ name: 'nsc' });
      const conn = await client.request({ connection: { networkService: 'svc' } });
      const td = `spiffe://${SANDBOX_TRUST_DOMAIN}`;
      const expected =
        nodes === 1
          ? [`${td}/nsc/nsc`, `${td}/nsmgr/nsmgr-0`, `${td}/forwarder/forwarder-0-0`, `${td}/nse/nse-1`]
          : [`${td}/nsc/nsc`, `${td}/nsmgr/nsmgr-0`, `${td}/forwarder/forwarder-0-0`, `${td}/nsmgr/nsmgr-1`, `${td}/forwarder/forwarder-1-0`, `${td}/nse/nse-1`];
      expect(subjects(conn)).to.deep.equal(expected);
      const segments = conn.path?.pathSegments ?? [];
      const bundle = certificateChain(domain.trustBundlePem ?? '');
      expect(bundle).to.have.length(1);
      const verifier = new TokenVerifier();
      for (const [i, segment] of segments.entries()) {
        const verified = await verifier.verifyWithBundle(segment.token, bundle, Date.now());
        expect(verified.claims.sub).to.equal(expected[i]);
        if (i + 1 < segments.length) expect(verified.claims.aud, `segment ${i}'s audience`).to.deep.equal([expected[i + 1]]);
      }
      await client.close(conn);
    });
  }

  it('a plaintext client, and a client of a foreign trust domain, are refused', async () => {
    const domain = await sandbox.start({ nodes: 1, security: 'mtls' });
    await domain.registerService({ name: 'svc' });
    await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    const url = domain.nodes[0]!.nsmgr.url;
    const pool = new ChannelPool();
    const plain = createClient({ name: 'plain', connectTo: url, heal: false, dialOptions: { pool, credentials: credentials.createInsecure(), dialTimeoutMs: 1500 } });
    const foreignCa = await createDevTrustDomain('evil.org');
    const source = new DevTrustDomainSource(foreignCa, { spiffeId: 'spiffe://evil.org/nsc/x' });
    await source.ready();
    const foreign = createClient({ name: 'foreign', connectTo: url, heal: false, security: mtlsSecurity(source), dialOptions: { pool, dialTimeoutMs: 1500 } });
    try {
      for (const client of [plain, foreign]) {
        const error = await client.request({ connection: { networkService: 'svc' } }, { timeoutMs: 3000 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, 'the request must fail').to.be.instanceOf(Error);
      }
      expect(domain.nodes[0]!.nsmgr.binding.held.size, 'nothing reached the manager').to.equal(0);
    } finally {
      await plain.dispose({ timeoutMs: 500 });
      await foreign.dispose({ timeoutMs: 500 });
      pool.closeAll();
      source.close();
    }
  });
});
