import { expect } from 'chai';
import { Metadata } from '@grpc/grpc-js';
import { FakeClock } from '../../../src/tools/clock/index.js';
import { NsmStatusError, status } from '../../../src/tools/grpc/status.js';
import {
  createTestTokenGenerator,
  formatRfc3339,
  parseRfc3339,
  readTokenMetadata,
  tokenCallCredentials,
  TOKEN_EXPIRES_METADATA_KEY,
  TOKEN_METADATA_KEY,
  decodeJwt,
  writeTokenMetadata,
} from '../../../src/tools/token/index.js';

function invalidArgument(fn: () => unknown, text: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(NsmStatusError);
    expect((error as NsmStatusError).code).to.equal(status.INVALID_ARGUMENT);
    expect((error as NsmStatusError).message).to.match(text);
    return;
  }
  expect.fail('expected an INVALID_ARGUMENT error');
}

describe('token metadata', () => {
  it('uses upstream NSM keys', () => {
    expect(TOKEN_METADATA_KEY).to.equal('nsm-client-token');
    expect(TOKEN_EXPIRES_METADATA_KEY).to.equal('nsm-client-token-expires');
  });

  it('write then read gives back the token and expiry; the expiry is RFC 3339 as Go writes it', () => {
    for (const [ms, text] of [
      [Date.UTC(2026, 0, 1), '2026-01-01T00:00:00Z'],
      [Date.UTC(2026, 5, 30, 23, 59, 59, 500), '2026-06-30T23:59:59.5Z'],
      [Date.UTC(2030, 11, 31, 1, 2, 3, 45), '2030-12-31T01:02:03.045Z'],
    ] as const) {
      const md = new Metadata();
      writeTokenMetadata(md, `tok-${ms}`, new Date(ms));
      expect(md.get(TOKEN_EXPIRES_METADATA_KEY)).to.deep.equal([text]);
      const read = readTokenMetadata(md);
      expect(read?.token).to.equal(`tok-${ms}`);
      expect(read?.expires.getTime()).to.equal(ms);
    }
  });

  it('writing again replaces the earlier values', () => {
    const md = new Metadata();
    writeTokenMetadata(md, 'old', new Date(Date.UTC(2026, 0, 1)));
    writeTokenMetadata(md, 'new', new Date(Date.UTC(2027, 0, 1)));
    expect(md.get(TOKEN_METADATA_KEY)).to.deep.equal(['new']);
    expect(readTokenMetadata(md)?.expires.toISOString()).to.equal('2027-01-01T00:00:00.000Z');
  });

  it('reads what a Go peer sends: local offsets and nanoseconds', () => {
    const md = new Metadata();
    md.set(TOKEN_METADATA_KEY, 'go-token');
    md.set(TOKEN_EXPIRES_METADATA_KEY, '2026-01-01T02:30:00.123456789+02:30');
    expect(readTokenMetadata(md)?.expires.toISOString()).to.equal('2026-01-01T00:00:00.123Z');
    md.set(TOKEN_EXPIRES_METADATA_KEY, '2025-12-31T19:00:00-05:00');
    expect(readTokenMetadata(md)?.expires.toISOString()).to.equal('2026-01-01T00:00:00.000Z');
  });

  it('has nothing to read from metadata without a token', () => {
    const md = new Metadata();
    md.set('other', 'x');
    expect(readTokenMetadata(md)).to.equal(undefined);
  });

  it('rejects a malformed expiry with INVALID_ARGUMENT naming the key and value', () => {
    for (const bad of [
      'tomorrow',
      '1767225600',
      '2026-01-01',
      '2026-01-01T00:00:00', // no offset
      '2026-01-01 00:00:00Z', // Go's RFC 3339 parser wants the T
      '2026-02-30T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:00:00+25:00',
      ' 2026-01-01T00:00:00Z',
    ]) {
      const md = new Metadata();
      md.set(TOKEN_METADATA_KEY, 't');
      md.set(TOKEN_EXPIRES_METADATA_KEY, bad);
      invalidArgument(() => readTokenMetadata(md), /"nsm-client-token-expires" is not an RFC 3339 timestamp/);
      expect(parseRfc3339(bad)).to.equal(undefined);
    }
  });

  it('rejects half a token or repeated values', () => {
    const onlyToken = new Metadata();
    onlyToken.set(TOKEN_METADATA_KEY, 't');
    invalidArgument(() => readTokenMetadata(onlyToken), /"nsm-client-token-expires" has 0 values, expected 1/);

    const onlyExpiry = new Metadata();
    onlyExpiry.set(TOKEN_EXPIRES_METADATA_KEY, '2026-01-01T00:00:00Z');
    invalidArgument(() => readTokenMetadata(onlyExpiry), /"nsm-client-token" has 0 values/);

    const twice = new Metadata();
    twice.add(TOKEN_METADATA_KEY, 'a');
    twice.add(TOKEN_METADATA_KEY, 'b');
    twice.set(TOKEN_EXPIRES_METADATA_KEY, '2026-01-01T00:00:00Z');
    invalidArgument(() => readTokenMetadata(twice), /"nsm-client-token" has 2 values/);
  });

  it('formats and parses years before 100 without the Date.UTC 1900 shift', () => {
    const date = parseRfc3339('0042-03-04T05:06:07Z');
    expect(date?.getUTCFullYear()).to.equal(42);
    expect(formatRfc3339(date ?? new Date(NaN))).to.equal('0042-03-04T05:06:07Z');
    expect(() => formatRfc3339(new Date(NaN))).to.throw(RangeError);
  });

  it('tokenCallCredentials sends a fresh token in the metadata of each call', async () => {
    const clock = new FakeClock();
    const creds = tokenCallCredentials(createTestTokenGenerator(60_000, clock));
    const md = await creds.generateMetadata({
      service_url: 'https://nsmgr/networkservice.NetworkService',
      method_name: 'Request',
    });
    const read = readTokenMetadata(md);
    expect(read?.expires.getTime()).to.equal(clock.now() + 60_000);
    expect(decodeJwt(read?.token ?? '').claims.exp).to.equal((clock.now() + 60_000) / 1000);
  });

  it('tokenCallCredentials fails the call when the generator fails', async () => {
    const creds = tokenCallCredentials(() => Promise.reject(new Error('no SVID yet')));
    let failure: unknown;
    await creds
      .generateMetadata({ service_url: 'x', method_name: 'Request' })
      .catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(Error);
    expect((failure as Error).message).to.equal('no SVID yet');
  });
});
