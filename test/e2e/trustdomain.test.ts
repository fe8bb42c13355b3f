/**
 * `nsm trust-domain` as a process: init makes a CA, issue writes an SVID that chains to it with the
 * asked SPIFFE ID, and bad arguments exit 2 with one line naming the problem.
 */
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, nsm, type Proc } from './nsm.js';

async function finished(proc: Proc): Promise<{ code: number | null; out: string[]; err: string }> {
  const code = await exited(proc);
  return { code, out: proc.lines, err: proc.stderr };
}

describe('nsm trust-domain (e2e)', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nsm-td-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('init then issue: an SVID of the asked ID, chained to the CA, as spiffe-helper files', async () => {
    const ca = join(dir, 'ca');
    const init = await finished(nsm(['trust-domain', 'init', ca, '--trust-domain', 'nsm.test'], {}));
    expect(init.code, init.err).to.equal(0);
    expect(init.out.join('\n')).to.match(/trust domain nsm\.test: CA written to/);
    const out = join(dir, 'svid');
    const issue = await finished(nsm(['trust-domain', 'issue', ca, '--spiffe-id', 'spiffe://nsm.test/nse/a', '--out', out, '--lifetime', '10m'], {}));
    expect(issue.code, issue.err).to.equal(0);
    const leaf = new X509Certificate(readFileSync(join(out, 'svid.pem')));
    const bundle = new X509Certificate(readFileSync(join(out, 'svid_bundle.pem')));
    expect(leaf.subjectAltName).to.equal('URI:spiffe://nsm.test/nse/a');
    expect(leaf.verify(bundle.publicKey)).to.equal(true);
    expect(new X509Certificate(readFileSync(join(ca, 'ca.pem'))).fingerprint256).to.equal(bundle.fingerprint256);
    const left = new Date(leaf.validTo).getTime() - Date.now();
    expect(left).to.be.within(9 * 60_000, 10 * 60_000);
  });

  it('bad arguments exit 2 with one line; an existing CA is not overwritten', async () => {
    const ca = join(dir, 'ca');
    expect((await finished(nsm(['trust-domain', 'init', ca], {}))).code).to.equal(0);
    const cases: [string[], RegExp][] = [
      [['trust-domain', 'init', ca], /already holds a trust domain/],
      [['trust-domain', 'init', join(dir, 'x'), '--trust-domain', 'Bad.Domain'], /--trust-domain Bad\.Domain: .*lowercase/],
      [['trust-domain', 'issue', ca, '--out', join(dir, 'o')], /--spiffe-id is needed/],
      [['trust-domain', 'issue', ca, '--spiffe-id', 'spiffe://other.org/x', '--out', join(dir, 'o')], /not in the trust domain example\.org/],
      [['trust-domain', 'issue', ca, '--spiffe-id', 'spiffe://example.org/x', '--out', join(dir, 'o'), '--lifetime', 'soon'], /--lifetime: "soon" is not a duration/],
      [['trust-domain', 'issue', join(dir, 'none'), '--spiffe-id', 'spiffe://example.org/x', '--out', join(dir, 'o')], /cannot read the trust domain \(ENOENT\)/],
      [['trust-domain', 'rotate', ca], /unknown trust-domain action "rotate"/],
      [['trust-domain', 'init', ca, '--bogus', 'x'], /Unknown option '--bogus'/],
    ];
    for (const [args, problem] of cases) {
      const result = await finished(nsm(args, {}));
      expect(result.code, args.join(' ')).to.equal(2);
      const lines = result.err.trim().split('\n');
      expect(lines, args.join(' ')).to.have.length(1);
      expect(lines[0], args.join(' ')).to.match(problem);
    }
  });
});
