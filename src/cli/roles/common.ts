/**
 * What every role shares: its environment ({@link RoleEnv}), what it returns ({@link Running}), its tokens,
 * its start-up line, and {@link retryUntil}, the loop that keeps a role started before its manager (or
 * registry) trying, one logged attempt at a time, until the peer appears, the start timeout passes, or a
 * signal stops it.
 * @module
 */
import { rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChainContext } from '../../networkservice/core/context.js';
import { isWildcard, parseAddress } from '../../tools/grpc/address.js';
import { errorMessage, hasStatusCode, status } from '../../tools/grpc/status.js';
import type { Logger } from '../../tools/log/index.js';
import { IdentityConfigError, securityFromEnv, type EnvSecurity } from '../../tools/security/env.js';
import { ConfigError, type Env, type Settings } from '../config.js';
import { formatDuration } from '../settings/values.js';

/** A role that runs. */
export interface Running {
  /** Where it serves, if it serves. */
  readonly url?: string;
  /**
   * Settles when the role ends on its own: fulfilled for a normal end (the endpoint's idle timeout),
   * rejected with the reason when it cannot go on (a manager whose registry never appeared).
   */
  readonly done?: Promise<void>;
  /** Releases everything it holds and stops; quick (well under a second) unless a peer hangs. */
  stop(): Promise<void>;
}

/** What a role gets. */
export interface RoleEnv {
  /** Its settings. */
  readonly settings: Settings;
  /** The context its calls derive from (the logger). */
  readonly ctx: ChainContext;
  /** Stdout, for its ready line (or, for the client, its connections). */
  readonly out: (line: string) => void;
  /** Aborted on SIGTERM/SIGINT: start-up work (waiting, retrying, registering) is abandoned at once. */
  readonly signal: AbortSignal;
  /** The environment (for NODE_NAME and friends); default `process.env`. */
  readonly env?: Env;
}

/** A role's entry point. */
export type Role = (env: RoleEnv) => Promise<Running>;

/** The start was abandoned because of a signal: not a failure (the command exits 0). */
export class StartAborted extends Error {
  constructor() {
    super('stopped while starting');
    this.name = 'StartAborted';
  }
}

/** How long a role's server waits for calls to drain on stop before closing them (ms). */
export const DRAIN_MS = 300;
/** How long a role gives each Close or Unregister on stop (ms): a dead peer must not hold up the exit. */
export const STOP_CALL_MS = 600;
/** Pause between two start-up attempts (ms). */
export const RETRY_INTERVAL_MS = 1000;

/** The default socket of a role that serves: `unix://<tmpdir>/nsm/<name>.sock`. */
export function socketIn(name: string): string {
  return `unix://${join(tmpdir(), 'nsm', `${name}.sock`)}`;
}

/** Removes the socket file of `url` if it is a unix address (for a server abandoned before it was returned). */
export async function removeSocketFile(url: string): Promise<void> {
  const address = parseAddress(url);
  if (address.kind === 'unix') await rm(address.path, { force: true });
}

/**
 * The address a role listening on every interface publishes (registers, prints): as upstream, the first
 * non-loopback IPv4 address of this machine (loopback when there is none).
 */
export function publicIPv4(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}

/** The server option that publishes an every-interface `listenOn` under {@link publicIPv4}; none otherwise. */
export function publicHostFor(listenOn: string): { publicHost?: string } {
  return isWildcard(parseAddress(listenOn)) ? { publicHost: publicIPv4() } : {};
}

/** A duration setting that must be more than zero. */
export function positiveDuration(settings: Settings, name: Parameters<Settings['duration']>[0]): number {
  const ms = settings.duration(name);
  if (ms <= 0) throw new ConfigError(`${settings.what(name)}: must be more than 0`);
  return ms;
}

/**
 * The role's identity, from `--spiffe-endpoint-socket`, `--svid-dir`, `--trust-domain-dir` or `--insecure`
 * (their variables: SPIFFE_ENDPOINT_SOCKET, NSM_SVID_DIR, NSM_TRUST_DOMAIN_DIR, NSM_INSECURE). None is a
 * configuration error (exit 2, one line naming them); insecure is said at start, at warn level.
 */
export async function roleSecurity(settings: Settings, ctx: ChainContext, role: string, name: string, lifetimeMs: number): Promise<EnvSecurity> {
  const given = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value);
  const env = {
    SPIFFE_ENDPOINT_SOCKET: given(settings.optional('spiffe-endpoint-socket')),
    NSM_SVID_DIR: given(settings.optional('svid-dir')),
    NSM_TRUST_DOMAIN_DIR: given(settings.optional('trust-domain-dir')),
    NSM_INSECURE: settings.flag('insecure') ? 'true' : undefined,
  };
  let identity: EnvSecurity;
  try {
    identity = await securityFromEnv(env, {
      role,
      name,
      maxTokenLifetimeMs: lifetimeMs,
      onError: (error) => ctx.logger.warn(`nsm ${role}: identity: ${errorMessage(error)}`),
    });
  } catch (error) {
    if (error instanceof IdentityConfigError) throw new ConfigError(error.message);
    throw error;
  }
  if (identity.security.insecure) {
    ctx.logger.warn(`nsm ${role}: running INSECURE (NSM_INSECURE): plaintext, unsigned tokens, no authorization`);
  } else {
    ctx.logger.info(`nsm ${role}: identity ${identity.security.spiffeId() ?? ''} (from ${identity.from})`);
  }
  return identity;
}

/** The one start-up line with the role's effective configuration (every setting it read, defaults included). */
export function logConfiguration(ctx: ChainContext, settings: Settings): void {
  ctx.logger.info(`nsm ${settings.command}: configuration`, settings.effective());
}

/** Resolves after `ms`, or rejects with {@link StartAborted} when `signal` is aborted first. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new StartAborted());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new StartAborted());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Whether an error says the peer at `where` could not be reached at all, as opposed to answering with an
 * error of its own (which may be that something behind it is unreachable: a manager whose registry is down
 * names the registry's URL).
 */
export function isUnreachable(error: unknown, where: string): boolean {
  const text = errorMessage(error);
  const dialFailure = /refused|not serving|not ready within|ECONNREFUSED|ENOENT|EHOSTUNREACH|ENOTFOUND|No connection established|failed to connect/i.test(text);
  if (!dialFailure && !(hasStatusCode(error) && error.code === status.UNAVAILABLE && !/(unix|tcp):\/\//.test(text))) return false;
  const urls = text.match(/(unix|tcp):\/\/[^\s,;()]*[^\s,;():.]/g) ?? [];
  return urls.length === 0 || urls.some((url) => url === where);
}

/** What {@link retryUntil} tries. */
export interface RetryPlan<T> {
  /** What is tried, for the log and the final error: `register icmp-responder`. */
  readonly what: string;
  /** Where: the peer's URL. */
  readonly where: string;
  /** Who is there, for "... not reachable after 30s": `manager`, `registry`. */
  readonly peer: string;
  /** Aborted on a signal: stops at once with {@link StartAborted}. */
  readonly signal: AbortSignal;
  /** How long to keep trying (ms); 0 tries until it works or the signal comes. */
  readonly timeoutMs: number;
  /** The setting behind `timeoutMs`, named in the final error. */
  readonly timeoutSetting: string;
  /** Where each failed attempt is logged. */
  readonly logger: Logger;
  /** Pause between attempts (ms); default {@link RETRY_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /**
   * One attempt: cancel it when `signal` is aborted (the role's signal, or the end of the start timeout),
   * and take no longer than `timeoutMs` when it is given.
   */
  readonly attempt: (signal: AbortSignal, timeoutMs: number | undefined) => Promise<T>;
}

/**
 * Runs `plan.attempt` until it succeeds; logs each failure (warn: what, where, which attempt, why). Throws
 * {@link StartAborted} on a signal, and after the start timeout an Error saying what it was doing:
 * `could not register nse-1 at unix:///x: manager not reachable after 30s (last error: ...)`.
 */
export async function retryUntil<T>(plan: RetryPlan<T>): Promise<T> {
  const start = Date.now();
  const deadline = plan.timeoutMs > 0 ? start + plan.timeoutMs : Number.POSITIVE_INFINITY;
  const interval = plan.intervalMs ?? RETRY_INTERVAL_MS;
  let previous: unknown;
  for (let attempt = 1; ; attempt++) {
    if (plan.signal.aborted) throw new StartAborted();
    const left = deadline - Date.now();
    const budget = new AbortController();
    const onAbort = (): void => budget.abort(plan.signal.reason);
    plan.signal.addEventListener('abort', onAbort, { once: true });
    const timer = Number.isFinite(left) ? setTimeout(() => budget.abort(new Error('start timeout')), Math.max(0, left)) : undefined;
    try {
      return await plan.attempt(budget.signal, Number.isFinite(left) ? Math.max(1, left) : undefined);
    } catch (error) {
      if (plan.signal.aborted) throw new StartAborted();
      // An attempt cut short by the start timeout says only that it ran out of time: the one before knows why.
      const cut = previous !== undefined && (budget.signal.aborted || Date.now() >= deadline);
      const last = cut ? previous : error;
      previous = last;
      const reason = errorMessage(last).split('\n')[0] ?? 'failed';
      const wait = Math.min(interval, deadline - Date.now());
      if (wait <= 0) {
        const after = formatDuration(plan.timeoutMs);
        const why = isUnreachable(last, plan.where) ? `${plan.peer} not reachable after ${after}` : `gave up after ${after} (${plan.timeoutSetting})`;
        throw new Error(`could not ${plan.what} at ${plan.where}: ${why} (last error: ${reason})`, { cause: error });
      }
      plan.logger.warn(`${plan.what} at ${plan.where} failed (attempt ${attempt}): ${reason}; retrying in ${formatDuration(wait)}`);
      await pause(wait, plan.signal);
    } finally {
      clearTimeout(timer);
      plan.signal.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * Waits for `work` unless `signal` comes first. Work that cannot be cancelled (a library call without a
 * signal) is given `graceMs` to settle after the signal; if it does, `release` frees what it produced,
 * if not, `abandon` cleans up what it may hold. Either way the caller gets {@link StartAborted}.
 */
export async function unlessAborted<T>(
  work: Promise<T>,
  signal: AbortSignal,
  cleanup: { readonly release: (value: T) => Promise<void>; readonly abandon: () => Promise<void>; readonly graceMs?: number },
): Promise<T> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const first = await Promise.race([work.then((value) => ({ value })), aborted]);
    if (first !== 'aborted') return first.value;
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
  const late = await Promise.race([
    work.then(
      (value) => ({ value }),
      () => 'failed' as const,
    ),
    new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), cleanup.graceMs ?? 300)),
  ]);
  if (late === 'late') await cleanup.abandon().catch(() => undefined);
  else if (late !== 'failed') await cleanup.release(late.value).catch(() => undefined);
  throw new StartAborted();
}
