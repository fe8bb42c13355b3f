import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../../src/tools/clock/index.js';
import {
  createDevTrustDomain,
  DevTrustDomainSource,
  FileSource,
  issueSvid,
  parseSvid,
  writeDevTrustDomain,
  writeSvidFiles,
  type X509Svid,
} from '../../../src/tools/spiffe/index.js';
import { eventually } from '../../helpers/eventually.js';

describe('X.509 sources', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nsm-source-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('dev trust domain: mints its SVID, mints the next at half its lifetime, stops on close', async () => {
    const ca = await createDevTrustDomain('example.org');
    await writeDevTrustDomain(join(dir, 'ca'), ca);
    const clock = new FakeClock();
    const source = await DevTrustDomainSource.fromDir(join(dir, 'ca'), { spiffeId: 'spiffe://example.org/nsmgr/n1', lifetimeMs: 600_000, clock });
    const seen: X509Svid[] = [];
    const subscription = source.updates.subscribe((svid) => seen.push(svid));
    const first = source.current();
    expect(first.spiffeId).to.equal('spiffe://example.org/nsmgr/n1');
    expect(first.leaf.verify(new X509Certificate(ca.certPem).publicKey)).to.equal(true);
    expect(seen).to.have.length(1);
    clock.advance(299_999);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen, 'not before half the lifetime').to.have.length(1);
    clock.advance(1);
    await eventually(() => seen.length === 2);
    expect(source.current().certPem).to.not.equal(first.certPem);
    expect(source.current().leaf.serialNumber).to.not.equal(first.leaf.serialNumber);
    source.close();
    expect(clock.pending, 'no rotation timer after close').to.equal(0);
    subscription.unsubscribe();
  });

  it('dev trust domain: an ID outside the CA fails ready() with the reason', async () => {
    const ca = await createDevTrustDomain('example.org');
    const source = new DevTrustDomainSource(ca, { spiffeId: 'spiffe://other.org/x' });
    try {
      await source.ready();
      expect.fail('ready');
    } catch (error) {
      expect(String(error)).to.match(/not in the trust domain example\.org/);
    } finally {
      source.close();
    }
  });

  it('files: reads the SVID, follows a rewrite, skips a broken set, and names a missing file', async () => {
    const ca = await createDevTrustDomain('example.org');
    const svidDir = join(dir, 'svid');
    await writeSvidFiles(svidDir, await issueSvid(ca, 'spiffe://example.org/nse/a', 600_000));
    const errors: unknown[] = [];
    const source = await FileSource.fromDir(svidDir, (e) => errors.push(e));
    expect(source.current().spiffeId).to.equal('spiffe://example.org/nse/a');
    const next = await issueSvid(ca, 'spiffe://example.org/nse/b', 600_000);
    await writeSvidFiles(svidDir, next);
    await eventually(() => source.current().spiffeId === 'spiffe://example.org/nse/b');
    expect(source.current().certPem).to.equal(next.certPem);
    // Half a rotation on disk (a new key, the old certificate): reported, and the good SVID stays.
    const third = await issueSvid(ca, 'spiffe://example.org/nse/c', 600_000);
    const before = errors.length;
    await writeFile(join(svidDir, 'svid_key.pem'), third.keyPem);
    // (An event may also come while the file is half written: that read fails to decode, and is skipped too.)
    await eventually(() => errors.slice(before).some((e) => /does not belong to the certificate/.test(String(e))));
    expect(source.current().certPem).to.equal(next.certPem);
    source.close();
    try {
      await FileSource.fromDir(join(dir, 'nothing'));
      expect.fail('read a missing directory');
    } catch (error) {
      expect(String(error)).to.match(/nothing\/svid\.pem: ENOENT/);
    }
  });

  it('parseSvid refuses a key of another certificate and a CA as leaf', async () => {
    const ca = await createDevTrustDomain('example.org');
    const a = await issueSvid(ca, 'spiffe://example.org/a', 60_000);
    const b = await issueSvid(ca, 'spiffe://example.org/b', 60_000);
    expect(() => parseSvid(a.certPem, b.keyPem, a.bundlePem)).to.throw(/does not belong to the certificate/);
    expect(() => parseSvid(ca.certPem, ca.keyPem, ca.certPem)).to.throw(/may not be a CA/);
    expect(parseSvid(a.certPem, a.keyPem, a.bundlePem).spiffeId).to.equal('spiffe://example.org/a');
  });
});
