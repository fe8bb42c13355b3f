/**
 * SVID rotation under load: every role's certificate rotates many times while a connection is refreshed
 * over and over, and nothing is dropped, closed or healed; and TLS handshakes are per peer (one channel,
 * one session), not per connection.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { Connection } from '../../../src/api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../src/api/gen/networkservice.js';
import type { ChainContext } from '../../../src/networkservice/core/context.js';
import type { NetworkServiceHandler, NetworkServiceServer } from '../../../src/networkservice/core/types.js';
import type { Security } from '../../../src/tools/security/index.js';
import { decodeJwt } from '../../../src/tools/token/jwt.js';
import { eventually } from '../../helpers/eventually.js';
import { sandboxHooks } from '../nsmgr/sandbox.js';

/** The SHA-256 fingerprint of a token's `x5c` leaf (base64 DER), or '' when it has none. */
function leafFingerprint(token: string): string {
  const leaf = decodeJwt(token).header.x5c?.[0];
  return leaf === undefined ? '' : createHash('sha256').update(Buffer.from(leaf, 'base64')).digest('hex');
}

/** Records, at the endpoint, each Request's connection id and the leaf certificates each segment's tokens carried. */
class PathRecorder implements NetworkServiceServer {
  readonly name = 'test/path-recorder';
  readonly ids = new Set<string>();
  /** Per segment name, the distinct leaf fingerprints of its tokens. */
  readonly leaves = new Map<string, Set<string>>();

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    if (conn !== undefined) {
      this.ids.add(conn.id);
      for (const segment of conn.path?.pathSegments ?? []) {
        const seen = this.leaves.get(segment.name) ?? new Set<string>();
        seen.add(leafFingerprint(segment.token));
        this.leaves.set(segment.name, seen);
      }
    }
    return next.request(request, ctx);
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }
}

/** Rotated every 3 s, so that the certificate being replaced always outlives a token (1.5 s). */
const SVID_LIFETIME_MS = 6000;
/**
 * Tokens of 1.5 s: refreshed every 100-300 ms. Not shorter: a token's `exp` is whole seconds and the
 * generator refuses less than 1 s, and with 1-1.2 s tokens the refreshes bunch up against the second in
 * which every token expires and one finally arrives expired.
 */
const TOKEN_LIFETIME_MS = 1500;
const REFRESHES = 100;

describe('SVID rotation (sandbox, mTLS)', function () {
  this.timeout(60_000);
  const sandbox = sandboxHooks();

  for (const nodes of [1, 2]) {
    const where = nodes === 1 ? 'local' : 'remote';
    it(`${where}: SVID rotation during ${REFRESHES} refreshes drops no connection`, async () => {
      const domain = await sandbox.start({ nodes, security: 'mtls', svidLifetimeMs: SVID_LIFETIME_MS, tokenLifetimeMs: TOKEN_LIFETIME_MS });
      await domain.registerService({ name: 'svc' });
      const recorder = new PathRecorder();
      const nse = await domain.nodes[nodes - 1]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'], additionalFunctionality: [recorder] });
      let heals = 0;
      const client = domain.nodes[0]!.client({ name: 'nsc', heal: { onHeal: () => heals++ } });
      const conn = await client.request({ connection: { networkService: 'svc' } });
      // Stops early on the first Close or heal: the assertions below then say what went wrong.
      await eventually(() => nse.counter.requests >= 1 + REFRESHES || nse.counter.closes > 0 || heals > 0, 45_000);
      const rotations = [...recorder.leaves].map(([name, leaves]) => `${name}: ${leaves.size - 1}`).join(', ');
      expect(nse.counter.closes, 'no Close reached the endpoint').to.equal(0);
      expect(heals, 'no heal happened').to.equal(0);
      expect(nse.counter.requests, 'the endpoint saw the refreshes').to.be.at.least(1 + REFRESHES);
      expect([...recorder.ids], 'one connection id at the endpoint throughout').to.have.length(1);
      expect(recorder.leaves.size, 'a segment per hop').to.equal(nodes === 1 ? 4 : 6);
      for (const [name, leaves] of recorder.leaves) {
        expect(leaves.has(''), `${name}'s tokens carry x5c`).to.equal(false);
        expect(leaves.size - 1, `${name}'s leaf certificate rotated at least twice (rotations seen: ${rotations})`).to.be.at.least(2);
      }
      await client.close(conn);
      await eventually(() => nse.counter.closes >= 1, 5000);
      expect(nse.counter.closes, 'exactly one Close reached the endpoint').to.equal(1);
      await client.dispose();
    });
  }

  it('a TLS handshake happens once per peer, not once per connection', async () => {
    const domain = await sandbox.start({ nodes: 1, security: 'mtls' });
    await domain.registerService({ name: 'svc' });
    const nse = await domain.nodes[0]!.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
    let handshakes = 0;
    const base = domain.security('nsc', 'many');
    const counted: Security = {
      ...base,
      channelCredentials: (onPeer) =>
        base.channelCredentials((peer) => {
          handshakes++;
          onPeer?.(peer);
        }),
    };
    const client = domain.nodes[0]!.client({ name: 'many', security: counted, heal: false });
    const connections: Connection[] = [];
    for (let i = 0; i < 20; i++) connections.push(await client.request({ connection: { id: `conn-${i}`, networkService: 'svc' } }));
    expect(new Set(connections.map((c) => c.id)).size, '20 distinct connections').to.equal(20);
    for (const [i, conn] of connections.entries()) connections[i] = await client.request({ connection: conn });
    for (const conn of connections) await client.close(conn);
    await eventually(() => nse.counter.closes === 20, 5000);
    expect(nse.counter.requests, '20 requests and 20 refreshes reached the endpoint').to.equal(40);
    expect(handshakes, 'one TLS handshake from this client').to.equal(1);
    await client.dispose();
  });
});
