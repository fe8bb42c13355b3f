import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMain } from '../../../src/tools/process/index.js';

const toolURL = pathToFileURL(fileURLToPath(new URL('../../../src/tools/process/index.ts', import.meta.url))).href;

/** Runs a small program that uses the tools; sends SIGTERM once it prints `ready`. */
function program(body: string, signal: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'nsm-process-'));
  const file = join(dir, 'program.ts');
  writeFileSync(file, `import { runMain, stopOnSignals } from '${toolURL}';\n${body}\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (signal && !signalled && stdout.includes('ready')) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

describe('tools/process', function () {
  this.timeout(20_000);

  it('isMain is false for a module that was imported', () => {
    expect(isMain(import.meta.url)).to.equal(false);
  });

  it('SIGTERM runs the stop function and exits 0; a failing stop exits 1', async () => {
    const keep = 'setInterval(() => undefined, 1000);';
    const ok = await program(`runMain(import.meta.url, 'p', async () => { ${keep} stopOnSignals(async () => void process.stdout.write('stopped\\n')); process.stdout.write('ready\\n'); });`, true);
    expect(ok.code).to.equal(0);
    expect(ok.stdout).to.include('stopped');
    const failing = await program(`runMain(import.meta.url, 'p', async () => { ${keep} stopOnSignals(async () => { throw new Error('x'); }); process.stdout.write('ready\\n'); });`, true);
    expect(failing.code).to.equal(1);
  });

  it('runMain reports a failure as one line and exits 1', async () => {
    const result = await program(`runMain(import.meta.url, 'demo-role', async () => { throw new Error('no registry at tcp://127.0.0.1:1'); });`, false);
    expect(result.code).to.equal(1);
    expect(result.stderr.trim()).to.equal('demo-role: no registry at tcp://127.0.0.1:1');
  });
});
