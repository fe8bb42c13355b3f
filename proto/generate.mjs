#!/usr/bin/env node
// Regenerates src/api/gen from proto/*.proto with buf (from npm) and ts-proto (local plugin).
// With --check, generates into a temporary directory and fails if the committed code differs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const generated = join(root, 'src', 'api', 'gen');
const check = process.argv.includes('--check');

function buf(outBase) {
  const args = ['generate', 'proto', '--template', 'proto/buf.gen.yaml'];
  if (outBase) args.push('-o', outBase);
  execFileSync(join(root, 'node_modules', '.bin', 'buf'), args, { cwd: root, stdio: 'inherit' });
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

if (!check) {
  rmSync(generated, { recursive: true, force: true });
  buf();
  console.log(`generated ${listFiles(generated).length} files in ${relative(root, generated)}`);
} else {
  const tmp = mkdtempSync(join(tmpdir(), 'nsm-proto-'));
  try {
    buf(tmp);
    const fresh = join(tmp, 'src', 'api', 'gen');
    const want = new Set(listFiles(fresh).map((f) => relative(fresh, f)));
    const have = new Set(listFiles(generated).map((f) => relative(generated, f)));
    const problems = [];
    for (const f of want) {
      if (!have.has(f)) problems.push(`missing: src/api/gen/${f}`);
      else if (readFileSync(join(fresh, f), 'utf8') !== readFileSync(join(generated, f), 'utf8')) {
        problems.push(`differs: src/api/gen/${f}`);
      }
    }
    for (const f of have) if (!want.has(f)) problems.push(`stale: src/api/gen/${f}`);
    if (problems.length > 0) {
      console.error(`generated code is out of date (run npm run proto):\n  ${problems.join('\n  ')}`);
      process.exitCode = 1;
    } else {
      console.log(`src/api/gen is up to date (${want.size} files)`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
