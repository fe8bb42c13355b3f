/**
 * `npm run demo` as a user runs it: a registry, a manager, a forwarder and an endpoint as processes, a
 * client, the printed connection, and a clean exit.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));

function run(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run demo', function () {
  this.timeout(90_000);

  it('starts the domain as processes, prints the connection through the manager and forwarder, and exits 0', async () => {
    const { code, stdout, stderr } = await run('npm', ['run', '--silent', 'demo'], 80_000);
    expect(code, `demo failed:\n${stdout}\n${stderr}`).to.equal(0);
    expect(stdout).to.match(/registry ready on tcp:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).to.match(/icmp-responder ready on unix:\/\//);
    expect(stdout).to.match(/path: +nsc -> nsmgr -> forwarder -> icmp-responder/);
    expect(stdout).to.match(/mechanism: LOCAL\/KERNEL, interface nsm-1/);
    expect(stdout).to.match(/addresses: client 172\.16\.0\.\d+\/32, endpoint 172\.16\.0\.\d+\/32/);
    expect(stdout).to.include('every process stopped; done');
  });

  it('--stay keeps the domain up until SIGINT, then stops every process and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'demo', '--stay'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!interrupted && stdout.includes('the domain stays up')) {
        interrupted = true;
        // Still up a moment later: it waits for the signal, not for anything else.
        setTimeout(() => {
          expect(child.exitCode).to.equal(null);
          child.kill('SIGINT');
        }, 500);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, `${stdout}\n${stderr}`).to.equal(0);
    expect(stdout).to.include('every process stopped; done');
  });
});
