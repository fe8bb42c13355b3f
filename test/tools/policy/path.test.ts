/**
 * The token-path policies against real ES256 tokens of a dev trust domain: a good path passes, and each
 * attack is refused by the policy meant for it, with the segment named.
 */
import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import type { DevTrustDomainSource } from '../../../src/tools/spiffe/index.js';
import { peerAuthInfoOf } from '../../../src/tools/spiffe/tls.js';
import { certificateChain, createSvidTokenGenerator, createUnsignedTokenGenerator, TokenVerifier } from '../../../src/tools/token/jwt.js';
import {
  defaultClientPathPolicies,
  defaultServerPathPolicies,
  enforce,
  firstViolation,
  type PathPolicyInput,
  tokensNotExpired,
} from '../../../src/tools/policy/index.js';
import { devSource, trustDomain } from '../../helpers/svid.js';

const TD = 'spiffe://example.org';

describe('token-path policies', function () {
  this.timeout(20_000);
  let nsc: DevTrustDomainSource;
  let nsmgr: DevTrustDomainSource;
  let nse: DevTrustDomainSource;
  let foreign: DevTrustDomainSource;
  let bundle: ReturnType<typeof certificateChain>;

  before(async () => {
    const ca = await trustDomain('example.org');
    nsc = await devSource(ca, `${TD}/nsc/a`);
    nsmgr = await devSource(ca, `${TD}/nsmgr/b`);
    nse = await devSource(ca, `${TD}/nse/c`);
    // Another CA issuing the same SPIFFE ID: a forger who has a key but not the trust domain's.
    foreign = await devSource(await trustDomain('example.org'), `${TD}/nsc/a`);
    bundle = certificateChain(nsc.current().bundlePem);
  });
  after(() => [nsc, nsmgr, nse, foreign].forEach((s) => s.close()));

  const peer = (source: DevTrustDomainSource) => peerAuthInfoOf(source.current().leaf);
  const sign = (from: DevTrustDomainSource, to: DevTrustDomainSource, maxLifetimeMs = 60_000) =>
    createSvidTokenGenerator({ source: from, maxLifetimeMs, reuseMs: 0 })(peer(to)).then((t) => t.token);

  function input(tokens: string[], side: 'server' | 'client', tlsPeer: DevTrustDomainSource, now = Date.now()): PathPolicyInput {
    const names = ['nsc', 'nsmgr', 'nse'];
    return {
      segments: tokens.map((token, i) => ({ name: names[i] ?? `hop-${i}`, token })),
      offset: 0,
      side,
      peer: peer(tlsPeer),
      bundle,
      verifier: new TokenVerifier(),
      now,
    };
  }

  async function refusal(policies: ReturnType<typeof defaultServerPathPolicies>, judged: PathPolicyInput): Promise<{ name: string; segment: number | undefined; reason: string }> {
    const failed = await firstViolation(policies, judged);
    expect(failed, 'a violation').to.not.equal(undefined);
    return { name: failed!.policy.name, segment: failed!.violation.segment, reason: failed!.violation.reason };
  }

  it('a well-formed path passes the server and the client defaults', async () => {
    const path = [await sign(nsc, nsmgr), await sign(nsmgr, nse), await sign(nse, nsmgr)];
    expect(await firstViolation(defaultServerPathPolicies(), input(path, 'server', nsmgr))).to.equal(undefined);
    expect(await firstViolation(defaultClientPathPolicies(), input(path, 'client', nsmgr))).to.equal(undefined);
  });

  it('an expired token: tokens_expired, at the segment that expired', async () => {
    const path = [await sign(nsc, nsmgr, 1_000), await sign(nsmgr, nse)];
    const judged = input(path, 'server', nsc, Date.now() + 5_000);
    expect(await refusal(defaultServerPathPolicies(), judged)).to.include({ name: 'tokens_expired', segment: 0 });
    // The same path before expiry passes that policy.
    expect(await tokensNotExpired.check(input(path, 'server', nsc))).to.equal(undefined);
  });

  it('a token for the wrong audience: tokens_chained', async () => {
    const path = [await sign(nsc, nse), await sign(nsmgr, nse)];
    const refused = await refusal(defaultServerPathPolicies(), input(path, 'server', nsc));
    expect(refused).to.include({ name: 'tokens_chained', segment: 0 });
    expect(refused.reason).to.contain(`${TD}/nsmgr/b`);
  });

  it('a forged signature (another CA\'s key, the same SPIFFE ID): tokens_valid', async () => {
    const path = [await sign(foreign, nsmgr), await sign(nsmgr, nse)];
    const refused = await refusal(defaultServerPathPolicies(), input(path, 'server', foreign));
    expect(refused).to.include({ name: 'tokens_valid', segment: 0 });
    expect(refused.reason).to.match(/signer certificate/);
  });

  it('an altered token (claims changed, signature kept): tokens_valid', async () => {
    const [header, , signature] = (await sign(nsc, nsmgr)).split('.');
    const claims = Buffer.from(JSON.stringify({ sub: `${TD}/nsc/a`, aud: [`${TD}/nsmgr/b`], exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
    const path = [`${header}.${claims}.${signature}`, await sign(nsmgr, nse)];
    const refused = await refusal(defaultServerPathPolicies(), input(path, 'server', nsc));
    expect(refused).to.include({ name: 'tokens_valid', segment: 0 });
    expect(refused.reason).to.match(/signature/);
  });

  it('an unsigned token in a secure domain: tokens_valid', async () => {
    const unsigned = await createUnsignedTokenGenerator({ subject: `${TD}/nsc/a`, lifetimeMs: 60_000 })(peer(nsmgr));
    const refused = await refusal(defaultServerPathPolicies(), input([unsigned.token, await sign(nsmgr, nse)], 'server', nsc));
    expect(refused).to.include({ name: 'tokens_valid', segment: 0 });
    expect(refused.reason).to.match(/no signer certificate/);
  });

  it('a segment dropped, or two reordered: tokens_chained', async () => {
    const a = await sign(nsc, nsmgr);
    const b = await sign(nsmgr, nse);
    const c = await sign(nse, nsmgr);
    expect(await refusal(defaultServerPathPolicies(), input([a, c], 'server', nsc))).to.include({ name: 'tokens_chained', segment: 0 });
    expect(await refusal(defaultServerPathPolicies(), input([b, a, c], 'server', nsc))).to.include({ name: 'tokens_chained', segment: 0 });
  });

  it('the previous token not signed by the TLS peer: prev_token_signed', async () => {
    const path = [await sign(nsc, nsmgr), await sign(nsmgr, nse), await sign(nse, nsmgr)];
    // The caller of nse is nsmgr; a TLS peer that is nsc (relaying nsmgr's segment) is refused.
    const refused = await refusal(defaultServerPathPolicies(), input(path, 'server', nsc));
    expect(refused).to.include({ name: 'prev_token_signed', segment: 1 });
    expect(refused.reason).to.contain(`${TD}/nsc/a`);
  });

  it('a caller that rotated its SVID since the TLS handshake still passes prev_token_signed; another identity does not', async () => {
    const ca = await trustDomain('example.org');
    const before = await devSource(ca, `${TD}/nsmgr/b`);
    const path = [await sign(nsc, nsmgr), await sign(nsmgr, nse), await sign(nse, nsmgr)];
    // The TLS session was made with `before`, an older SVID of the same SPIFFE ID, from another CA here
    // only so that its certificate differs; it is not in the bundle, which is fine: TLS checked it then.
    const judged = { ...input(path, 'server', nsmgr), peer: peerAuthInfoOf(before.current().leaf) };
    expect(await firstViolation(defaultServerPathPolicies(), judged)).to.equal(undefined);
    before.close();
    const other = { ...input(path, 'server', nsmgr), peer: { ...peer(nse), spiffeId: `${TD}/nse/c` } };
    expect(await refusal(defaultServerPathPolicies(), other)).to.include({ name: 'prev_token_signed', segment: 1 });
  });

  it('the next token not signed by the next hop we dialed: next_token_signed', async () => {
    const path = [await sign(nsc, nsmgr), await sign(nsmgr, nse), await sign(nse, nsmgr)];
    expect(await refusal(defaultClientPathPolicies(), input(path, 'client', nse))).to.include({ name: 'next_token_signed', segment: 1 });
  });

  it('a segment without a token is refused by name', async () => {
    const refused = await refusal(defaultServerPathPolicies(), input(['', await sign(nsmgr, nse)], 'server', nsc));
    expect(refused).to.include({ name: 'tokens_valid', segment: 0, reason: 'the segment has no token' });
  });

  it('enforce: PERMISSION_DENIED naming the policy and the segment', async () => {
    const path = [await sign(nsc, nse), await sign(nsmgr, nse)];
    try {
      await enforce(defaultServerPathPolicies(), input(path, 'server', nsc));
      expect.fail('enforce passed');
    } catch (error) {
      expect((error as { code?: number }).code).to.equal(status.PERMISSION_DENIED);
      expect((error as Error).message).to.match(/^authorize: policy "tokens_chained" failed at path segment 0 \(nsc\): /);
    }
  });
});
