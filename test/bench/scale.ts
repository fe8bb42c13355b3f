/**
 * "10,000 connections held by one manager, forwarder and endpoint": heap per connection and sockets per
 * role, and the CPU the roles spend refreshing them.
 *
 * The registry, the manager, the forwarder and the endpoint run as four child processes
 * (`dist/test/bench/scale-role.js`, one role each, `--expose-gc`), on unix sockets in a temporary
 * directory, as one node of a domain: the forwarder and the endpoint register through the manager, as in
 * the sandbox. A client in this process (its own heap is not measured) makes connections through the
 * manager in steps, 64 at a time, keeps them, and after each step every role is measured: heap used after
 * two full collections, per connection against the heap at 0 connections (after one warm-up connection
 * came and went), and the sockets it has open. Then, with all connections held, the roles' CPU
 * (user + system) over a window. Every token lives `lifetimeMs`, 10 minutes by default, and the client
 * refreshes each connection a fifth of its shortest token's lifetime after each Request (it is at index 0
 * of a 4-segment path, see `refresh`). The window waits for the first refreshes to be due, counts the
 * refreshes the client sees in it, and projects the CPU to the steady rate of the held connections at a
 * 10-minute lifetime: idle + (measured − idle) × steady rate / rate seen. (A short lifetime, 60 s, makes
 * refreshes frequent but cannot be kept up with at 10,000 connections on two cores: the refreshes queue,
 * heals start, the build slows to a crawl; the projection from the refreshes actually seen does not need
 * it.) The connections are closed at the end, and every role measured once more.
 *
 * Prints a markdown section; asserts nothing. Needs `npm run build` first (the roles run from dist).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConnectionEventType, type Connection } from '../../src/api/gen/connection.js';
import { createClient } from '../../src/networkservice/chains/client/index.js';
import { refreshDelay } from '../../src/networkservice/common/refresh/index.js';
import { kernelMechanismClient } from '../../src/networkservice/mechanisms/kernel/index.js';
import { errorMessage } from '../../src/tools/grpc/status.js';
import { testTokenGenerator } from '../../src/tools/sandbox/helpers.js';
import type { RoleMeasurement, ScaleRole, ScaleRoleConfig } from './scale-role.js';
import { fmt } from './stats.js';

/** Options of {@link scaleFigures}; the defaults make the figure. */
export interface ScaleOptions {
  /** Connection counts to measure at, after 0; default 1,000, 3,000, 10,000. */
  readonly steps?: readonly number[];
  /** Lifetime of every token (ms); default 10 minutes. */
  readonly lifetimeMs?: number;
  /** The CPU window (ms); default 30 s. */
  readonly windowMs?: number;
  /** Requests in flight while connecting (and closing); default 64. */
  readonly concurrency?: number;
  /** Time allowed for making all connections (ms); default 150 s. Where it runs out, the count reached is reported. */
  readonly connectBudgetMs?: number;
}

/** One measured step. */
export interface ScalePoint {
  /** Connections held. */
  readonly connections: number;
  /** (heap used − heap used at 0 connections) / connections, in KB (1024 bytes), by role. */
  readonly heapPerConnKb: Record<string, number>;
  /** Sockets open, by role. */
  readonly sockets: Record<string, number>;
}

/** What {@link scaleFigures} returns. */
export interface ScaleFigures {
  readonly points: ScalePoint[];
  /**
   * CPU, fractions of one core, by role: idle (no connection), measured over the window at `lifetimeMs`,
   * CPU ms per refresh seen in the window, and projected to the held connections at a 10-minute lifetime.
   */
  readonly cpu: Record<string, { readonly idle: number; readonly measured: number; readonly perRefreshMs: number; readonly projected10Min: number }>;
  /** The connections held during the CPU window. */
  readonly cpuConnections: number;
  readonly lifetimeMs: number;
  /** Refreshes the client saw per second during the window. */
  readonly refreshesPerSecond: number;
}

const ROLES: readonly ScaleRole[] = ['registry', 'nsmgr', 'forwarder', 'nse'];
const KB = 1024;
const TEN_MINUTES_MS = 10 * 60 * 1000;

/** The role script, from the build: next to this file when this runs from dist, else in dist/. */
function roleScript(): string {
  const here = fileURLToPath(import.meta.url);
  const script = here.endsWith('.js') ? join(dirname(here), 'scale-role.js') : join(dirname(here), '..', '..', 'dist', 'test', 'bench', 'scale-role.js');
  if (!existsSync(script)) throw new Error(`${script} not found: run \`npm run build\` first`);
  return script;
}

/** One role's process and a request/reply over its IPC channel. */
class RoleProcess {
  url = '';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (reply: Record<string, unknown>) => void; reject: (error: Error) => void }>();
  private exited: string | undefined;

  constructor(
    readonly role: ScaleRole,
    readonly child: ChildProcess,
  ) {
    child.on('message', (raw: unknown) => {
      const reply = raw as Record<string, unknown>;
      const id = typeof reply['id'] === 'number' ? reply['id'] : undefined;
      const waiter = id === undefined ? undefined : this.pending.get(id);
      if (id === undefined || waiter === undefined) return;
      this.pending.delete(id);
      waiter.resolve(reply);
    });
    child.on('exit', (code, signal) => {
      this.exited = `${role} exited (${signal ?? `code ${String(code)}`})`;
      for (const waiter of this.pending.values()) waiter.reject(new Error(this.exited));
      this.pending.clear();
    });
  }

  static start(role: ScaleRole, script: string, config: ScaleRoleConfig): Promise<RoleProcess> {
    const child = fork(script, [role, JSON.stringify(config)], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const proc = new RoleProcess(role, child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`${role} not ready within 30 s`)), 30_000);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        child.kill('SIGKILL');
        reject(error);
      };
      const onMessage = (raw: unknown): void => {
        const message = raw as { type?: string; url?: string; error?: string };
        if (message.type === 'failed') fail(new Error(message.error ?? `${role} failed`));
        if (message.type !== 'ready') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        proc.url = message.url ?? '';
        resolve(proc);
      };
      const onExit = (code: number | null): void => fail(new Error(`${role} exited while starting (code ${String(code)})`));
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  request(message: Record<string, unknown>, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    if (this.exited !== undefined) return Promise.reject(new Error(this.exited));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.role}: no answer to ${String(message['type'])} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ ...message, id });
    });
  }

  async measure(gc = true): Promise<RoleMeasurement> {
    return (await this.request({ type: 'measure', gc })) as unknown as RoleMeasurement;
  }

  /** Asks it to stop; kills it if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited !== undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'stop', id: 0 }, (error) => {
      if (error !== null) this.child.kill('SIGKILL');
    });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

type Measurements = Record<ScaleRole, RoleMeasurement>;

async function measureAll(roles: Record<ScaleRole, RoleProcess>, gc = true): Promise<{ at: bigint; m: Measurements }> {
  const results = await Promise.all(ROLES.map((role) => roles[role].measure(gc)));
  const at = process.hrtime.bigint();
  return { at, m: Object.fromEntries(ROLES.map((role, i) => [role, results[i]])) as Measurements };
}

/** Runs `op` `count` times, at most `concurrency` at once, until `deadline` (ms since the epoch); returns the failures. */
async function pool(count: number, concurrency: number, deadline: number, op: (i: number) => Promise<void>): Promise<{ done: number; failures: number; lastError: string | undefined }> {
  let next = 0;
  let done = 0;
  let failures = 0;
  let lastError: string | undefined;
  const worker = async (): Promise<void> => {
    while (next < count && Date.now() < deadline && failures < 100) {
      const i = next++;
      try {
        await op(i);
        done++;
      } catch (error) {
        failures++;
        lastError = errorMessage(error).split('\n')[0];
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { done, failures, lastError };
}

const pct = (fraction: number): string => `${fmt(fraction * 100, 2)} %`;
const mb = (bytes: number): string => fmt(bytes / (KB * KB), 1);

/** Makes the figure; prints it with `out` and returns the points (for a plot). */
export async function scaleFigures(out: (line?: string) => void, options: ScaleOptions = {}): Promise<ScaleFigures> {
  const steps = options.steps ?? [1000, 3000, 10_000];
  const lifetimeMs = options.lifetimeMs ?? TEN_MINUTES_MS;
  const windowMs = options.windowMs ?? 30_000;
  const concurrency = options.concurrency ?? 64;
  const connectBudgetMs = options.connectBudgetMs ?? 150_000;
  const started = Date.now();
  const loadBefore = loadavg()[0] ?? 0;
  const script = roleScript();
  const dir = mkdtempSync(join(tmpdir(), 'nsm-scale-'));
  const children: RoleProcess[] = [];
  const killAll = (): void => {
    for (const child of children) if (child.alive) child.child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  const client = createClient({
    name: 'nsc-scale',
    tokenGenerator: testTokenGenerator('nsc-scale', lifetimeMs),
    // Where the manager will listen (scale-role.ts: <dir>/<role>.sock); nothing is dialled before it does.
    connectTo: `unix://${join(dir, 'nsmgr.sock')}`,
    additionalFunctionality: [kernelMechanismClient()],
  });
  const conns: Connection[] = [];
  let refreshEvents = 0;
  const subscription = client.events().subscribe((event) => {
    if (event.type === ConnectionEventType.UPDATE) refreshEvents += Object.keys(event.connections).length;
  });
  try {
    const config: ScaleRoleConfig = { dir, lifetimeMs };
    const registry = await RoleProcess.start('registry', script, config);
    children.push(registry);
    const nsmgr = await RoleProcess.start('nsmgr', script, { ...config, registryURL: registry.url });
    children.push(nsmgr);
    const [forwarder, nse] = await Promise.all([
      RoleProcess.start('forwarder', script, { ...config, nsmgrURL: nsmgr.url }),
      RoleProcess.start('nse', script, { ...config, nsmgrURL: nsmgr.url }),
    ]);
    children.push(forwarder, nse);
    const roles: Record<ScaleRole, RoleProcess> = { registry, nsmgr, forwarder, nse };
    const request = async (): Promise<Connection> => client.request({ connection: { networkService: 'icmp-responder' } }, { timeoutMs: 30_000 });

    // Warm-up: one connection there and back, so that channels, streams and caches are in the baseline.
    const warm = await request();
    // How long after a Request the client refreshes (refresh's own formula, on the path it really has).
    const periodMs = refreshDelay(warm, Date.now()) ?? 0.2 * lifetimeMs;
    const segments = warm.path?.pathSegments.map((s) => s.name) ?? [];
    await client.close(warm);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const base = await measureAll(roles);
    // Idle CPU: from a measure without collection (the collections of the one above are not idle work).
    const idleStart = await measureAll(roles, false);
    const idleWindowMs = 5000;
    await new Promise((resolve) => setTimeout(resolve, idleWindowMs));
    const idleEnd = await measureAll(roles, false);
    const cpuOf = (a: RoleMeasurement, b: RoleMeasurement, wallNs: bigint): number =>
      (b.cpuUser - a.cpuUser + b.cpuSystem - a.cpuSystem) / (Number(wallNs) / 1000);
    const idleCpu = Object.fromEntries(ROLES.map((role) => [role, cpuOf(idleStart.m[role], idleEnd.m[role], idleEnd.at - idleStart.at)])) as Record<ScaleRole, number>;

    out('## 10,000 connections: memory, sockets, refresh CPU');
    out();
    out(`Written on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}).`);
    out(`One node: registry, manager, forwarder (no-op data plane) and endpoint (point-to-point IPAM), each its own`);
    out(`process on a unix socket; a client in the bench process (heal on; not measured) connects through the manager`);
    out(`(path: ${segments.join(' → ')}), ${concurrency} requests at a time, and keeps its connections. Heap: used`);
    out('heap after two full collections, per connection against the heap at 0 connections (after a warm-up');
    out('connection came and went). Sockets: open socket descriptors of the process (IPC channel and listener included).');
    out('Goals: heap ≤ 10 KB per connection per role; sockets O(peers), not O(connections).');
    out();

    const points: ScalePoint[] = [];
    const table = (held: number, m: Measurements): void => {
      out('| role | connections held | heap MB | heap / connection KB | sockets | rss MB |');
      out('| --- | --- | --- | --- | --- | --- |');
      for (const role of ROLES) {
        const r = m[role];
        const perConn = held > 0 ? fmt((r.heapUsed - base.m[role].heapUsed) / held / KB, 2) : '—';
        out(`| ${role} | ${r.connections === undefined ? '—' : r.connections} | ${mb(r.heapUsed)} | ${perConn} | ${r.sockets} | ${mb(r.rss)} |`);
      }
      out();
    };
    out('### 0 connections');
    out();
    table(0, base.m);

    const buildStart = Date.now();
    const connectDeadline = buildStart + connectBudgetMs;
    let reachedShort = false;
    let last = base;
    for (const target of steps) {
      const from = conns.length;
      const t0 = Date.now();
      const result = await pool(target - from, concurrency, connectDeadline, async () => {
        conns.push(await request());
      });
      const seconds = (Date.now() - t0) / 1000;
      last = await measureAll(roles);
      const held = conns.length;
      out(`### ${held.toLocaleString('en-US')} connections`);
      out();
      out(
        `${held - from} new connections in ${fmt(seconds, 1)} s (${fmt((held - from) / seconds, 0)}/s)` +
          (result.failures > 0 ? `; ${result.failures} failed (last: ${result.lastError ?? '?'})` : '') +
          '.',
      );
      if (held < target) {
        reachedShort = true;
        out();
        out(
          `**Reached ${held.toLocaleString('en-US')} of ${target.toLocaleString('en-US')}**: ` +
            (Date.now() >= connectDeadline ? `the ${fmt(connectBudgetMs / 1000, 0)} s connect budget ran out.` : 'too many requests failed.'),
        );
      }
      out();
      table(held, last.m);
      points.push({
        connections: held,
        heapPerConnKb: Object.fromEntries(ROLES.map((role) => [role, (last.m[role].heapUsed - base.m[role].heapUsed) / Math.max(1, held) / KB])),
        sockets: Object.fromEntries(ROLES.map((role) => [role, last.m[role].sockets])),
      });
      if (reachedShort) break;
    }

    // Refresh CPU with everything held. The first refreshes come a refresh period after the first
    // connection was made: with a long lifetime and a quick build there is nothing to see before, so wait.
    const held = conns.length;
    const waitMs = Math.max(0, buildStart + periodMs + 2000 - Date.now());
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    const events0 = refreshEvents;
    const w0 = await measureAll(roles, false);
    const c0 = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const w1 = await measureAll(roles, false);
    const c1 = process.cpuUsage(c0);
    const wallNs = w1.at - w0.at;
    const windowS = Number(wallNs) / 1e9;
    const refreshed = refreshEvents - events0;
    const rate = refreshed / windowS;
    // At a 10-minute lifetime the period is as much longer as the lifetime: the steady rate for `held`.
    const period10S = (periodMs * (TEN_MINUTES_MS / lifetimeMs)) / 1000;
    const rate10 = held / period10S;
    // The idle part is not scaled; a role that was busier idle than now (start-up work) counts as idle at its window's rate.
    const perRefreshMs = (measured: number, idle: number): number => (rate > 0 ? (Math.max(0, measured - idle) * 1000) / rate : Number.NaN);
    const projected = (measured: number, idle: number): number =>
      rate > 0 ? Math.min(idle, measured) + (Math.max(0, measured - idle) * rate10) / rate : Number.NaN;
    const cpu: ScaleFigures['cpu'] = {};
    out(`### Refresh CPU, ${held.toLocaleString('en-US')} connections held`);
    out();
    out(
      `Every token lives ${fmt(lifetimeMs / 1000, 0)} s and the client refreshes a connection ${fmt(periodMs / 1000, 0)} s after each ` +
        `Request (a fifth of its shortest token's remaining lifetime: it is at index 0 of a ${segments.length}-segment path). ` +
        (waitMs > 0 ? `The window began ${fmt(waitMs / 1000, 0)} s after the last step, when the first connections were due. ` : '') +
        `Over the ${fmt(windowS, 1)} s window the client saw ${refreshed.toLocaleString('en-US')} refreshes (${fmt(rate, 0)}/s; ` +
        `all ${held.toLocaleString('en-US')} connections refreshing once a period would be ${fmt(held / (periodMs / 1000), 0)}/s). ` +
        'CPU is user + system time of each process as a fraction of one core; idle is the same processes with no ' +
        `connection, over ${fmt(idleWindowMs / 1000, 0)} s. The projection is idle + (measured − idle) × ${fmt(rate10, 0)} / ${fmt(rate, 0)}: ` +
        `the CPU of the refreshes seen, scaled to the steady rate of ${held.toLocaleString('en-US')} connections at a 10-minute lifetime ` +
        `(${held.toLocaleString('en-US')} refreshes every ${fmt(period10S, 0)} s); when refreshes keep up with a shorter lifetime ` +
        `(rate = connections / period) it is the measured CPU × lifetime / 600 s. Goal: ≤ 5 % of one core at a 10-minute lifetime.`,
    );
    out();
    out(`| role | idle CPU | CPU in the window (measured) | CPU per refresh (ms) | CPU, ${held.toLocaleString('en-US')} connections, 10-min lifetime (projected) | logged warnings / errors |`);
    out('| --- | --- | --- | --- | --- | --- |');
    for (const role of ROLES) {
      const measured = cpuOf(w0.m[role], w1.m[role], wallNs);
      const idle = idleCpu[role];
      cpu[role] = { idle, measured, perRefreshMs: perRefreshMs(measured, idle), projected10Min: projected(measured, idle) };
      out(
        `| ${role} | ${pct(idle)} | ${pct(measured)} | ${fmt(perRefreshMs(measured, idle), 2)} | ${pct(projected(measured, idle))} | ` +
          `${w1.m[role].warnings} / ${w1.m[role].errors} |`,
      );
    }
    const clientCpu = (c1.user + c1.system) / (Number(wallNs) / 1000);
    out(`| (client, bench process) | | ${pct(clientCpu)} | ${fmt(perRefreshMs(clientCpu, 0), 2)} | ${pct(projected(clientCpu, 0))} | |`);
    out();
    const lastWarnings = ROLES.filter((role) => w1.m[role].lastWarning !== undefined).map((role) => `- ${role}: ${w1.m[role].lastWarning ?? ''}`);
    if (lastWarnings.length > 0) {
      out('Last warning logged by each role that logged any:');
      out();
      for (const line of lastWarnings) out(line);
      out();
    }

    // Close everything (timed, for the record).
    const t0 = Date.now();
    const closing = conns.splice(0);
    const closed = await pool(closing.length, concurrency, Number.POSITIVE_INFINITY, async (i) => {
      const conn = closing[i];
      if (conn !== undefined) await client.close(conn, { timeoutMs: 30_000 });
    });
    const after = await measureAll(roles);
    const residual = (r: ScaleRole): string => fmt((after.m[r].heapUsed - base.m[r].heapUsed) / Math.max(1, closing.length) / KB, 2);
    out(
      `Closing the ${closing.length.toLocaleString('en-US')} connections took ${fmt((Date.now() - t0) / 1000, 1)} s` +
        (closed.failures > 0 ? ` (${closed.failures} failed, last: ${closed.lastError ?? '?'})` : '') +
        `. Afterwards the roles hold ${ROLES.filter((r) => after.m[r].connections !== undefined)
          .map((r) => `${r} ${String(after.m[r].connections)}`)
          .join(', ')} connections; heap above the 0-connection baseline, per closed connection: ` +
        `${ROLES.map((r) => `${r} ${residual(r)} KB`).join(', ')}; sockets ${ROLES.map((r) => `${r} ${after.m[r].sockets}`).join(', ')}.`,
    );
    out();
    // Other work on the machine takes CPU from the roles and slows the build: the 1-minute load says how much there was.
    out(`The whole figure took ${fmt((Date.now() - started) / 1000, 0)} s (1-minute load average ${fmt(loadBefore, 2)} before, ${fmt(loadavg()[0] ?? 0, 2)} after).`);
    out();
    return { points, cpu, cpuConnections: held, lifetimeMs, refreshesPerSecond: rate };
  } finally {
    subscription.unsubscribe();
    await client.dispose({ timeoutMs: 1000 }).catch(() => undefined);
    for (const child of [...children].reverse()) await child.stop().catch(() => undefined);
    killAll();
    process.off('exit', killAll);
    rmSync(dir, { recursive: true, force: true });
  }
}
