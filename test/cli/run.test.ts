/**
 * `run()`, the `nsm` command in process: help, version, the warning about variables a command does not
 * read, and a role stopped by a signal (exit 0) or failing on bad configuration (exit 2, one line).
 */
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { run } from '../../src/cli/index.js';
import { publishedFirst } from '../../src/cli/roles/nsmgr.js';
import { packageVersion } from '../../src/cli/version.js';
import { e2eTrustDomainDir } from '../e2e/nsm.js';

/** Runs `run` with stdout and stderr captured. */
async function captured(
  args: string[],
  env: Record<string, string>,
  signals = new EventEmitter(),
  whileRunning?: (out: string[], ended: () => boolean) => Promise<void>,
): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => (out.push(...String(chunk).split('\n').filter((l) => l !== '')), true));
  process.stderr.write = ((chunk: string) => (err.push(...String(chunk).split('\n').filter((l) => l !== '')), true));
  try {
    const running = run(args, env, signals);
    let ended = false;
    void running.finally(() => (ended = true));
    await whileRunning?.(out, () => ended);
    return { code: await running, out, err };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}

describe('nsm run()', () => {
  it('--version, help and <command> --help exit 0; no command exits 2', async () => {
    expect(await captured(['--version'], {})).to.deep.include({ code: 0, out: [packageVersion()] });
    const help = await captured(['nse', '--help'], {});
    expect(help.code).to.equal(0);
    expect(help.out.join('\n')).to.match(/--idle-timeout\s+NSM_IDLE_TIMEOUT/);
    expect((await captured([], {})).code).to.equal(2);
  });

  it('warns about NSM_* variables the command does not read, then fails bad configuration in one line (exit 2)', async () => {
    const { code, err } = await captured(['nsc'], { NSM_LISTEN_ONN: 'tcp://127.0.0.1:1', NSM_REGISTRY_URL: 'tcp://127.0.0.1:2', NSM_LOG_LEVEL: 'warn' });
    expect(code).to.equal(2);
    expect(err.filter((l) => / WARN /.test(l))).to.have.length(2);
    expect(err.join('\n')).to.include('NSM_LISTEN_ONN is not read by nsm nsc; ignored');
    expect(err.at(-1)).to.equal('nsm nsc: --network-services / NSM_NETWORK_SERVICES is required');
  });

  it('a role stopped by SIGTERM exits 0, and logs its configuration once at info', async () => {
    const signals = new EventEmitter();
    const { code, err } = await captured(['registry'], { NSM_LISTEN_ON: 'tcp://127.0.0.1:0', NSM_TRUST_DOMAIN_DIR: e2eTrustDomainDir() }, signals, async (out, ended) => {
      // Until the ready line, or the end of a run that never got there (it fails then, not hangs).
      while (!out.some((l) => l.includes('ready on')) && !ended()) await new Promise((r) => setTimeout(r, 10));
      signals.emit('SIGTERM');
    });
    expect(code).to.equal(0);
    expect(err.filter((l) => l.includes('INFO nsm registry: configuration'))).to.have.length(1);
  });

  it('the manager publishes the first tcp:// address of its list, as upstream', () => {
    expect(publishedFirst(['unix:///a.sock', 'tcp://:5001', 'tcp://127.0.0.1:2'])).to.deep.equal(['tcp://:5001', 'unix:///a.sock', 'tcp://127.0.0.1:2']);
    expect(publishedFirst(['unix:///a.sock', 'unix:///b.sock'])).to.deep.equal(['unix:///a.sock', 'unix:///b.sock']);
  });
});
