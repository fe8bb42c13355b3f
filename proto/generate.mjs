#!/usr/bin/env node
// Regenerates src/api/gen from proto/*.proto with buf (from npm) and ts-proto (local plugin).
// With --check, generates into a temporary directory and fails if the committed code differs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
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

// ts-proto writes Timestamp fields to JSON through Date, which keeps milliseconds only. protojson (and
// upstream Go) writes nanoseconds, with 0, 3, 6 or 9 fractional digits. Rewrite those calls to a
// helper appended to each file that needs it; --check applies the same step, so the diff stays exact.
const TO_JSON_CALL = /fromTimestamp\((message\.\w+)\)\.toISOString\(\)/g;
const TO_JSON_HELPER = `
/** A Timestamp as protojson writes it: RFC 3339, UTC, with 0, 3, 6 or 9 fractional digits. */
function timestampToJson(t: Timestamp): string {
  const whole = new globalThis.Date((t.seconds || 0) * 1_000).toISOString().slice(0, 19);
  const nanos = t.nanos || 0;
  if (nanos === 0) return \`\${whole}Z\`;
  let fraction = String(nanos).padStart(9, "0");
  if (fraction.endsWith("000000")) fraction = fraction.slice(0, 3);
  else if (fraction.endsWith("000")) fraction = fraction.slice(0, 6);
  return \`\${whole}.\${fraction}Z\`;
}
`;

function postProcess(dir) {
  for (const file of listFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    if (!TO_JSON_CALL.test(text)) continue;
    TO_JSON_CALL.lastIndex = 0;
    writeFileSync(file, text.replace(TO_JSON_CALL, 'timestampToJson($1)') + TO_JSON_HELPER);
  }
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
  postProcess(generated);
  console.log(`generated ${listFiles(generated).length} files in ${relative(root, generated)}`);
} else {
  const tmp = mkdtempSync(join(tmpdir(), 'nsm-proto-'));
  try {
    buf(tmp);
    const fresh = join(tmp, 'src', 'api', 'gen');
    postProcess(fresh);
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
