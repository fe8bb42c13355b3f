/**
 * The `nsm` command's configuration: every setting is a flag and an environment variable with upstream's
 * name (`--listen-on` / `NSM_LISTEN_ON`); a flag wins over the variable. Each sub-command reads only the
 * settings listed for it in `settings/catalog.ts`, with the defaults listed there. Anything wrong is a
 * {@link ConfigError} whose one-line message says which setting and why, so a role never starts half set up.
 * @module
 */
import { parseArgs } from 'node:util';
import { parseAddress } from '../tools/grpc/address.js';
import type { LogLevel } from '../tools/log/index.js';
import type { Labels } from '../tools/matchutils/labels.js';
import { parseNetworkServiceURLs, type NetworkServiceURL } from '../tools/nsurl/index.js';
import { errorMessage } from '../tools/grpc/status.js';
import { COMMANDS, SETTINGS, type CommandName, type CommandSpec, type RoleSetting, type SettingName } from './settings/catalog.js';
import { refusedUpstreamVariable, type Env } from './settings/upstream.js';
import { parseBool, parseDuration, parseLabels, parseList } from './settings/values.js';

export { SETTINGS, COMMANDS, type SettingName, type CommandName } from './settings/catalog.js';
export type { Env } from './settings/upstream.js';

/** Bad configuration: the message is one line naming the setting. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Upstream's (logrus) level names, and ours: `fatal` and `panic` end a Go process, here they mean errors only. */
const LOG_LEVELS: Readonly<Record<string, LogLevel>> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'error',
  panic: 'error',
  silent: 'silent',
};

/** Flags and environment of one sub-command, read together. */
export class Settings {
  /** What each setting read so far resolved to, by variable: the role's effective configuration. */
  private readonly used = new Map<string, string>();

  private constructor(
    /** The sub-command. */
    readonly command: CommandName,
    private readonly flags: Readonly<Record<string, string | boolean | undefined>>,
    private readonly env: Env,
    /** `--help` / `-h` was given. */
    readonly help: boolean,
  ) {}

  /**
   * Parses `args` (after the sub-command) for `command`: a flag the command does not read, a stray
   * argument, or an upstream variable asking for a feature `nsm` lacks is an error.
   */
  static parse(command: CommandName, args: readonly string[], env: Env): Settings {
    const spec: CommandSpec = COMMANDS[command];
    const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
    for (const name of Object.keys(spec.settings) as SettingName[]) {
      options[name] = { type: 'boolean' in SETTINGS[name] ? 'boolean' : 'string' };
    }
    let settings: Settings;
    try {
      const { values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
      if (positionals.length > 0) throw new ConfigError(`unexpected argument "${positionals[0] ?? ''}"`);
      settings = new Settings(command, values, env, values['help'] === true);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(flagError(command, errorMessage(error)));
    }
    if (settings.help) return settings;
    const refused = refusedUpstreamVariable(command, env);
    if (refused !== undefined) throw new ConfigError(refused);
    return settings;
  }

  private spec(name: SettingName): RoleSetting {
    const setting: RoleSetting | undefined = (COMMANDS[this.command].settings as Partial<Record<SettingName, RoleSetting>>)[name];
    // A role reading a setting its table does not list is a bug here, not a user's mistake.
    if (setting === undefined) throw new Error(`nsm ${this.command} reads --${name}, which its settings table does not list`);
    return setting;
  }

  /** The raw value of a setting (flag, else environment), trimmed; undefined when unset or empty. */
  raw(name: SettingName): string | undefined {
    this.spec(name);
    const flag = this.flags[name];
    const value = typeof flag === 'string' ? flag : this.env[SETTINGS[name].env];
    const trimmed = value?.trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
  }

  /** `--name / NSM_NAME`, for messages. */
  what(name: SettingName): string {
    return `--${name} / ${SETTINGS[name].env}`;
  }

  /** The value (given, else `fallback`, else the table's default), recorded as effective; undefined when there is none. */
  optional(name: SettingName, fallback?: string): string | undefined {
    const spec = this.spec(name);
    const value = this.raw(name) ?? fallback ?? spec.default;
    if (value === undefined && spec.required === true) throw new ConfigError(`${this.what(name)} is required`);
    if (value !== undefined) this.used.set(SETTINGS[name].env, value);
    return value;
  }

  /** A string setting; '' when it has no value and no default. */
  string(name: SettingName, fallback?: string): string {
    return this.optional(name, fallback) ?? '';
  }

  /** Runs `parse` on the value and names the setting in its error. */
  private parsed<T>(name: SettingName, parse: (value: string) => T, fallback?: string): T | undefined {
    const value = this.optional(name, fallback);
    if (value === undefined) return undefined;
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`${this.what(name)}: ${errorMessage(error)}`);
    }
  }

  /** One address (`unix:///path`, `tcp://host:port`, `tcp://:port`), checked. */
  address(name: SettingName, fallback?: string): string {
    const list = this.addresses(name, fallback);
    if (list.length > 1) throw new ConfigError(`${this.what(name)}: nsm ${this.command} takes one address, not a list ("${list.join(',')}")`);
    const [first] = list;
    if (first === undefined) throw new ConfigError(`${this.what(name)} is required`);
    return first;
  }

  /** A comma-separated list of addresses, each checked; at least one. */
  addresses(name: SettingName, fallback?: string): string[] {
    const list = this.parsed(name, (value) => parseList(value).map((url) => parseAddress(url).url), fallback) ?? [];
    if (list.length === 0) throw new ConfigError(`${this.what(name)} is required`);
    return list;
  }

  /** A Go duration (`15s`, `1m30s`, `100ms`), in milliseconds. */
  duration(name: SettingName): number {
    const ms = this.parsed(name, parseDuration);
    if (ms === undefined) throw new ConfigError(`${this.what(name)} is required`);
    return ms;
  }

  /** A boolean (`true`/`false`, and Go's other spellings: `1`, `t`, `F`, ...). */
  bool(name: SettingName): boolean {
    return this.parsed(name, parseBool) ?? false;
  }

  /** A switch with no value (`--stay`), or `true`/`1`/`yes` in the environment. */
  flag(name: SettingName): boolean {
    this.spec(name);
    const on = this.flags[name] === true || ['true', '1', 'yes'].includes(this.env[SETTINGS[name].env]?.trim().toLowerCase() ?? '');
    if (on) this.used.set(SETTINGS[name].env, 'true');
    return on;
  }

  /** A comma-separated list. */
  list(name: SettingName): string[] {
    return this.parsed(name, parseList) ?? [];
  }

  /** Labels `k=v,k2=v2` (upstream also writes `k:v`). */
  labels(name: SettingName): Labels {
    return this.parsed(name, parseLabels) ?? {};
  }

  /** One of `values`, compared case-insensitively; returned as listed in `values`. */
  oneOf<T extends string>(name: SettingName, values: readonly T[], why = ''): T {
    return (
      this.parsed(name, (value) => {
        const found = values.find((v) => v.toLowerCase() === value.toLowerCase());
        if (found === undefined) throw new Error(`"${value}" is not supported (expected ${values.join(' or ')})${why === '' ? '' : `: ${why}`}`);
        return found;
      }) ?? (values[0] as T)
    );
  }

  /**
   * Network service URLs (`kernel://icmp-responder/nsm-1?app=foo`); one without a scheme
   * (`icmp-responder/nsm-1`) takes `defaultScheme`, as upstream's client does with `NSM_MECHANISM`.
   */
  networkServices(name: SettingName, knownSchemes?: readonly string[], defaultScheme?: string): NetworkServiceURL[] {
    const withScheme = (url: string): string => (defaultScheme === undefined || url.includes('://') ? url : `${defaultScheme}://${url}`);
    const urls = this.parsed(name, (value) => parseNetworkServiceURLs(parseList(value).map(withScheme).join(','), knownSchemes)) ?? [];
    if (urls.length === 0) throw new ConfigError(`${this.what(name)} is required`);
    return urls;
  }

  /** The log level; upstream's names too (`WARNING`, `FATAL` and `PANIC` mean warn, error, error). */
  logLevel(): LogLevel {
    return (
      this.parsed('log-level', (value) => {
        const level = LOG_LEVELS[value.toLowerCase()];
        if (level === undefined) throw new Error(`unknown log level "${value}" (expected trace, debug, info, warn, error, fatal, panic or silent)`);
        return level;
      }) ?? 'info'
    );
  }

  /** Every setting read so far, by variable, as the role resolved it (defaults included): for the start-up line. */
  effective(): Record<string, string> {
    return Object.fromEntries(this.used);
  }
}

/** A parseArgs error as one line, naming a flag that exists but belongs to other commands as such. */
function flagError(command: CommandName, message: string): string {
  const line = message.split('\n')[0] ?? 'invalid arguments';
  const flag = /option '--([^'=]+)'/.exec(line)?.[1];
  if (flag !== undefined && Object.hasOwn(SETTINGS, flag) && /Unknown option/.test(line)) {
    return `--${flag} is not a setting of nsm ${command} (see nsm ${command} --help)`;
  }
  if (flag !== undefined && /Unknown option/.test(line)) return `unknown flag --${flag} (see nsm ${command} --help)`;
  return line;
}
