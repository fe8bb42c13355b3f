/**
 * Start to ready of the built `nsm` command (dist/src/cli/main.js, which the caller builds): from spawning
 * `node dist/src/cli/main.js <role>` to the role's ready line, for `registry` and `nsmgr` (against a
 * registry started for the purpose), 10 runs each, next to the floor of starting node at all
 * (`node -e "console.log('ready')"`). Every role listens on a unix socket in a temporary directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fmt } from './stats.js';
import { createDevTrustDomain, writeDevTrustDomain } from '../../src/tools/spiffe/devca.js';

const RUNS = 10;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/** A started process and how long it took to print its ready line (ms). */
interface Started {
  readonly child: ChildProcess;
  readonly ms: number;
  readonly line: string;
}

/** The environment without NSM_* variables of the caller's: each role sees only what the bench gives it. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('NSM_')) env[name] = value;
  return { ...env, ...extra };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Runs processes and remembers each, so that {@link killAll} can end whatever is left. */
class Processes {
  private readonly children = new Set<ChildProcess>();

  /** Spawns `node ...args` and resolves when a line of stdout or stderr matches `ready`. */
  start(args: readonly string[], env: Record<string, string>, ready: RegExp, what: string): Promise<Started> {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    const said: string[] = [];
    return new Promise<Started>((resolve, reject) => {
      const streams = [child.stdout, child.stderr].flatMap((s) => (s === null ? [] : [createInterface({ input: s })]));
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const fail = (reason: string): void =>
        settle(() => reject(new Error(`${what} ${reason}${said.length > 0 ? `; it said: ${said.slice(-3).join(' | ')}` : ''}`)));
      const timer = setTimeout(() => fail(`printed no ready line within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
      for (const lines of streams) {
        lines.on('line', (line) => {
          said.push(line);
          if (ready.test(line)) settle(() => resolve({ child, ms: performance.now() - started, line }));
        });
      }
      child.once('error', (error) => fail(`could not start: ${error.message}`));
      // 'close', not 'exit': the streams are read to the end first, so a line printed just before exiting counts.
      child.once('close', (code, signal) => fail(`exited (${String(code ?? signal)}) before its ready line`));
    });
  }

  /** SIGTERM, then waits for the exit (SIGKILL after {@link STOP_TIMEOUT_MS}); resolves with the exit code. */
  async stop(child: ChildProcess): Promise<number | null> {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited(child);
      clearTimeout(timer);
    }
    return child.exitCode;
  }

  /** Ends every process still running (SIGKILL) and waits for them. */
  async killAll(): Promise<void> {
    const left = [...this.children];
    for (const child of left) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(left.map(exited));
  }
}

interface Times {
  readonly median: number;
  readonly best: number;
  readonly worst: number;
}

function times(samples: readonly number[]): Times {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  return { median: ((s[(n - 1) >> 1] ?? 0) + (s[n >> 1] ?? 0)) / 2, best: s[0] ?? 0, worst: s.at(-1) ?? 0 };
}

/** Prints the start-to-ready figures through `out`. */
export async function startupTimes(out: (line?: string) => void): Promise<void> {
  const main = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
  out('## Start to ready (built package)');
  out();
  if (!existsSync(main)) {
    out('(not measured: dist/src/cli/main.js is missing; `npm run build` makes it)');
    out();
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'nsm-bench-startup-'));
  const processes = new Processes();
  const socket = (name: string): string => `unix://${join(dir, `${name}.sock`)}`;
  // The manager watches this file; absent, as on a host without the config map.
  // Each role mints its SVID from a development CA at start, as deployed roles get theirs: part of start-up.
  const caDir = join(dir, 'ca');
  await writeDevTrustDomain(caDir, await createDevTrustDomain('bench.nsm'));
  const env = { NSM_EXCLUDED_PREFIXES_FILE: join(dir, 'excluded_prefixes.yaml'), NSM_TRUST_DOMAIN_DIR: caDir };
  const roleReady = /^\S+ ready on \S/;
  /** One unmeasured run (disk cache, the first spawn), then {@link RUNS} measured: start, ready, stop. */
  const measure = async (what: string, run: (i: number) => Promise<Started>): Promise<Times> => {
    const samples: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const started = await run(i);
      const code = await processes.stop(started.child);
      if (code !== 0 && what !== 'node') throw new Error(`${what} ended with ${String(code ?? started.child.signalCode)} on SIGTERM`);
      if (i > 0) samples.push(started.ms);
    }
    return times(samples);
  };
  try {
    const floor = await measure('node', () => processes.start(['-e', "console.log('ready')"], {}, /^ready$/, 'node -e'));
    const registry = await measure('nsm registry', (i) =>
      processes.start([main, 'registry', '--listen-on', socket(`registry-${i}`)], env, roleReady, 'nsm registry'),
    );
    const upstream = await processes.start([main, 'registry', '--listen-on', socket('registry')], env, roleReady, 'nsm registry (for nsmgr)');
    const nsmgr = await measure('nsm nsmgr', (i) =>
      processes.start([main, 'nsmgr', '--listen-on', socket(`nsmgr-${i}`), '--registry-url', socket('registry')], env, roleReady, 'nsm nsmgr'),
    );
    await processes.stop(upstream.child);
    const row = (name: string, t: Times): string =>
      `| ${name} | ${fmt(t.median)} | ${fmt(t.best)} | ${fmt(t.worst)} | ${fmt(t.median / floor.median, 1)} |`;
    out(`From spawning \`node dist/src/cli/main.js <role>\` to its ready line on stdout (${RUNS} runs each, after one`);
    out('unmeasured run; each role listens on a unix socket, the manager has a registry running). The floor is');
    out(`\`node -e "console.log('ready')"\`: starting node and printing a line, nothing else. Goal ≤ 500 ms.`);
    out();
    out('| | median (ms) | best (ms) | worst (ms) | median / floor |');
    out('| --- | --- | --- | --- | --- |');
    out(row('node -e (floor)', floor));
    out(row('nsm registry', registry));
    out(row('nsm nsmgr', nsmgr));
    out();
    out(`- goal ≤ 500 ms: registry ${registry.median <= 500 ? 'met' : 'missed'} (median ${fmt(registry.median)} ms), nsmgr ${nsmgr.median <= 500 ? 'met' : 'missed'} (median ${fmt(nsmgr.median)} ms)`);
    out(`- above the floor: registry +${fmt(registry.median - floor.median)} ms, nsmgr +${fmt(nsmgr.median - floor.median)} ms (medians)`);
    out();
  } finally {
    await processes.killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
