/**
 * Request latency and throughput through the mesh with every role in its own process (the built `nsm`
 * command: `node dist/src/cli/main.js <role>`), next to a raw grpc-js relay chain of as many hops, each hop
 * a process too (`dist/test/bench/relay.js`), measured in the same run.
 *
 * Two "nodes" on this machine: a registry, and per node a manager on loopback TCP with its forwarder on a
 * unix socket (each node's processes get their own NODE_NAME); an endpoint on node 0 offers `local-svc`,
 * one on node 1 offers `remote-svc`. The client runs in this process and talks to node 0's manager:
 * - local: client → nsmgr-0 → forwarder-0 → nse-local (3 hops after the client);
 * - remote: client → nsmgr-0 → forwarder-0 → nsmgr-1 → forwarder-1 → nse-remote (5 hops).
 * The relay chains use the same transports hop by hop (TCP where a manager listens, unix sockets
 * elsewhere), and each relay forwards over one shared channel to the next; the last one echoes.
 *
 * Needs `npm run build` first (it starts the compiled roles and relays).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client, credentials } from '@grpc/grpc-js';
import { Connection } from '../../src/api/gen/connection.js';
import { NetworkServiceRequest, NetworkServiceService } from '../../src/api/gen/networkservice.js';
import { ChainContext } from '../../src/networkservice/core/context.js';
import { createClient } from '../../src/networkservice/chains/client/index.js';
import { kernelMechanismPreference } from '../../src/networkservice/mechanisms/kernel/index.js';
import { grpcTarget, parseAddress } from '../../src/tools/grpc/address.js';
import { unaryCall } from '../../src/tools/grpc/call.js';
import { errorMessage } from '../../src/tools/grpc/status.js';
import { fmt, latency, summarize, throughput, type LatencySummary } from './stats.js';

const WARMUP = 200;
const LATENCY_OPS = 300;
/** Latency is measured in rounds of this many operations, raw and nsm-sdk in turn. */
const LATENCY_ROUND = 30;
const THROUGHPUT_OPS = 1000;
const CONCURRENCY = 16;
/** Throughput is measured in this many rounds, raw and nsm-sdk in turn. */
const THROUGHPUT_ROUNDS = 2;
const LATENCY_GOAL = 1.5;
const THROUGHPUT_GOAL = 0.7;
/** How long a role or relay may take to print its ready line (ms). */
const READY_MS = 30_000;
/** How long a process may take to exit on SIGTERM before it is killed (ms). */
const STOP_MS = 3_000;
/** One failed operation is reported; this many end the run. */
const MAX_FAILURES = 20;

/**
 * Loaded into every child before its script: when this process goes away, however it ends (even
 * SIGKILL), the child's stdin pipe closes and the child stops itself as on SIGTERM.
 */
const STDIN_WATCH = `--import=data:text/javascript,${encodeURIComponent(
  "process.stdin.on('end',()=>process.kill(process.pid,'SIGTERM'));process.stdin.on('error',()=>{});process.stdin.resume();",
)}`;

/** The repository root: the nearest directory up from here with a package.json (from test/bench or dist/test/bench). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('procmesh: no package.json above this file');
    dir = up;
  }
  return dir;
}

/** A child process: a role or a relay. */
interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  /** Its stderr lines (each is also passed on to this process's stderr, prefixed with the name). */
  readonly stderr: string[];
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
}

/** Prints the figures through `out`; returns each sequential operation's latency (µs) per configuration. */
export async function processMesh(out: (line?: string) => void): Promise<{ samples: Record<string, number[]> }> {
  const began = process.hrtime.bigint();
  const root = repoRoot();
  const cli = join(root, 'dist', 'src', 'cli', 'main.js');
  const relayScript = join(root, 'dist', 'test', 'bench', 'relay.js');
  for (const script of [cli, relayScript]) if (!existsSync(script)) throw new Error(`procmesh: ${script} is missing; run npm run build first`);

  const dir = mkdtempSync(join(tmpdir(), 'nsm-bench-procmesh-'));
  const procs: Proc[] = [];
  const killAll = (): void => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  // A bench process that exits or is stopped by a signal takes its children with it.
  const onSignal = (signal: NodeJS.Signals): void => {
    killAll();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.on('exit', killAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // Insecure: this section compares our hops with plaintext raw relays; what security costs on top is the
  // `security` section's figure (mTLS vs insecure through the same mesh).
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, NSM_LOG_LEVEL: 'warn', NSM_INSECURE: 'true' };
  delete baseEnv['NODE_OPTIONS'];
  const start = (name: string, args: readonly string[], env: Record<string, string> = {}): Proc => {
    const child = spawn(process.execPath, [STDIN_WATCH, ...args], { env: { ...baseEnv, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr.push(line);
      process.stderr.write(`[${name}] ${line}\n`);
    });
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    const proc: Proc = { name, child, stderr, exited };
    procs.push(proc);
    return proc;
  };
  const role = (name: string, command: string, env: Record<string, string>): Promise<string> =>
    readyURL(start(name, [cli, command], { NSM_NAME: name, ...env }));
  const relay = (name: string, listenOn: string, next?: string): Promise<string> =>
    readyURL(start(name, [relayScript, listenOn, ...(next === undefined ? [] : [next])]));
  const sock = (name: string): string => `unix://${join(dir, `${name}.sock`)}`;
  /** A relay chain with these transports, entry first; started from the echo back. */
  const relayChain = async (label: string, hops: readonly ('tcp' | 'unix')[]): Promise<string> => {
    let next: string | undefined;
    for (let i = hops.length - 1; i >= 0; i--) {
      const name = `relay-${label}-${i}`;
      next = await relay(name, hops[i] === 'tcp' ? 'tcp://127.0.0.1:0' : sock(name), next);
    }
    return next ?? '';
  };

  const clientCtx = ChainContext.background();
  const rawClients: Client[] = [];
  let nsc: ReturnType<typeof createClient> | undefined;
  const failures: string[] = [];
  const starting: Promise<unknown>[] = [];
  try {
    // The mesh, in the order its roles need each other (a forwarder or endpoint waits for its manager
    // anyway, but only one attempt a second); the two relay chains start meanwhile.
    const mesh = (async () => {
      const registry = await role('registry', 'registry', { NSM_LISTEN_ON: 'tcp://127.0.0.1:0' });
      const managers = await Promise.all(
        [0, 1].map((i) =>
          role(`nsmgr-${i}`, 'nsmgr', { NODE_NAME: `node-${i}`, NSM_LISTEN_ON: 'tcp://127.0.0.1:0', NSM_REGISTRY_URL: registry, NSM_START_TIMEOUT: '30s' }),
        ),
      );
      const node = (i: number): Record<string, string> => ({ NODE_NAME: `node-${i}`, NSM_CONNECT_TO: managers[i] ?? '', NSM_START_TIMEOUT: '30s' });
      await Promise.all([
        ...[0, 1].map((i) => role(`forwarder-${i}`, 'forwarder', { ...node(i), NSM_LISTEN_ON: sock(`forwarder-${i}`) })),
        role('nse-local', 'nse', { ...node(0), NSM_LISTEN_ON: sock('nse-local'), NSM_SERVICE_NAMES: 'local-svc', NSM_CIDR_PREFIX: '10.1.0.0/16' }),
        role('nse-remote', 'nse', { ...node(1), NSM_LISTEN_ON: sock('nse-remote'), NSM_SERVICE_NAMES: 'remote-svc', NSM_CIDR_PREFIX: '10.2.0.0/16' }),
      ]);
      return managers[0] ?? '';
    })();
    // client → nsmgr (tcp) → forwarder (unix) → nse (unix)
    const local = relayChain('local', ['tcp', 'unix', 'unix']);
    // client → nsmgr-0 (tcp) → forwarder-0 (unix) → nsmgr-1 (tcp) → forwarder-1 (unix) → nse (unix)
    const remote = relayChain('remote', ['tcp', 'unix', 'tcp', 'unix', 'unix']);
    starting.push(mesh, local, remote);
    const [manager, localRaw, remoteRaw] = await Promise.all([mesh, local, remote]);
    const startedSec = Number(process.hrtime.bigint() - began) / 1e9;

    const client = createClient({ name: 'bench-nsc', connectTo: manager, ctx: clientCtx });
    nsc = client;
    const guarded =
      (what: string, op: (i: number) => Promise<void>) =>
      async (i: number): Promise<void> => {
        try {
          await op(i);
        } catch (error) {
          failures.push(`${what}: ${errorMessage(error).split('\n')[0] ?? ''}`);
          if (failures.length >= MAX_FAILURES) throw new Error(`procmesh: ${failures.length} operations failed; the last: ${failures.at(-1) ?? ''}`, { cause: error });
        }
      };
    const nsmOp = (service: string) =>
      guarded(`nsm-sdk ${service}`, async () => {
        const conn = await client.request(
          { connection: { networkService: service }, mechanismPreferences: [kernelMechanismPreference('nsm-1')] },
          { timeoutMs: 10_000 },
        );
        await client.close(conn, { timeoutMs: 10_000 });
      });
    const rawOp = (entry: string, service: string) => {
      const raw = new Client(grpcTarget(parseAddress(entry)), credentials.createInsecure());
      rawClients.push(raw);
      const message = (i: number): NetworkServiceRequest =>
        NetworkServiceRequest.fromPartial({
          connection: { id: `raw-${i}`, networkService: service, path: { pathSegments: [{ name: 'nsc', id: `raw-${i}` }] } },
          mechanismPreferences: [kernelMechanismPreference('nsm-1')],
        });
      return guarded(`raw ${service}`, async (i) => {
        await unaryCall(raw, NetworkServiceService.request, message(i), clientCtx);
        await unaryCall(raw, NetworkServiceService.close, Connection.fromPartial({ id: `raw-${i}` }), clientCtx);
      });
    };
    const scenarios = [
      { key: 'local', label: 'local (3 hops)', raw: rawOp(localRaw, 'local-svc'), nsm: nsmOp('local-svc') },
      { key: 'remote', label: 'remote (5 hops)', raw: rawOp(remoteRaw, 'remote-svc'), nsm: nsmOp('remote-svc') },
    ];

    const warmStart = process.hrtime.bigint();
    for (const s of scenarios) {
      for (let i = 0; i < WARMUP; i++) {
        await s.raw(i);
        await s.nsm(i);
      }
    }
    const warmSec = Number(process.hrtime.bigint() - warmStart) / 1e9;

    const samples: Record<string, number[]> = {};
    const latencyRows: string[] = [];
    const throughputRows: string[] = [];
    const measureStart = process.hrtime.bigint();
    const loadBefore = loadavg()[0] ?? 0;
    for (const s of scenarios) {
      // In alternating rounds, so that both see the same background (this machine's other work).
      const rawNs: bigint[] = [];
      const nsmNs: bigint[] = [];
      for (let round = 0; round < LATENCY_OPS / LATENCY_ROUND; round++) {
        rawNs.push(...(await latency(LATENCY_ROUND, () => s.raw(0))));
        nsmNs.push(...(await latency(LATENCY_ROUND, () => s.nsm(0))));
      }
      samples[`${s.key} raw`] = rawNs.map((ns) => Number(ns) / 1000);
      samples[`${s.key} nsm-sdk`] = nsmNs.map((ns) => Number(ns) / 1000);
      const rawLat = summarize(rawNs);
      const nsmLat = summarize(nsmNs);
      for (const [name, pick] of [
        ['p50', (l: LatencySummary) => l.p50Us],
        ['p99', (l: LatencySummary) => l.p99Us],
      ] as const) {
        const ratio = pick(nsmLat) / pick(rawLat);
        latencyRows.push(`| ${s.label}, ${name} | ${fmt(pick(rawLat))} | ${fmt(pick(nsmLat))} | ${fmt(ratio, 2)} | ≤ ${LATENCY_GOAL}: ${ratio <= LATENCY_GOAL ? 'met' : 'not met'} |`);
      }
      // In rounds too: each round's operations over the rounds' total time.
      let rawSec = 0;
      let nsmSec = 0;
      const perRound = THROUGHPUT_OPS / THROUGHPUT_ROUNDS;
      for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
        rawSec += perRound / (await throughput(perRound, CONCURRENCY, s.raw));
        nsmSec += perRound / (await throughput(perRound, CONCURRENCY, s.nsm));
      }
      const rawOps = THROUGHPUT_OPS / rawSec;
      const nsmOps = THROUGHPUT_OPS / nsmSec;
      const ratio = nsmOps / rawOps;
      throughputRows.push(`| ${s.label} | ${fmt(rawOps, 0)} | ${fmt(nsmOps, 0)} | ${fmt(ratio, 2)} | ≥ ${THROUGHPUT_GOAL}: ${ratio >= THROUGHPUT_GOAL ? 'met' : 'not met'} |`);
    }
    const measureSec = Number(process.hrtime.bigint() - measureStart) / 1e9;

    out('## Requests through the mesh, one process per role');
    out();
    out('One operation is a Request (a kernel mechanism preference) followed by a Close, from an nsm-sdk client');
    out('in the bench process to node 0\'s manager. Every role is a process of its own, started with the built');
    out('`nsm` command: a registry, and per node a manager (loopback TCP) and a forwarder (unix socket), with');
    out('NODE_NAME node-0 or node-1. Local: client → nsmgr-0 → forwarder-0 → endpoint on node 0; remote: client');
    out('→ nsmgr-0 → forwarder-0 → nsmgr-1 → forwarder-1 → endpoint on node 1. "raw" is a chain of as many');
    out('grpc-js relay processes with the same transport at each hop, each passing the message on over one');
    out('shared channel, the last one echoing, with no chain at all.');
    out();
    out(`Latency, sequential, ${LATENCY_OPS} operations (in rounds of ${LATENCY_ROUND}, raw and nsm-sdk in turn; µs):`);
    out();
    out('| | raw | nsm-sdk | ratio | goal |');
    out('| --- | --- | --- | --- | --- |');
    for (const line of latencyRows) out(line);
    out();
    out(`Throughput, ${CONCURRENCY} concurrent, ${THROUGHPUT_OPS} operations (in ${THROUGHPUT_ROUNDS} rounds, raw and nsm-sdk in turn; ops/s):`);
    out();
    out('| | raw | nsm-sdk | ratio | goal |');
    out('| --- | --- | --- | --- | --- |');
    for (const line of throughputRows) out(line);
    out();
    const noisy = procs.filter((p) => p.stderr.length > 0).map((p) => `${p.name} ${p.stderr.length}`);
    out(
      `${procs.length} processes, ready after ${fmt(startedSec)} s; warm-up (${WARMUP} operations of each kind) ${fmt(warmSec)} s, ` +
        `measurements ${fmt(measureSec)} s (1-minute load average ${fmt(loadBefore, 2)} before them, ${fmt(loadavg()[0] ?? 0, 2)} after, on ${cpus().length} cores). Failed operations: ${failures.length}. ` +
        `Lines the roles wrote to stderr (log level warn): ${noisy.length === 0 ? 'none' : noisy.join(', ')}.`,
    );
    out();
    return { samples };
  } finally {
    // Whatever is still starting (after another part failed) is stopped with the rest.
    await Promise.allSettled(starting);
    await nsc?.dispose({ timeoutMs: 1000 }).catch(() => undefined);
    for (const raw of rawClients) raw.close();
    // Endpoints and relays first (the endpoints unregister through their managers), then the forwarders,
    // the managers and the registry.
    const stage = (prefix: RegExp): Promise<unknown> => Promise.all(procs.filter((p) => prefix.test(p.name)).map(stop));
    await stage(/^(nse-|relay-)/);
    await stage(/^forwarder-/);
    await stage(/^nsmgr-/);
    await Promise.all(procs.map(stop));
    process.removeListener('exit', killAll);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    rmSync(dir, { recursive: true, force: true });
    if (failures.length > 0) console.error(`procmesh: ${failures.length} failed operation(s), first: ${failures[0] ?? ''}`);
  }
}

/** Resolves with the URL of the process's ready line (`... ready on <url>`); rejects if it exits or takes too long. */
function readyURL(proc: Proc): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.child.stdout! });
    const timer = setTimeout(() => {
      lines.removeListener('line', onLine);
      reject(new Error(`${proc.name} was not ready within ${READY_MS} ms${tail(proc)}`));
    }, READY_MS);
    const onLine = (line: string): void => {
      const match = /ready on (\S+?),?(\s|$)/.exec(line);
      if (match === null) return;
      clearTimeout(timer);
      lines.removeListener('line', onLine);
      resolve(match[1] ?? '');
    };
    lines.on('line', onLine);
    void proc.exited.then((code) => {
      clearTimeout(timer);
      // Let the last stderr lines arrive before naming them.
      setTimeout(() => reject(new Error(`${proc.name} exited (${String(code)}) before it was ready${tail(proc)}`)), 50);
    });
  });
}

function tail(proc: Proc): string {
  return proc.stderr.length === 0 ? '' : `: ${proc.stderr.slice(-3).join(' | ')}`;
}

/** SIGTERM, then SIGKILL if it has not exited within {@link STOP_MS}. */
async function stop(proc: Proc): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([proc.exited.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_MS)))]);
  clearTimeout(timer);
  if (late) {
    child.kill('SIGKILL');
    await proc.exited;
  }
}
