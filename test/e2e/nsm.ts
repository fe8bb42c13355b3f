/**
 * Running `nsm` sub-commands as real processes for the e2e tests: one node process per role (the tsx CLI
 * would put a wrapper in front, and a signal would miss the role), with stdout lines and stderr collected.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { securityFromEnv, type EnvSecurity } from '../../src/tools/security/env.js';

/** The repository root. */
export const root = fileURLToPath(new URL('../..', import.meta.url));
const main = join(root, 'src', 'cli', 'main.ts');

/** The command line that runs `nsm args...`. */
export const node = (args: readonly string[]): [string, string[]] => [process.execPath, ['--import', 'tsx', main, ...args]];

/** A running `nsm` process. */
export interface Proc {
  readonly child: ChildProcess;
  /** Its stdout, line by line. */
  readonly lines: string[];
  /** Its stderr so far. */
  stderr: string;
}

/**
 * This process's environment without its `NSM_*` variables: the test run's own (`NSM_REQUIRE_ETCD` in CI)
 * must not reach a role, which would warn that it does not read them. A SPIRE agent's socket of the
 * machine must not give the roles an identity either.
 */
export function environmentWithoutNsm(): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('NSM_') && key !== 'SPIFFE_ENDPOINT_SOCKET' && value !== undefined) base[key] = value;
  }
  return base;
}

/** The variables that give a role its identity; a test that sets any of them chooses the identity itself. */
const IDENTITY_VARIABLES = ['SPIFFE_ENDPOINT_SOCKET', 'NSM_SVID_DIR', 'NSM_TRUST_DOMAIN_DIR', 'NSM_INSECURE'];

let trustDomainDir: string | undefined;

/**
 * The e2e runs' development trust domain (`spiffe://e2e.nsm`), made once with `nsm trust-domain init` and
 * removed when the test process exits: every role started here mints its SVID from it, so the roles run
 * with mTLS and the default policies, as deployed ones do.
 */
export function e2eTrustDomainDir(): string {
  if (trustDomainDir !== undefined) return trustDomainDir;
  const dir = mkdtempSync(join(tmpdir(), 'nsm-e2e-ca-'));
  const made = spawnSync(...node(['trust-domain', 'init', dir, '--trust-domain', 'e2e.nsm']), { cwd: root, env: environmentWithoutNsm(), encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`nsm trust-domain init failed (${String(made.status)}): ${made.stderr}`);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  trustDomainDir = dir;
  return dir;
}

/** A workload of the e2e trust domain for the test process itself (an admin registry client, a raw caller). */
export async function e2eSecurity(role: string, name: string): Promise<EnvSecurity> {
  return securityFromEnv({ NSM_TRUST_DOMAIN_DIR: e2eTrustDomainDir() }, { role, name });
}

/**
 * The environment of `nsm <command>` before the test's own `env`: this process's without `NSM_*`, plus the
 * e2e trust domain for a role, unless `env` names an identity variable (set to '' for none).
 */
export function roleEnvironment(command: string, env: Record<string, string>): Record<string, string> {
  const role = ['registry', 'nsmgr', 'forwarder', 'nse', 'nsc'].includes(command);
  const identity = !role || IDENTITY_VARIABLES.some((key) => key in env) ? {} : { NSM_TRUST_DOMAIN_DIR: e2eTrustDomainDir() };
  return { ...environmentWithoutNsm(), ...identity };
}

/**
 * Starts `nsm <args>` with `env` on top of this process's environment minus its `NSM_*` variables (which
 * must not change what the role does), at log level `warn` unless `env` says otherwise, with the e2e
 * trust domain as its identity unless `env` names one (or sets an identity variable to '' for none).
 */
export function nsm(args: string | readonly string[], env: Record<string, string>): Proc {
  const base = roleEnvironment(typeof args === 'string' ? args : (args[0] ?? ''), env);
  const child = spawn(...node(typeof args === 'string' ? [args] : args), {
    cwd: root,
    env: { ...base, NSM_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc: Proc = { child, lines: [], stderr: '' };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => proc.lines.push(line));
  child.stderr?.on('data', (d: Buffer) => (proc.stderr += d.toString()));
  return proc;
}

/** The first stdout line from `from` on that matches `pattern`; throws if the process exits or time runs out. */
export async function waitForLine(proc: Proc, pattern: RegExp, timeoutMs = 30_000, from = 0): Promise<RegExpExecArray> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const line of proc.lines.slice(from)) {
      const match = pattern.exec(line);
      if (match !== null) return match;
    }
    if (proc.child.exitCode !== null) throw new Error(`process exited (${proc.child.exitCode}): ${proc.stderr}`);
    if (Date.now() > end) throw new Error(`no line matching ${String(pattern)} in ${timeoutMs} ms:\n${proc.lines.join('\n')}\n${proc.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until stderr matches `pattern`. */
export async function waitForStderr(proc: Proc, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(proc.stderr);
    if (match !== null) return match;
    if (proc.child.exitCode !== null) throw new Error(`process exited (${proc.child.exitCode}) before stderr matched ${String(pattern)}: ${proc.stderr}`);
    if (Date.now() > end) throw new Error(`stderr did not match ${String(pattern)} in ${timeoutMs} ms:\n${proc.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves with the exit code (null when a signal ended it). */
export function exited(proc: Proc): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) resolve(proc.child.exitCode);
    else proc.child.once('exit', (code) => resolve(code));
  });
}

/** Sends `signal` and measures how long the process takes to exit: `[exit code, milliseconds]`. */
export async function signalAndTime(proc: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<[number | null, number]> {
  const start = Date.now();
  proc.child.kill(signal);
  const code = await exited(proc);
  return [code, Date.now() - start];
}

/** The URL of a role's ready line (`... ready on <url>[,...]`). */
export const READY = /ready on (\S+?),?(\s|$)/;

/** Starts a role and waits for its ready line; returns it with its URL. */
export async function startRole(procs: Proc[], role: string, env: Record<string, string>): Promise<[Proc, string]> {
  const proc = nsm(role, env);
  procs.push(proc);
  const match = await waitForLine(proc, READY);
  return [proc, match[1] ?? ''];
}

/** Kills whatever is still running. */
export function killAll(procs: readonly Proc[]): void {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}
