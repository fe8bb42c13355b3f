/**
 * Upstream's excluded-prefixes file: parsing, and a watcher that follows edits, keeps the last good list
 * through a bad edit, treats a missing file as no prefixes, and notices a directory created later.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../src/tools/log/index.js';
import { loadExcludedPrefixes, parseExcludedPrefixes, watchExcludedPrefixes, type ExcludedPrefixesWatcher } from '../../../src/tools/excludedprefixes/index.js';

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('excluded prefixes file', () => {
  let dir = '';
  const watchers: ExcludedPrefixesWatcher[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nsm-excluded-'));
  });
  afterEach(() => {
    for (const w of watchers.splice(0)) w.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("parses upstream's format; an empty file is no prefixes", () => {
    expect(parseExcludedPrefixes('prefixes:\n  - 10.96.0.0/12\n  - fd00::/8\n')).to.deep.equal(['10.96.0.0/12', 'fd00::/8']);
    expect(parseExcludedPrefixes('Prefixes: [10.0.0.0/8]'), 'upstream matches the key in any case').to.deep.equal(['10.0.0.0/8']);
    expect(parseExcludedPrefixes('')).to.deep.equal([]);
    expect(parseExcludedPrefixes('prefixes:')).to.deep.equal([]);
  });

  it('refuses what is not a list of CIDRs, naming the file and the entry', () => {
    expect(() => parseExcludedPrefixes('prefixes: [10.0.0.0/8, 10.1.2.3]', 'f.yaml')).to.throw('f.yaml: prefixes[1] "10.1.2.3" is not a CIDR');
    expect(() => parseExcludedPrefixes('prefixs: [10.0.0.0/8]', 'f.yaml')).to.throw(/unknown key "prefixs"/);
    expect(() => parseExcludedPrefixes('prefixes: 10.0.0.0/8', 'f.yaml')).to.throw(/must be a list/);
    expect(() => parseExcludedPrefixes('- 10.0.0.0/8', 'f.yaml')).to.throw(/expected a mapping/);
    expect(() => parseExcludedPrefixes('prefixes: [', 'f.yaml')).to.throw(/^f\.yaml: /);
  });

  it('a missing file is no prefixes', async () => {
    expect(await loadExcludedPrefixes(join(dir, 'missing.yaml'))).to.deep.equal([]);
  });

  it('follows edits, keeps the last good prefixes through a bad edit (logging it), and empties when the file goes', async () => {
    const file = join(dir, 'excluded_prefixes.yaml');
    writeFileSync(file, 'prefixes: [10.96.0.0/12]\n');
    const logged: string[] = [];
    const watcher = await watchExcludedPrefixes(file, { debounceMs: 20, logger: createLogger('info', (level, line) => logged.push(`${level} ${line}`)) });
    watchers.push(watcher);
    expect(watcher.current).to.deep.equal(['10.96.0.0/12']);
    const seen: (readonly string[])[] = [];
    const subscription = watcher.changes.subscribe((p) => seen.push(p));

    writeFileSync(file, 'prefixes: [10.96.0.0/12, 10.244.0.0/16]\n');
    await until(() => watcher.current.length === 2, 'the edit');
    writeFileSync(file, 'prefixes: [not-a-cidr]\n');
    await until(() => logged.some((l) => l.startsWith('error') && l.includes('not-a-cidr')), 'the error');
    expect(watcher.current, 'a bad edit keeps the prefixes from before').to.deep.equal(['10.96.0.0/12', '10.244.0.0/16']);
    unlinkSync(file);
    await until(() => watcher.current.length === 0, 'the removal');
    subscription.unsubscribe();
    expect(seen).to.deep.equal([['10.96.0.0/12'], ['10.96.0.0/12', '10.244.0.0/16'], []]);
  });

  it('sees a file replaced through a rename, as a ConfigMap update does', async () => {
    const file = join(dir, 'excluded_prefixes.yaml');
    const watcher = await watchExcludedPrefixes(file, { debounceMs: 20 });
    watchers.push(watcher);
    expect(watcher.current).to.deep.equal([]);
    writeFileSync(join(dir, '.tmp'), 'prefixes: [192.168.0.0/16]\n');
    renameSync(join(dir, '.tmp'), file);
    await until(() => watcher.current[0] === '192.168.0.0/16', 'the new file');
  });

  it('waits for a directory that does not exist yet', async () => {
    const file = join(dir, 'config', 'excluded_prefixes.yaml');
    const watcher = await watchExcludedPrefixes(file, { debounceMs: 20, pollMs: 20 });
    watchers.push(watcher);
    expect(watcher.current).to.deep.equal([]);
    mkdirSync(join(dir, 'config'));
    writeFileSync(file, 'prefixes: [172.16.0.0/12]\n');
    await until(() => watcher.current[0] === '172.16.0.0/12', 'the file in the new directory');
  });

  it('stops following the file when closed', async () => {
    const file = join(dir, 'excluded_prefixes.yaml');
    writeFileSync(file, 'prefixes: [10.0.0.0/8]\n');
    const watcher = await watchExcludedPrefixes(file, { debounceMs: 10 });
    let completed = false;
    watcher.changes.subscribe({ complete: () => (completed = true) });
    watcher.close();
    writeFileSync(file, 'prefixes: [11.0.0.0/8]\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(watcher.current).to.deep.equal(['10.0.0.0/8']);
    expect(completed).to.equal(true);
  });
});
