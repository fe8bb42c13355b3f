/**
 * Real `nsm` role processes for the chaos run: start one and read its ready line, SIGKILL it, start it
 * again on the same address and name or start a replacement, and stop them all with SIGTERM at the end.
 * Every process's stdout and stderr go to a log file per role name in the run's directory (appended
 * across restarts, each start headed by a line with its pid), so a failure can be traced to what each
 * role said. Whatever happens to the driver (an exception, SIGINT, a normal exit), {@link Domain.guard}
 * makes sure no role process outlives it.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, statSync, readdirSync, type WriteStream } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository's root directory. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The kinds of role the chaos run starts as processes (clients run inside the driver). */
export type RoleKind = 'registry' | 'nsmgr' | 'forwarder' | 'nse';

/** What to start: the sub-command, its name and address, and its own environment. */
export interface RoleSpec {
  /** The `nsm` sub-command. */
  readonly kind: RoleKind;
  /** `NSM_NAME`: unique in the domain. */
  readonly name: string;
  /** The node it belongs to (undefined for the registry). */
  readonly node: number | undefined;
  /** `NSM_LISTEN_ON`; `tcp://127.0.0.1:0` picks a port, which a restart then reuses. */
  readonly listenOn: string;
  /** Role-specific variables (`NSM_CONNECT_TO`, `NODE_NAME`, ...). */
  readonly env: Readonly<Record<string, string>>;
}

/** How a process ended. */
export interface Exit {
  /** The exit code, or null when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, if one did. */
  readonly signal: NodeJS.Signals | null;
}

/** One started process of a role. */
export interface RoleProcess {
  /** The spec it runs, with `listenOn` set to the real address once it is ready. */
  readonly spec: RoleSpec;
  /** The URL from its ready line. */
  readonly url: string;
  /** Its process id. */
  readonly pid: number;
  /** Its log file (shared by every process of the same name). */
  readonly log: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** True until the process exits. */
  readonly alive: boolean;
  /** How it was ended by the domain: killed (SIGKILL) or stopped (SIGTERM); undefined while running. */
  readonly ended: 'killed' | 'stopped' | undefined;
}

/** Options of {@link Domain}. */
export interface DomainOptions {
  /** The run's directory (made with mkdtemp): sockets go to `sock/`, logs to `logs/`. */
  readonly dir: string;
  /** The command line that runs `nsm` (the sub-command is appended). */
  readonly command: readonly string[];
  /** Variables every role gets (the log level). */
  readonly env?: Readonly<Record<string, string>>;
  /** Variables the roles of one kind get (the lifetimes each kind has a setting for). */
  readonly kindEnv?: Readonly<Partial<Record<RoleKind, Readonly<Record<string, string>>>>>;
  /** How long a role may take to print its ready line (ms); default 30000. */
  readonly readyTimeoutMs?: number;
}

/** What {@link Domain.stopAll} saw. */
export interface StopReport {
  /** Roles that did not exit 0 on SIGTERM (or needed a SIGKILL), with how they ended. */
  readonly unclean: readonly { readonly name: string; readonly pid: number; readonly exit: Exit | 'timeout' }[];
}

const READY = /ready on (\S+?),?(\s|$)/;

/**
 * The command that runs `nsm`: `NSM_CHAOS_COMMAND` when set, else the built package when
 * `dist/src/cli/main.js` is newer than every source file (a process starts in about half the time),
 * otherwise the sources through tsx. One process per role
 * either way (the tsx CLI would put a wrapper in front, and a SIGKILL would miss the role).
 */
export function nsmCommand(env: NodeJS.ProcessEnv = process.env): { readonly command: readonly string[]; readonly built: boolean } {
  // Another build of the roles (an installed package, another checkout), as a command line split at spaces.
  const given = env['NSM_CHAOS_COMMAND']?.trim();
  if (given !== undefined && given !== '') return { command: given.split(/\s+/), built: true };
  const built = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  if (existsSync(built) && newestMtime(join(ROOT, 'src')) <= statSync(built).mtimeMs) return { command: [process.execPath, built], built: true };
  return { command: [process.execPath, '--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts')], built: false };
}

/**
 * The environment variables `nsm <kind>` reads, from its `--help` (or, where a sub-command has no help of
 * its own, from the general usage): the harness uses a setting only where the CLI has it.
 */
export async function knownVariables(command: readonly string[], kind: RoleKind): Promise<Set<string>> {
  const run = (args: readonly string[]): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve) => {
      const [exe, ...rest] = command;
      const child = spawn(exe ?? process.execPath, [...rest, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.once('exit', (code) => resolve({ code, out }));
    });
  let help = await run([kind, '--help']);
  if (help.code !== 0) help = await run(['help']);
  return new Set(help.out.match(/\bNSM_[A-Z0-9_]+\b/g) ?? []);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

class Proc implements RoleProcess {
  url = '';
  ended: 'killed' | 'stopped' | undefined = undefined;
  exit: Exit | undefined = undefined;
  readonly exited: Promise<Exit>;

  constructor(
    public spec: RoleSpec,
    readonly child: ChildProcess,
    readonly log: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }
}

/** The role processes of one chaos run. */
export class Domain {
  private readonly procs: Proc[] = [];
  private readonly logs = new Map<string, WriteStream>();
  private readonly sockDir: string;
  private readonly logDir: string;

  constructor(private readonly options: DomainOptions) {
    this.sockDir = join(options.dir, 'sock');
    this.logDir = join(options.dir, 'logs');
    mkdirSync(this.sockDir, { recursive: true });
    mkdirSync(this.logDir, { recursive: true });
  }

  /** A unix socket address for `name` in the run's socket directory. */
  socket(name: string): string {
    return `unix://${join(this.sockDir, `${name}.sock`)}`;
  }

  /** Every process started, in order (live and dead). */
  get all(): readonly RoleProcess[] {
    return this.procs;
  }

  /** The processes running now. */
  live(): RoleProcess[] {
    return this.procs.filter((p) => p.alive);
  }

  /** Starts `spec` and resolves once its ready line is read (rejects with the log's tail if it exits first or takes too long). */
  async start(spec: RoleSpec): Promise<RoleProcess> {
    const log = join(this.logDir, `${spec.name}.log`);
    let stream = this.logs.get(log);
    if (stream === undefined) {
      stream = createWriteStream(log, { flags: 'a' });
      this.logs.set(log, stream);
    }
    const env: Record<string, string> = {};
    // The driver's own NSM_* variables must not leak into the roles and change what they do.
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('NSM_') && key !== 'NODE_NAME' && value !== undefined) env[key] = value;
    Object.assign(env, this.options.env ?? {}, this.options.kindEnv?.[spec.kind] ?? {}, spec.env, { NSM_NAME: spec.name, NSM_LISTEN_ON: spec.listenOn });
    const [exe, ...args] = this.options.command;
    const child = spawn(exe ?? process.execPath, [...args, spec.kind], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const proc = new Proc(spec, child, log);
    this.procs.push(proc);
    const out = stream;
    out.write(`=== ${new Date().toISOString()} start ${spec.kind} ${spec.name} pid ${child.pid ?? '?'} on ${spec.listenOn}\n`);
    child.stderr?.on('data', (d: Buffer) => out.write(d));
    void proc.exited.then((exit) => out.write(`=== ${new Date().toISOString()} pid ${proc.pid} exited code ${exit.code ?? '-'} signal ${exit.signal ?? '-'}\n`));
    const ready = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${spec.name}: no ready line in ${this.options.readyTimeoutMs ?? 30_000} ms`)), this.options.readyTimeoutMs ?? 30_000);
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        out.write(`stdout: ${line}\n`);
        const match = READY.exec(line);
        if (match !== null) {
          clearTimeout(timer);
          resolve(match[1] ?? '');
        }
      });
      void proc.exited.then((exit) => {
        clearTimeout(timer);
        reject(new Error(`${spec.name} exited before it was ready (code ${exit.code ?? '-'}, signal ${exit.signal ?? '-'})`));
      });
    });
    try {
      proc.url = await ready;
    } catch (error) {
      child.kill('SIGKILL');
      await proc.exited;
      throw new Error(`${error instanceof Error ? error.message : String(error)}; log ${log}:\n${tail(log)}`, { cause: error });
    }
    // A restart reuses the port the first start was given.
    proc.spec = { ...spec, listenOn: proc.url };
    return proc;
  }

  /** SIGKILL: the role dies at once, closing and unregistering nothing. */
  async kill(role: RoleProcess): Promise<void> {
    const proc = this.own(role);
    if (!proc.alive) return;
    proc.ended = 'killed';
    proc.child.kill('SIGKILL');
    await proc.exited;
  }

  /** Starts the same role again: same name, same address. */
  restart(role: RoleProcess): Promise<RoleProcess> {
    return this.start(role.spec);
  }

  /**
   * SIGTERM to every live role, endpoints first, then forwarders, managers and the registry last (each
   * releases what it holds through the ones after it); a role that does not exit in `timeoutMs` is
   * killed and reported.
   */
  async stopAll(timeoutMs = 10_000): Promise<StopReport> {
    const unclean: { name: string; pid: number; exit: Exit | 'timeout' }[] = [];
    for (const kind of ['nse', 'forwarder', 'nsmgr', 'registry'] as const) {
      await Promise.all(
        this.procs
          .filter((p) => p.alive && p.spec.kind === kind)
          .map(async (p) => {
            p.ended = 'stopped';
            p.child.kill('SIGTERM');
            let timer: NodeJS.Timeout | undefined;
            const exit = await Promise.race([p.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
            clearTimeout(timer);
            if (exit === 'timeout') {
              p.child.kill('SIGKILL');
              await p.exited;
            }
            if (exit === 'timeout' || exit.code !== 0) unclean.push({ name: p.spec.name, pid: p.pid, exit });
          }),
      );
    }
    return { unclean };
  }

  /** Kills every process still running, synchronously (for exit handlers). */
  killAllNow(): void {
    for (const p of this.procs) if (p.alive) p.child.kill('SIGKILL');
  }

  /** Pids of processes the domain started that the OS still knows (should be none after {@link stopAll}). */
  lingering(): number[] {
    return this.procs.filter((p) => p.pid > 0 && pidExists(p.pid)).map((p) => p.pid);
  }

  /** Socket files in the run's socket directory, relative to the run's directory. */
  sockets(): string[] {
    return readdirSync(this.sockDir).map((f) => relative(this.options.dir, join(this.sockDir, f)));
  }

  /**
   * Socket files a clean stop cannot remove: those of SIGKILLed processes whose address no later process
   * took over (a restart on the same path replaces the stale file, and removes it when it stops).
   */
  staleSockets(): string[] {
    const stale = new Set<string>();
    for (const p of this.procs) {
      if (!p.spec.listenOn.startsWith('unix://')) continue;
      const file = relative(this.options.dir, p.spec.listenOn.slice('unix://'.length));
      if (p.ended === 'killed') stale.add(file);
      else stale.delete(file);
    }
    return [...stale];
  }

  /**
   * What the roles logged above debug level, grouped by level and message shape (`shape` strips ids and
   * addresses), with the roles that logged each: a first look at what went wrong where.
   */
  logDigest(shape: (message: string) => string): { readonly key: string; readonly count: number; readonly roles: readonly string[] }[] {
    const groups = new Map<string, { count: number; roles: Set<string> }>();
    for (const file of readdirSync(this.logDir)) {
      const role = file.replace(/\.log$/, '');
      for (const line of readFileSync(join(this.logDir, file), 'utf8').split('\n')) {
        const match = /^\S+Z (INFO|WARN|ERROR) (.*)$/.exec(line);
        if (match === null) continue;
        const key = `${match[1] ?? ''} ${shape(match[2] ?? '')}`;
        const group = groups.get(key) ?? { count: 0, roles: new Set<string>() };
        group.count++;
        group.roles.add(role);
        groups.set(key, group);
      }
    }
    return [...groups.entries()].map(([key, g]) => ({ key, count: g.count, roles: [...g.roles].sort() })).sort((a, b) => b.count - a.count);
  }

  /** Closes the log files. */
  async closeLogs(): Promise<void> {
    await Promise.all([...this.logs.values()].map((s) => new Promise<void>((resolve) => s.end(resolve))));
    this.logs.clear();
  }

  /**
   * Kills every role when the driver goes away: on a normal exit, an uncaught exception or SIGINT/SIGTERM
   * (then the driver exits 130 after `onSignal`). Returns the function that removes the guards.
   */
  guard(onSignal: () => void = () => undefined): () => void {
    const onExit = (): void => this.killAllNow();
    const signalled = (): void => {
      this.killAllNow();
      onSignal();
      process.exit(130);
    };
    process.on('exit', onExit);
    process.once('SIGINT', signalled);
    process.once('SIGTERM', signalled);
    return () => {
      process.off('exit', onExit);
      process.off('SIGINT', signalled);
      process.off('SIGTERM', signalled);
    };
  }

  private own(role: RoleProcess): Proc {
    const proc = this.procs.find((p) => p === role);
    if (proc === undefined) throw new Error(`${role.spec.name} (pid ${role.pid}) was not started by this domain`);
    return proc;
  }
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The last lines of a log file. */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
