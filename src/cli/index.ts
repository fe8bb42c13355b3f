/**
 * The `nsm` command: runs one NSM role per process (`registry`, `nsmgr`, `forwarder`, `nse`, `nsc`) or the whole demo
 * domain (`demo`). Each role logs one line when it is ready, stops cleanly on SIGTERM/SIGINT (closing and
 * unregistering what it holds) and exits non-zero with a one-line reason on bad configuration.
 * @module
 */
import { ChainContext } from '../networkservice/core/context.js';
import { createLogger } from '../tools/log/index.js';
import { errorMessage } from '../tools/grpc/status.js';
import { ConfigError, Settings, SETTINGS, type Env } from './config.js';
import { forwarderRole, nscRole, nseRole, nsmgrRole, registryRole, type Role } from './roles.js';
import { demo } from './demo.js';

const ROLES: Readonly<Record<string, Role>> = {
  registry: registryRole,
  nsmgr: nsmgrRole,
  forwarder: forwarderRole,
  nse: nseRole,
  nsc: nscRole,
};

/** The usage text. */
export function usage(): string {
  const flags = Object.entries(SETTINGS).map(([name, s]) => `  --${name.padEnd(17)} ${s.env.padEnd(21)} ${s.help}`);
  return [
    'usage: nsm <registry|nsmgr|forwarder|nse|nsc|demo> [flags]',
    '',
    'flags (each also read from its environment variable; a flag wins):',
    ...flags,
  ].join('\n');
}

/** Runs the command line `args` (without node and script); resolves with the exit code. */
export async function run(args: readonly string[], env: Env, signals: NodeJS.EventEmitter = process): Promise<number> {
  const [command, ...rest] = args;
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      out(usage());
      return command === undefined ? 2 : 0;
    }
    const settings = Settings.parse(rest, env);
    const logger = createLogger(settings.logLevel());
    const ctx = ChainContext.background({ logger });
    if (command === 'demo') return await demo(settings, out, signals);
    const role = ROLES[command];
    if (role === undefined) throw new ConfigError(`unknown command "${command}" (expected registry, nsmgr, forwarder, nse, nsc or demo)`);
    // Listen before starting: the ready line (or the client's first connection) goes out while the role
    // starts, and whoever reads it may signal at once; the default action would kill the process.
    const signalled = new Promise<void>((resolve) => {
      signals.once('SIGTERM', resolve);
      signals.once('SIGINT', resolve);
    });
    const running = await role({ settings, ctx, out });
    await signalled;
    await running.stop();
    return 0;
  } catch (error) {
    const reason = errorMessage(error).split('\n')[0] ?? 'failed';
    process.stderr.write(`nsm ${command ?? ''}: ${reason}\n`);
    return error instanceof ConfigError ? 2 : 1;
  }
}

