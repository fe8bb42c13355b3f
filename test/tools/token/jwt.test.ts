import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { FakeClock } from '../../../src/tools/clock/index.js';
import { issueSvid, parseSvid, type DevTrustDomain } from '../../../src/tools/spiffe/index.js';
import {
  certificateChain,
  chainProblem,
  createSvidTokenGenerator,
  createUnsignedTokenGenerator,
  decodeJwt,
  JwtError,
  TokenVerifier,
} from '../../../src/tools/token/index.js';
import { ManualSource, trustDomain } from '../../helpers/svid.js';

async function svidOf(ca: DevTrustDomain, id: string, lifetimeMs = 3_600_000): Promise<ReturnType<typeof parseSvid>> {
  const issued = await issueSvid(ca, id, lifetimeMs);
  return parseSvid(issued.certPem, issued.keyPem, issued.bundlePem);
}

async function rejection(promise: Promise<unknown>): Promise<JwtError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(JwtError);
  return error as JwtError;
}

describe('path tokens (jose)', function () {
  this.timeout(20_000);
  let ca: DevTrustDomain;
  let foreign: DevTrustDomain;
  let bundle: X509Certificate[];
  before(async () => {
    ca = await trustDomain('example.org');
    foreign = await trustDomain('evil.org');
    bundle = certificateChain(ca.certPem);
  });

  it('signs ES256 with the SVID key: sub = own SPIFFE ID, aud = the peer, x5c = the chain; the bundle verifies it', async () => {
    const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000 + 1000);
    const source = new ManualSource(await svidOf(ca, 'spiffe://example.org/nsmgr/a'));
    const generate = createSvidTokenGenerator({ source, maxLifetimeMs: 600_000, clock });
    const { token, expires } = await generate({ spiffeId: 'spiffe://example.org/forwarder/b' });
    const { header, claims } = decodeJwt(token);
    expect(header.alg).to.equal('ES256');
    expect(header.x5c).to.have.length(1);
    expect(claims.sub).to.equal('spiffe://example.org/nsmgr/a');
    expect(claims.aud).to.deep.equal(['spiffe://example.org/forwarder/b']);
    expect(expires.getTime()).to.equal(clock.now() + 600_000);
    const verified = await new TokenVerifier().verifyWithBundle(token, bundle, clock.now());
    expect(verified.claims.sub).to.equal('spiffe://example.org/nsmgr/a');
    expect(verified.signer.fingerprint256).to.equal(source.current().leaf.fingerprint256);
  });

  it('exp is the earliest of now + lifetime, our certificate\'s end and the peer\'s', async () => {
    const source = new ManualSource(await svidOf(ca, 'spiffe://example.org/nse/a', 120_000));
    const generate = createSvidTokenGenerator({ source, maxLifetimeMs: 600_000 });
    const own = await generate(undefined);
    expect(own.expires.getTime()).to.be.at.most(Date.parse(source.current().leaf.validTo));
    expect(own.expires.getTime()).to.be.above(Date.now() + 60_000);
    const peerEnds = new Date(Date.now() + 30_000);
    const toPeer = await generate({ spiffeId: 'spiffe://example.org/x', notAfter: peerEnds });
    expect(toPeer.expires.getTime()).to.equal(Math.floor(peerEnds.getTime() / 1000) * 1000);
    // The peer's handshake certificate has ended: the TLS session outlived a rotation, the peer holds a
    // newer SVID, and the old date bounds nothing.
    const afterRotation = await generate({ spiffeId: 'spiffe://example.org/y', notAfter: new Date(Date.now() - 1000) });
    expect(afterRotation.expires.getTime()).to.be.above(Date.now() + 60_000);
    // Our own certificate's end always bounds the token.
    const ending = new ManualSource(await svidOf(ca, 'spiffe://example.org/nse/b', 1_500));
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    await createSvidTokenGenerator({ source: ending, maxLifetimeMs: 600_000 })(undefined).then(
      () => expect.fail('a token signed with an expired certificate'),
      (e: unknown) => expect(String(e)).to.match(/expired/),
    );
  });

  it('reuses a token for the same audience within the reuse window, and never across a rotation', async () => {
    const clock = new FakeClock(Date.parse('2026-12-03T10:00:00Z'));
    const source = new ManualSource(await svidOf(ca, 'spiffe://example.org/nsmgr/a'));
    const generate = createSvidTokenGenerator({ source, maxLifetimeMs: 600_000, reuseMs: 10_000, clock });
    const peer = { spiffeId: 'spiffe://example.org/nse/z' };
    const first = await generate(peer);
    clock.advance(9_000);
    expect((await generate(peer)).token).to.equal(first.token);
    expect((await generate({ spiffeId: 'spiffe://example.org/other' })).token).to.not.equal(first.token);
    clock.advance(2_000);
    const later = await generate(peer);
    expect(later.token).to.not.equal(first.token);
    source.set(await svidOf(ca, 'spiffe://example.org/nsmgr/a'));
    const rotated = await generate(peer);
    expect(rotated.token).to.not.equal(later.token);
    expect(decodeJwt(rotated.token).header.x5c?.[0]).to.equal(source.current().leaf.raw.toString('base64'));
  });

  it('refuses a forged signature, an altered payload, a foreign trust domain, a lying sub, no x5c, alg none', async () => {
    const verifier = new TokenVerifier();
    const now = Date.now();
    const good = await createSvidTokenGenerator({ source: new ManualSource(await svidOf(ca, 'spiffe://example.org/a')), maxLifetimeMs: 600_000 })(undefined);
    const [h, p, s] = good.token.split('.') as [string, string, string];
    const altered = `${h}.${Buffer.from(JSON.stringify({ ...decodeJwt(good.token).claims, sub: 'spiffe://example.org/b' })).toString('base64url')}.${s}`;
    expect((await rejection(verifier.verifyWithBundle(altered, bundle, now))).reason).to.equal('signer');
    const tamperedAud = `${h}.${Buffer.from(JSON.stringify({ ...decodeJwt(good.token).claims, aud: ['x'] })).toString('base64url')}.${s}`;
    expect((await rejection(verifier.verifyWithBundle(tamperedAud, bundle, now))).reason).to.equal('signature');
    const evil = await createSvidTokenGenerator({ source: new ManualSource(await svidOf(foreign, 'spiffe://evil.org/a')), maxLifetimeMs: 600_000 })(undefined);
    const foreignError = await rejection(verifier.verifyWithBundle(evil.token, bundle, now));
    expect(foreignError.reason).to.equal('signer');
    expect(foreignError.message).to.match(/trust bundle/);
    // A token signed by another key but claiming our chain.
    const otherKey = await createSvidTokenGenerator({ source: new ManualSource(await svidOf(ca, 'spiffe://example.org/a')), maxLifetimeMs: 600_000 })(undefined);
    const [, , otherSig] = otherKey.token.split('.') as [string, string, string];
    expect((await rejection(verifier.verifyWithBundle(`${h}.${p}.${otherSig}`, bundle, now))).reason).to.equal('signature');
    const unsigned = await createUnsignedTokenGenerator({ subject: 'spiffe://example.org/a', lifetimeMs: 60_000 })(undefined);
    expect((await rejection(verifier.verifyWithBundle(unsigned.token, bundle, now))).reason).to.equal('signer');
    const leaf = new ManualSource(await svidOf(ca, 'spiffe://example.org/a')).current().leaf;
    expect((await rejection(verifier.verifyWithCertificate(unsigned.token, leaf))).reason).to.equal('algorithm');
    expect((await rejection(verifier.verifyWithCertificate(good.token, leaf))).reason).to.equal('signature');
    expect((await verifier.verifyWithBundle(good.token, bundle, now)).claims.sub).to.equal('spiffe://example.org/a');
  });

  it('chainProblem: a CA as leaf, an expired certificate, a broken chain', async () => {
    const caCert = new X509Certificate(ca.certPem);
    expect(chainProblem([caCert], bundle, Date.now())).to.match(/CA certificate/);
    const svid = await svidOf(ca, 'spiffe://example.org/a', 60_000);
    expect(chainProblem([svid.leaf], bundle, Date.now())).to.equal(undefined);
    expect(chainProblem([svid.leaf], bundle, Date.now() + 120_000)).to.match(/not valid now/);
    expect(chainProblem([svid.leaf], certificateChain(foreign.certPem), Date.now())).to.match(/trust bundle/);
  });

  it('unsigned tokens (insecure mode): alg none, sub, aud, exp; one per second and audience', async () => {
    const clock = new FakeClock(Date.parse('2026-12-03T10:00:00.200Z'));
    const generate = createUnsignedTokenGenerator({ subject: 'spiffe://insecure.local/nsc', lifetimeMs: 60_000, clock });
    const a = await generate({ spiffeId: 'spiffe://x/y' });
    expect(decodeJwt(a.token).header.alg).to.equal('none');
    expect(decodeJwt(a.token).claims).to.include({ sub: 'spiffe://insecure.local/nsc' });
    expect(a.expires.getTime()).to.equal(Date.parse('2026-12-03T10:01:00Z'));
    expect((await generate({ spiffeId: 'spiffe://x/y' })).token).to.equal(a.token);
    clock.advance(1000);
    expect((await generate({ spiffeId: 'spiffe://x/y' })).token).to.not.equal(a.token);
  });

  it('decodeJwt names what is malformed', () => {
    for (const bad of ['', 'a.b', 'a.b.c', 'x.eyJ9.y']) {
      expect(() => decodeJwt(bad)).to.throw(JwtError, /malformed JWT/);
    }
  });
});
