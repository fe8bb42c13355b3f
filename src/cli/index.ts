/**
 * The `nsm` command: runs one NSM role per process (`registry`, `nsmgr`, `forwarder`, `nse`, `nsc`) or the whole demo
 * domain (`demo`). Each role logs its configuration in one line, prints one line when it is ready, stops
 * within a second on SIGTERM/SIGINT in any phase (closing and unregistering what it holds), and exits
 * non-zero with a one-line reason when it cannot start: 2 for bad configuration, 1 for anything else.
 * @module
 */
import { ChainContext } from '../networkservice/core/context.js';
import { createLogger, type Logger } from '../tools/log/index.js';
import { errorMessage } from '../tools/grpc/status.js';
import { COMMANDS, ConfigError, SETTINGS, Settings, type CommandName, type Env } from './config.js';
import { commandHelp, isCommand, type CommandSpec } from './settings/catalog.js';
import { isUpstreamVariable } from './settings/upstream.js';
import { forwarderRole, nscRole, nseRole, nsmgrRole, registryRole, StartAborted, type Role, type Running } from './roles.js';
import { demo } from './demo.js';
import { trustDomainCommand } from './trustdomain.js';
import { packageVersion } from './version.js';

const ROLES: Readonly<Record<Exclude<CommandName, 'demo'>, Role>> = {
  registry: registryRole,
  nsmgr: nsmgrRole,
  forwarder: forwarderRole,
  nse: nseRole,
  nsc: nscRole,
};

/** The usage text. */
export function usage(): string {
  const commands = Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(10)} ${spec.summary}`);
  return [
    'usage: nsm <registry|nsmgr|forwarder|nse|nsc|demo> [flags]',
    '       nsm <command> --help     the flags of a command, with their variables and defaults',
    '       nsm trust-domain init DIR | issue DIR --spiffe-id ID --out DIR   a development trust domain',
    '       nsm --version',
    '',
    'commands:',
    ...commands,
    '',
    'Every flag is also read from an environment variable with upstream NSM\'s name (--listen-on / NSM_LISTEN_ON);',
    'a flag wins over its variable.',
  ].join('\n');
}

/** Warns about `NSM_*` variables `command` does not read: a misspelt name would otherwise change nothing without a word. */
function warnUnread(command: CommandName, env: Env, logger: Logger): void {
  const spec: CommandSpec = COMMANDS[command];
  const read = new Set<string>(Object.keys(spec.settings).map((name) => SETTINGS[name as keyof typeof SETTINGS].env));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('NSM_') || value === undefined || value.trim() === '') continue;
    if (!read.has(name) && !isUpstreamVariable(command, name)) logger.warn(`${name} is not read by nsm ${command}; ignored`);
  }
}

/** Resolves once `signal` is aborted. */
function abortedOf(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

/** Runs the command line `args` (without node and script); resolves with the exit code. */
export async function run(args: readonly string[], env: Env, signals: NodeJS.EventEmitter = process): Promise<number> {
  const [command, ...rest] = args;
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const stopping = new AbortController();
  const onSignal = (name: string) => (): void => {
    if (!stopping.signal.aborted) stopping.abort(new Error(`${name} received`));
  };
  const onTerm = onSignal('SIGTERM');
  const onInt = onSignal('SIGINT');
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      out(usage());
      return command === undefined ? 2 : 0;
    }
    if (command === '--version' || command === '-V' || command === 'version') {
      out(packageVersion());
      return 0;
    }
    if (command === 'trust-domain') return await trustDomainCommand(rest, out);
    if (!isCommand(command)) throw new ConfigError(`unknown command "${command}" (expected registry, nsmgr, forwarder, nse, nsc, demo or trust-domain)`);
    const settings = Settings.parse(command, rest, env);
    if (settings.help) {
      out(commandHelp(command));
      return 0;
    }
    const logger = createLogger(settings.logLevel());
    warnUnread(command, env, logger);
    if (command === 'demo') return await demo(settings, out, signals);
    // Listen before the role starts: whoever reads the ready line may signal at once, and the default action
    // would kill the process without closing anything. The handlers stay until the end, so a second signal
    // while stopping does not kill it half way.
    signals.on('SIGTERM', onTerm);
    signals.on('SIGINT', onInt);
    const ctx = ChainContext.background({ logger });
    const started = Date.now();
    let running: Running;
    try {
      running = await ROLES[command]({ settings, ctx, out, signal: stopping.signal, env });
    } catch (error) {
      if (!stopping.signal.aborted && !(error instanceof StartAborted)) throw error;
      logger.info(`nsm ${command}: stopped while starting (${errorMessage(stopping.signal.reason)}) after ${Date.now() - started} ms`);
      return 0;
    }
    const ended = await Promise.race([abortedOf(stopping.signal).then(() => 'signal' as const), running.done?.then(() => 'done' as const) ?? new Promise<never>(() => undefined)]).catch(
      async (error: unknown) => {
        await running.stop().catch(() => undefined);
        throw error;
      },
    );
    const stopStarted = Date.now();
    await running.stop();
    logger.info(`nsm ${command}: stopped (${ended === 'signal' ? errorMessage(stopping.signal.reason) : 'done'}) in ${Date.now() - stopStarted} ms`);
    return 0;
  } catch (error) {
    const reason = errorMessage(error).split('\n')[0] ?? 'failed';
    process.stderr.write(`nsm ${command ?? ''}: ${reason}\n`);
    return error instanceof ConfigError ? 2 : 1;
  } finally {
    signals.removeListener('SIGTERM', onTerm);
    signals.removeListener('SIGINT', onInt);
  }
}
