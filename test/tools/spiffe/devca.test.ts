import { expect } from 'chai';
import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDevTrustDomain,
  issueSvid,
  parseSpiffeId,
  readDevTrustDomain,
  roleSpiffeId,
  spiffeIdProblem,
  SVID_FILES,
  writeDevTrustDomain,
  writeSvidFiles,
} from '../../../src/tools/spiffe/index.js';

describe('SPIFFE IDs', () => {
  it('parses trust domain and path, and names what is wrong with a bad one', () => {
    expect(parseSpiffeId('spiffe://example.org/nsmgr/node-1')).to.deep.equal({ trustDomain: 'example.org', path: '/nsmgr/node-1', text: 'spiffe://example.org/nsmgr/node-1' });
    expect(parseSpiffeId('spiffe://example.org').path).to.equal('');
    const bad: [string, RegExp][] = [
      ['http://example.org/x', /must start with spiffe:\/\//],
      ['spiffe:///x', /no trust domain/],
      ['spiffe://Example.org/x', /lowercase/],
      ['spiffe://example.org:8080/x', /lowercase letters, digits/],
      ['spiffe://example.org/x/', /empty segment/],
      ['spiffe://example.org//x', /empty segment/],
      ['spiffe://example.org/x/../y', /"\." or "\.\."/],
      ['spiffe://example.org/x?y=1', /path segments may hold only/],
    ];
    for (const [text, problem] of bad) {
      expect(spiffeIdProblem(text), text).to.match(problem);
      expect(() => parseSpiffeId(text)).to.throw(TypeError);
    }
  });

  it('makes role IDs with path-safe names', () => {
    expect(roleSpiffeId('example.org', 'nsmgr', 'node-1')).to.equal('spiffe://example.org/nsmgr/node-1');
    expect(roleSpiffeId('example.org', 'nse', 'a b/c')).to.equal('spiffe://example.org/nse/a_b_c');
    expect(roleSpiffeId('example.org', 'nse', '..')).to.equal('spiffe://example.org/nse/_');
  });
});

describe('development trust domain', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nsm-devca-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('issues an X.509-SVID: a leaf with one spiffe URI SAN, P-256, chained to the CA, client and server auth', async () => {
    const ca = await createDevTrustDomain('example.org');
    const caCert = new X509Certificate(ca.certPem);
    expect(caCert.ca).to.equal(true);
    expect(caCert.subjectAltName).to.equal('URI:spiffe://example.org');
    const svid = await issueSvid(ca, 'spiffe://example.org/nsmgr/node-1', 3_600_000);
    const leaf = new X509Certificate(svid.certPem);
    expect(leaf.ca).to.equal(false);
    expect(leaf.subjectAltName).to.equal('URI:spiffe://example.org/nsmgr/node-1');
    expect(leaf.checkIssued(caCert)).to.equal(true);
    expect(leaf.verify(caCert.publicKey)).to.equal(true);
    expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('prime256v1');
    expect(leaf.keyUsage).to.include.members(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(leaf.checkPrivateKey(createPrivateKey(svid.keyPem))).to.equal(true);
    const validTo = new Date(leaf.validTo).getTime();
    expect(Math.abs(validTo - svid.notAfter.getTime())).to.be.below(1000);
    expect(svid.notAfter.getTime() - Date.now()).to.be.within(3_590_000, 3_600_000);
    // The key signs, and the certificate's key verifies it.
    const signature = sign('sha256', Buffer.from('hello'), createPrivateKey(svid.keyPem));
    expect(verify('sha256', Buffer.from('hello'), createPublicKey(leaf.publicKey.export({ type: 'spki', format: 'pem' })), signature)).to.equal(true);
    // Another CA's SVID does not chain to this one.
    const other = await issueSvid(await createDevTrustDomain('example.org'), 'spiffe://example.org/x', 60_000);
    expect(new X509Certificate(other.certPem).verify(caCert.publicKey)).to.equal(false);
  });

  it('refuses IDs outside its trust domain, IDs without a path and bad lifetimes', async () => {
    const ca = await createDevTrustDomain('example.org');
    const refused = async (id: string, lifetime: number, problem: RegExp): Promise<void> => {
      try {
        await issueSvid(ca, id, lifetime);
      } catch (error) {
        expect(String(error)).to.match(problem);
        return;
      }
      expect.fail(`issued ${id}`);
    };
    await refused('spiffe://other.org/x', 60_000, /not in the trust domain example\.org/);
    await refused('spiffe://example.org', 60_000, /needs a path/);
    await refused('spiffe://example.org/x', 0, /positive number of ms/);
  });

  it('writes and reads a trust domain and writes SVID files as spiffe-helper does, keys private', async () => {
    const ca = await createDevTrustDomain('example.org');
    await writeDevTrustDomain(join(dir, 'ca'), ca);
    const back = await readDevTrustDomain(join(dir, 'ca'));
    expect(back).to.deep.equal(ca);
    expect((await stat(join(dir, 'ca', 'ca_key.pem'))).mode & 0o777).to.equal(0o600);
    const svid = await issueSvid(back, 'spiffe://example.org/nse/a', 60_000);
    await writeSvidFiles(join(dir, 'svid'), svid);
    expect(await readFile(join(dir, 'svid', SVID_FILES.cert), 'utf8')).to.equal(svid.certPem);
    expect(await readFile(join(dir, 'svid', SVID_FILES.bundle), 'utf8')).to.equal(ca.certPem);
    expect((await stat(join(dir, 'svid', SVID_FILES.key))).mode & 0o777).to.equal(0o600);
    try {
      await readDevTrustDomain(join(dir, 'nothing'));
      expect.fail('read a missing trust domain');
    } catch (error) {
      expect(String(error)).to.match(/trust_domain: cannot read the trust domain \(ENOENT\); make one with nsm trust-domain init/);
    }
  });
});
