import { expect } from 'chai';
import { createHmac, createPublicKey, createSecretKey, generateKeyPairSync } from 'node:crypto';
import { FakeClock } from '../../../src/tools/clock/index.js';
import {
  createJwtTokenGenerator,
  createTestTokenGenerator,
  decodeJwt,
  JwtError,
  type JwtErrorReason,
  signJwt,
  TEST_TOKEN_KEY,
  TEST_TOKEN_SUBJECT,
  verifyJwt,
} from '../../../src/tools/token/index.js';

const HOUR = 60 * 60 * 1000;

function rejects(fn: () => unknown, reason: JwtErrorReason, text?: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(JwtError);
    expect((error as JwtError).reason).to.equal(reason);
    if (text !== undefined) expect((error as JwtError).message).to.match(text);
    return;
  }
  expect.fail(`expected a JwtError (${reason})`);
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('JWT', () => {
  it('verifies the RFC 7515 appendix A.1 HS256 example (interop with other implementations)', () => {
    const key = Buffer.from(
      'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow',
      'base64url',
    );
    const token =
      'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9' +
      '.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ' +
      '.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const claims = verifyJwt(token, key, { clock: new FakeClock(1300819379_000) });
    expect(claims.iss).to.equal('joe');
    expect(claims['http://example.com/is_root']).to.equal(true);
    rejects(() => verifyJwt(token, key, { clock: new FakeClock(1300819380_000) }), 'expired');
  });

  it('verifies the RFC 7515 appendix A.3 ES256 example (raw r||s signature)', () => {
    const key = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
        y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
      },
      format: 'jwk',
    });
    const token =
      'eyJhbGciOiJFUzI1NiJ9' +
      '.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ' +
      '.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q';
    expect(verifyJwt(token, key, { clock: new FakeClock(1300819379_000) }).iss).to.equal('joe');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    rejects(() => verifyJwt(token, other, { clock: new FakeClock(1300819379_000) }), 'signature');
  });

  it('HS256: a generated token round-trips with sub, aud, iat and exp', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0, 250));
    const gen = createJwtTokenGenerator({
      subject: 'spiffe://example.org/nsc',
      audience: 'spiffe://example.org/nsmgr',
      lifetimeMs: 10 * 60 * 1000,
      key: 'secret',
      algorithm: 'HS256',
      clock,
    });
    const { token, expires } = await gen(undefined);
    const claims = verifyJwt(token, 'secret', { clock });
    const iat = Math.floor(clock.now() / 1000);
    expect(claims).to.deep.equal({
      sub: 'spiffe://example.org/nsc',
      aud: 'spiffe://example.org/nsmgr',
      iat,
      exp: iat + 600,
    });
    // The returned expiry is what the token claims, never later.
    expect(expires.getTime()).to.equal((iat + 600) * 1000);
    expect(decodeJwt(token).header).to.deep.equal({ alg: 'HS256', typ: 'JWT' });
    // The signature is a plain HMAC-SHA256 over header.payload.
    const [h, p, s] = token.split('.');
    expect(s).to.equal(createHmac('sha256', 'secret').update(`${h}.${p}`).digest('base64url'));
  });

  it('ES256: a generated token verifies with the public key and has a raw 64-byte signature', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const clock = new FakeClock();
    const gen = createJwtTokenGenerator({
      subject: 'spiffe://example.org/nse',
      lifetimeMs: HOUR,
      key: privateKey,
      algorithm: 'ES256',
      clock,
    });
    const { token } = await gen(undefined);
    expect(decodeJwt(token).header.alg).to.equal('ES256');
    expect(Buffer.from(token.split('.')[2] ?? '', 'base64url')).to.have.length(64);
    const claims = verifyJwt(token, publicKey, { clock });
    expect(claims.sub).to.equal('spiffe://example.org/nse');
    expect(claims).to.not.have.property('aud');
    expect(claims.exp).to.equal(clock.now() / 1000 + 3600);
  });

  it('signs once per second and audience: the same claims get the same token (ES256 signatures are random otherwise)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 0, 100));
    const gen = createJwtTokenGenerator({ subject: 'spiffe://example.org/nse', lifetimeMs: HOUR, key: privateKey, algorithm: 'ES256', clock });
    const a = { spiffeId: 'spiffe://example.org/a' };
    const first = await gen(a);
    clock.advance(500); // same second
    const again = await gen(a);
    const other = await gen({ spiffeId: 'spiffe://example.org/b' });
    expect(again.token, 'reused within the second').to.equal(first.token);
    expect(other.token).to.not.equal(first.token);
    expect(verifyJwt(other.token, publicKey, { clock }).aud).to.equal('spiffe://example.org/b');
    clock.advance(500); // the next second: new claims, a new signature
    const later = await gen(a);
    expect(later.token).to.not.equal(first.token);
    expect(verifyJwt(later.token, publicKey, { clock }).iat).to.equal(verifyJwt(first.token, publicKey, { clock }).iat! + 1);
    const unsigned = (t: string): string => t.split('.').slice(0, 2).join('.');
    const direct = signJwt(decodeJwt(first.token).claims, privateKey, 'ES256');
    expect(unsigned(direct), 'the cached token has exactly the claims a fresh one would').to.equal(unsigned(first.token));
  });

  it('takes the audience from the peer and never outlives the peer certificate', async () => {
    const clock = new FakeClock();
    const gen = createJwtTokenGenerator({
      subject: 'spiffe://a/x',
      lifetimeMs: HOUR,
      key: 'k',
      algorithm: 'HS256',
      clock,
    });
    const notAfter = new Date(clock.now() + 10 * 60 * 1000);
    const { token, expires } = await gen({ spiffeId: 'spiffe://a/peer', notAfter });
    const claims = verifyJwt(token, 'k', { clock, audience: 'spiffe://a/peer' });
    expect(claims.aud).to.equal('spiffe://a/peer');
    expect(expires.getTime()).to.equal(notAfter.getTime());
    rejects(() => verifyJwt(token, 'k', { clock, audience: 'spiffe://a/other' }), 'claims', /audience/);
    // A peer whose certificate already expired gets no token.
    let failed = false;
    await gen({ notAfter: new Date(clock.now() - 1) }).catch(() => (failed = true));
    expect(failed).to.equal(true);
  });

  it('rejects a token signed with another key', async () => {
    const clock = new FakeClock();
    const hsGen = createJwtTokenGenerator({ subject: 's', lifetimeMs: HOUR, key: 'right', algorithm: 'HS256', clock });
    const hs = await hsGen(undefined);
    rejects(() => verifyJwt(hs.token, 'wrong', { clock }), 'signature', /signature/);
    rejects(() => verifyJwt(hs.token, createSecretKey(Buffer.from('wrong')), { clock }), 'signature');

    const a = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const b = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const esGen = createJwtTokenGenerator({ subject: 's', lifetimeMs: HOUR, key: a.privateKey, algorithm: 'ES256', clock });
    const es = await esGen(undefined);
    expect(verifyJwt(es.token, a.publicKey, { clock }).sub).to.equal('s');
    rejects(() => verifyJwt(es.token, b.publicKey, { clock }), 'signature');
  });

  it('rejects altered claims, algorithm swaps and unsigned tokens', async () => {
    const clock = new FakeClock();
    const { token } = await createTestTokenGenerator(HOUR, clock)(undefined);
    const [h, , s] = token.split('.');
    const forged = `${h}.${b64({ sub: 'spiffe://evil/x', exp: clock.now() / 1000 + 60 })}.${s}`;
    rejects(() => verifyJwt(forged, TEST_TOKEN_KEY, { clock }), 'signature');

    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'x', exp: clock.now() / 1000 + 60 })}.`;
    rejects(() => verifyJwt(unsigned, TEST_TOKEN_KEY, { clock }), 'algorithm', /"none"/);

    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    rejects(() => verifyJwt(token, publicKey, { clock }), 'algorithm', /expected ES256/);
  });

  it('rejects an expired token, by the injected clock', async () => {
    const clock = new FakeClock();
    const { token } = await createTestTokenGenerator(HOUR, clock)(undefined);
    clock.advance(HOUR - 1);
    expect(verifyJwt(token, TEST_TOKEN_KEY, { clock }).sub).to.equal(TEST_TOKEN_SUBJECT);
    clock.advance(1);
    rejects(() => verifyJwt(token, TEST_TOKEN_KEY, { clock }), 'expired', /expired at 2026-01-01T01:00:00.000Z/);
    expect(verifyJwt(token, TEST_TOKEN_KEY, { clock, leewayMs: 1000 }).sub).to.equal(TEST_TOKEN_SUBJECT);
  });

  it('rejects tokens without exp and tokens not yet valid', () => {
    const clock = new FakeClock();
    const now = clock.now() / 1000;
    rejects(() => verifyJwt(signJwt({ sub: 'x' }, 'k', 'HS256'), 'k', { clock }), 'claims', /"exp"/);
    rejects(() => verifyJwt(signJwt({ exp: now + 60, nbf: now + 30 }, 'k', 'HS256'), 'k', { clock }), 'not-yet-valid');
  });

  it('rejects malformed tokens with a message naming the problem', () => {
    const sig = 'c2ln';
    const cases: [string, RegExp][] = [
      ['', /3 dot-separated parts, got 1/],
      ['abc', /3 dot-separated parts, got 1/],
      ['a.b', /got 2/],
      ['a.b.c.d', /got 4/],
      [`${b64({ alg: 'HS256' })}.${b64({ exp: 1 })}.${sig}!`, /signature is not base64url/],
      [`not json.${b64({})}.${sig}`, /header is not base64url/],
      [`${Buffer.from('{nope').toString('base64url')}.${b64({})}.${sig}`, /header is not JSON/],
      [`${b64({ typ: 'JWT' })}.${b64({})}.${sig}`, /no "alg"/],
      [`${b64({ alg: 'HS256' })}.${b64([1, 2])}.${sig}`, /payload is not a JSON object/],
      [`${b64({ alg: 'HS256' })}.${b64({ exp: '2030' })}.${sig}`, /"exp" is not a number/],
    ];
    for (const [token, message] of cases) rejects(() => verifyJwt(token, 'k'), 'malformed', message);
  });

  it('createTestTokenGenerator: HS256 with the fixed test key, one hour by default', async () => {
    const clock = new FakeClock();
    const { token, expires } = await createTestTokenGenerator(undefined, clock)(undefined);
    expect(verifyJwt(token, TEST_TOKEN_KEY, { clock }).sub).to.equal(TEST_TOKEN_SUBJECT);
    expect(TEST_TOKEN_SUBJECT).to.equal('spiffe://test.local/test');
    expect(expires.getTime() - clock.now()).to.equal(HOUR);
  });

  it('refuses unusable generator options at once', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const base = { subject: 's', lifetimeMs: HOUR };
    expect(() => createJwtTokenGenerator({ ...base, key: 'pem?', algorithm: 'ES256' })).to.throw(TypeError, /KeyObject/);
    expect(() => createJwtTokenGenerator({ ...base, key: publicKey, algorithm: 'ES256' })).to.throw(/private key/);
    expect(() => createJwtTokenGenerator({ ...base, key: p384, algorithm: 'ES256' })).to.throw(/P-256/);
    expect(() => createJwtTokenGenerator({ ...base, key: privateKey, algorithm: 'HS256' })).to.throw(/secret key/);
    expect(() => createJwtTokenGenerator({ ...base, key: '', algorithm: 'HS256' })).to.throw(/empty/);
    expect(() => createJwtTokenGenerator({ ...base, lifetimeMs: 0, key: 'k', algorithm: 'HS256' })).to.throw(/lifetime/);
    expect(() => createJwtTokenGenerator({ ...base, subject: '', key: 'k', algorithm: 'HS256' })).to.throw(/subject/);
  });
});
