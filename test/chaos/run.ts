/**
 * The chaos driver: a domain of real `nsm` processes (one registry; per node a manager, one or two
 * forwarders; endpoints spread over the nodes), in-process clients spread over the nodes running
 * request / refresh / hold / close cycles, and a seeded schedule that SIGKILLs roles at random intervals
 * and brings each back, as itself or as a replacement. At the end it checks that the system converged
 * (see `checks.ts`) and returns the figures. Everything is bounded: the cycles stop at the time limit,
 * every end check has its own bound, and the run's processes and directory are gone when it returns.
 * @module
 */
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage } from '../../src/tools/grpc/status.js';
import { ChaosClient, type Heal } from './clients.js';
import { connectionsUp, monitorsEmpty, registryLive, staysUp, stopClean, type Check } from './checks.js';
import { Domain, knownVariables, nsmCommand, type RoleKind, type RoleProcess } from './domain.js';
import { distribution, pause, Prng, reasonOf, Tally, type Distribution } from './stats.js';
import { KILL_WEIGHTS, lifetimeEnv, Topology } from './topology.js';
import { ChaosTrust } from './trust.js';

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  /** Request/refresh/close cycles, over all clients. */
  readonly cycles: number;
  /** In-process clients, spread over the nodes. */
  readonly clients: number;
  /** Nodes (one manager each). */
  readonly nodes: number;
  /** Mean pause between one role's restart and the next kill (ms); each pause is 0.5 to 1.5 times it. */
  readonly killIntervalMs: number;
  /** Seed of every random choice (the kill schedule, the clients' hold times and refresh counts). */
  readonly seed: number;
  /** The whole run, end checks included, stops by this time (ms); a run cut short fails. */
  readonly durationLimitMs: number;
  /** Endpoints (default two per node). */
  readonly endpoints?: number;
  /** Stop killing after this many kills (default: kill until the cycles are done). */
  readonly maxKills?: number;
  /**
   * Begin with one kill of each kind of role in each mode (restart, replace), in a seeded order, before
   * picking at random: a short run then covers every case.
   */
  readonly coverAll?: boolean;
  /** How long a killed role stays dead (ms, range); default [300, 1500]. */
  readonly downtimeMs?: readonly [number, number];
  /** How long a cycle holds its connection (ms, range); default [100, 2000]. */
  readonly holdMs?: readonly [number, number];
  /** How long the held connections may take to be UP after the last restart (ms); default 15000. */
  readonly healWaitMs?: number;
  /** Token (and so registration) lifetime of the clients and, where the CLI has a setting, the roles (ms); default 10000. */
  readonly lifetimeMs?: number;
  /** The roles' `NSM_LOG_LEVEL`; default `info`. */
  readonly logLevel?: string;
  /** Keep the run's directory (role logs): always, only when a check failed (default), or never. */
  readonly keep?: 'always' | 'on-failure' | 'never';
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** One kill and what came back. */
export interface KillRecord {
  /** Seconds since the run began. */
  readonly at: number;
  readonly kind: RoleKind;
  readonly name: string;
  readonly mode: 'restart' | 'replace';
  /** The name it came back as. */
  readonly as: string;
  readonly downMs: number;
  /** Why it could not be brought back, if it could not. */
  readonly error?: string;
}

/** What a chaos run saw. */
export interface ChaosResult {
  readonly seed: number;
  /** Every check held and nothing cut the run short. */
  readonly passed: boolean;
  readonly durationMs: number;
  /** The run's directory, when it was kept. */
  readonly dir: string | undefined;
  /** The roles ran from `dist/` (else through tsx). */
  readonly built: boolean;
  /** The CLI settings used to shorten lifetimes (empty: the CLI has none yet). */
  readonly lifetimeSettings: readonly string[];
  readonly cycles: { readonly done: number; readonly ok: number; readonly failed: number; readonly reasons: ReturnType<Tally['entries']> };
  readonly kills: readonly KillRecord[];
  readonly heals: Distribution & { readonly unfinished: number; readonly abandoned: number; readonly causes: ReturnType<Tally['entries']> };
  readonly checks: readonly Check[];
  /** Why the run failed: the failed checks' names, or what cut it short. */
  readonly failures: readonly string[];
  /** The roles' log lines above debug level, grouped (see {@link Domain.logDigest}). */
  readonly logs: ReturnType<Domain['logDigest']>;
}

/** Runs one chaos run; never rejects (a run that breaks down is a failed result). */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const begin = Date.now();
  const now = (): number => Date.now() - begin;
  const log = options.log ?? ((): void => undefined);
  const lifetimeMs = options.lifetimeMs ?? 10_000;
  const { command, built } = nsmCommand();
  const kinds: readonly RoleKind[] = ['registry', 'nsmgr', 'forwarder', 'nse'];
  const known = new Map(await Promise.all(kinds.map(async (kind) => [kind, await knownVariables(command, kind)] as const)));
  const lifetimes = lifetimeEnv(lifetimeMs, known);
  // A dead role's registration lives until the token it was registered with runs out, or for the
  // registry's default minute when the roles' token lifetime cannot be set.
  const shortTokens = (['nsmgr', 'forwarder', 'nse'] as const).every((kind) => lifetimes.env[kind] !== undefined);
  const expiryBoundMs = (shortTokens ? lifetimeMs : 60_000) + 5000;
  // A hop that died with connections leaves them at the next hop until the tokens it minted expire.
  const orphanBoundMs = (shortTokens ? lifetimeMs : 60 * 60_000) + 5000;
  const healWaitMs = options.healWaitMs ?? 15_000;
  const dir = mkdtempSync(join(tmpdir(), 'nsm-chaos-'));
  const trust = await ChaosTrust.create(dir);
  const domain = new Domain({ dir, command, env: { NSM_LOG_LEVEL: options.logLevel ?? 'info', NSM_TRUST_DOMAIN_DIR: trust.dir }, kindEnv: lifetimes.env });
  const unguard = domain.guard(() => {
    process.stderr.write(`[chaos] interrupted: every role killed, ${dir} removed\n`);
    rmSync(dir, { recursive: true, force: true });
  });
  const root = new Prng(options.seed);
  const kills: KillRecord[] = [];
  const heals: Heal[] = [];
  const causes = new Tally();
  const reasons = new Tally();
  const checks: Check[] = [];
  const failures: string[] = [];
  let ok = 0;
  let lastRestart = 0;
  const clients: ChaosClient[] = [];
  log(`seed ${options.seed}; ${options.nodes} nodes, ${options.clients} clients, ${options.cycles} cycles; roles from ${built ? 'dist/' : 'src/ through tsx'}; dir ${dir}`);
  log(lifetimes.used.length > 0 ? `lifetimes: ${lifetimes.used.join(', ')}` : 'lifetimes: the CLI has no token lifetime setting; registrations expire after the default minute');
  try {
    const topology = new Topology(domain, dir, { nodes: options.nodes, endpoints: options.endpoints ?? options.nodes * 2 });
    await topology.start();
    log(`domain up at ${(now() / 1000).toFixed(1)}s: ${domain.live().map((r) => r.spec.name).join(', ')}`);
    for (let i = 0; i < options.clients; i++) {
      clients.push(
        new ChaosClient({
          index: i,
          connectTo: topology.manager((i % options.nodes) + 1),
          prng: root.fork(1000 + i),
          tokenLifetimeMs: lifetimeMs,
          security: await trust.security('nsc', `nsc-${i}`, lifetimeMs),
          callTimeoutMs: 10_000,
          holdMs: options.holdMs ?? [100, 2000],
          now,
          heals,
          onHealCause: (cause) => causes.add(cause),
        }),
      );
    }
    await Promise.all(clients.map((c) => c.hold(Date.now() + 30_000)));
    log(`${clients.length} long-lived connections up at ${(now() / 1000).toFixed(1)}s`);

    // The cycles must end early enough for the end checks to finish within the limit.
    const endBudgetMs = healWaitMs + Math.max(expiryBoundMs, lifetimeMs + 5000) + Math.min(orphanBoundMs, 60_000) + 45_000;
    const stopCycles = new AbortController();
    // Every client waits on it (its pauses and calls): more than Node's default of ten listeners.
    setMaxListeners(0, stopCycles.signal);
    const cyclesTimer = setTimeout(() => stopCycles.abort(), Math.max(10_000, options.durationLimitMs - endBudgetMs - now()));
    const stopChaos = new AbortController();
    const chaosPrng = root.fork(1);
    const plan = options.coverAll === true ? coverage(chaosPrng) : [];
    const chaos = (async () => {
      while (!stopChaos.signal.aborted && (options.maxKills === undefined || kills.length < options.maxKills)) {
        await pause(chaosPrng.int(options.killIntervalMs / 2, (options.killIntervalMs * 3) / 2), stopChaos.signal);
        if (stopChaos.signal.aborted) break;
        kills.push(await killOne(domain, topology, chaosPrng, options.downtimeMs ?? [300, 1500], now, plan.shift()));
        lastRestart = now();
        const k = kills.at(-1);
        if (k !== undefined) log(`${k.at.toFixed(1)}s kill ${k.name} (${k.kind}), ${k.mode} as ${k.as} after ${k.downMs} ms${k.error === undefined ? '' : `: FAILED ${k.error}`}`);
      }
    })();
    let done = 0;
    const progress = setInterval(() => log(`${(now() / 1000).toFixed(0)}s: ${done}/${options.cycles} cycles, ${reasons.total} failed, ${kills.length} kills, ${heals.length} heals`), 10_000);
    const quota = (i: number): number => Math.floor(options.cycles / options.clients) + (i < options.cycles % options.clients ? 1 : 0);
    await Promise.all(
      clients.map(async (client, i) => {
        for (let c = 0; c < quota(i) && !stopCycles.signal.aborted; c++) {
          const failed = await client.cycle(stopCycles.signal);
          done++;
          if (failed === undefined) ok++;
          else reasons.add(failed.reason, failed.message, now() / 1000);
        }
      }),
    );
    clearInterval(progress);
    clearTimeout(cyclesTimer);
    stopChaos.abort();
    await chaos;
    if (stopCycles.signal.aborted) failures.push(`time limit: only ${done} of ${options.cycles} cycles done`);
    log(`cycles done at ${(now() / 1000).toFixed(1)}s (${ok} ok); ${kills.length} kills; checking the end state`);
    if (kills.some((k) => k.error !== undefined)) failures.push('a killed role could not be brought back');

    checks.push(await connectionsUp(clients, healWaitMs));
    const settled = now();
    checks.push(await registryLive(domain, topology.registry, Math.max(5000, lastRestart + expiryBoundMs - now()), trust));
    checks.push(await staysUp(clients, heals, settled, lifetimeMs + 5000, now));
    const closeErrors = (await Promise.all(clients.map((c) => c.closeAll()))).flat();
    checks.push({ name: 'final closes succeed', ok: closeErrors.length === 0, detail: closeErrors.length === 0 ? ['all closed'] : closeErrors.map((e) => `  ${e}`) });
    // Without short tokens the bound would be an hour: a minute shows as much.
    checks.push(await monitorsEmpty(domain, Math.max(5000, Math.min(orphanBoundMs, 60_000, options.durationLimitMs - 45_000 - now())), trust));
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    checks.push(...(await stopClean(domain)));
  } catch (error) {
    failures.push(`run broke down: ${errorMessage(error)}`);
  } finally {
    await Promise.all(clients.map((c) => c.dispose().catch(() => undefined)));
    domain.killAllNow();
    await Promise.all(domain.all.map((p) => p.exited));
    await domain.closeLogs();
    await trust.close();
    unguard();
  }
  const logs = domain.logDigest((m) => reasonOf(m.replace(/\{.*$/, '')));
  failures.push(...checks.filter((c) => !c.ok).map((c) => c.name));
  const passed = failures.length === 0;
  const keep = options.keep ?? 'on-failure';
  const kept = keep === 'always' || (keep === 'on-failure' && !passed);
  // The logs are kept for a failure; the sockets never (a SIGKILLed role leaves its file).
  rmSync(kept ? join(dir, 'sock') : dir, { recursive: true, force: true });
  const finished = heals.filter((h) => h.durationMs !== undefined).map((h) => h.durationMs ?? 0);
  return {
    seed: options.seed,
    passed,
    durationMs: now(),
    dir: kept ? dir : undefined,
    built,
    lifetimeSettings: lifetimes.used,
    cycles: { done: ok + reasons.total, ok, failed: reasons.total, reasons: reasons.entries() },
    kills,
    heals: { ...distribution(finished), unfinished: heals.filter((h) => h.durationMs === undefined && !h.abandoned).length, abandoned: heals.filter((h) => h.abandoned).length, causes: causes.entries() },
    checks,
    failures,
    logs,
  };
}

type Mode = KillRecord['mode'];

/** Every kind of role in both modes, shuffled by `prng`. */
function coverage(prng: Prng): { kind: RoleKind; mode: Mode }[] {
  const all = (['registry', 'nsmgr', 'forwarder', 'nse'] as const).flatMap((kind) => (['restart', 'replace'] as const).map((mode) => ({ kind, mode })));
  for (let i = all.length - 1; i > 0; i--) {
    const j = prng.int(0, i);
    const [a, b] = [all[i], all[j]];
    if (a !== undefined && b !== undefined) [all[i], all[j]] = [b, a];
  }
  return all;
}

/**
 * Kills one live role picked by the schedule (of the `planned` kind and mode, if given), waits its
 * downtime, and starts it again or its replacement.
 */
async function killOne(
  domain: Domain,
  topology: Topology,
  prng: Prng,
  downtimeMs: readonly [number, number],
  now: () => number,
  planned?: { readonly kind: RoleKind; readonly mode: Mode },
): Promise<KillRecord> {
  const candidates = domain.live().filter((r) => planned === undefined || r.spec.kind === planned.kind);
  const victim = prng.weighted(candidates, (r) => KILL_WEIGHTS[r.spec.kind]);
  const random: Mode = prng.next() < 0.5 ? 'restart' : 'replace';
  const mode = planned?.mode ?? random;
  const downMs = prng.int(downtimeMs[0], downtimeMs[1]);
  const at = now() / 1000;
  await domain.kill(victim);
  await pause(downMs);
  const spec = mode === 'restart' ? victim.spec : topology.replacement(victim);
  let error = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const back: RoleProcess = await domain.start(spec);
      return { at, kind: victim.spec.kind, name: victim.spec.name, mode, as: back.spec.name, downMs };
    } catch (e) {
      error = errorMessage(e);
      await pause(1000);
    }
  }
  return { at, kind: victim.spec.kind, name: victim.spec.name, mode, as: spec.name, downMs, error };
}
