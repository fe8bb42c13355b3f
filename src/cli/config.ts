/**
 * The `nsm` command's configuration: every setting is a flag and an environment variable with upstream's
 * name (`--listen-on` / `NSM_LISTEN_ON`); a flag wins over the variable. Anything wrong is a
 * {@link ConfigError} whose one-line message says which setting and why, so a role never starts half set up.
 * @module
 */
import { parseArgs } from 'node:util';
import { parseAddress } from '../tools/grpc/address.js';
import { parseLogLevel, type LogLevel } from '../tools/log/index.js';
import { parseNetworkServiceURLs, type NetworkServiceURL } from '../tools/nsurl/index.js';
import type { Labels } from '../tools/matchutils/labels.js';
import { errorMessage } from '../tools/grpc/status.js';

/** Bad configuration: the message is one line naming the setting. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The environment variables, by name. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The settings of one flag: its environment variable and what it is for (for `--help`). */
interface Setting {
  readonly env: string;
  readonly help: string;
  readonly boolean?: boolean;
}

/** Every setting the sub-commands know. */
export const SETTINGS = {
  name: { env: 'NSM_NAME', help: 'the name of this role (its path segments and registration)' },
  'listen-on': { env: 'NSM_LISTEN_ON', help: 'where to serve: unix:///path or tcp://host:port' },
  'connect-to': { env: 'NSM_CONNECT_TO', help: "the manager's URL (forwarder, nse, nsc)" },
  'registry-url': { env: 'NSM_REGISTRY_URL', help: "the registry's URL (nsmgr)" },
  'service-names': { env: 'NSM_SERVICE_NAMES', help: 'comma-separated network services the endpoint offers' },
  labels: { env: 'NSM_LABELS', help: 'comma-separated key=value (or key:value) labels' },
  'cidr-prefix': { env: 'NSM_CIDR_PREFIX', help: 'comma-separated CIDRs the endpoint hands addresses from' },
  'network-services': { env: 'NSM_NETWORK_SERVICES', help: 'comma-separated URLs mechanism://service[/interface][?label=value]' },
  'tunnel-ip': { env: 'NSM_TUNNEL_IP', help: "the forwarder's VXLAN tunnel address (default 127.0.0.1)" },
  'log-level': { env: 'NSM_LOG_LEVEL', help: 'trace, debug, info, warn, error or silent' },
  apply: { env: 'NSM_APPLY', help: 'a YAML file of NetworkService manifests to load (registry)' },
  stay: { env: 'NSM_STAY', help: 'keep the demo domain running until Ctrl-C', boolean: true },
} as const satisfies Record<string, Setting>;

/** A flag name. */
export type SettingName = keyof typeof SETTINGS;

/** Flags and environment, read together. */
export class Settings {
  private constructor(
    private readonly flags: Readonly<Record<string, string | boolean | undefined>>,
    private readonly env: Env,
  ) {}

  /** Parses `args` (after the sub-command); unknown flags and stray arguments are errors. */
  static parse(args: readonly string[], env: Env): Settings {
    const options = Object.fromEntries(
      Object.entries(SETTINGS).map(([name, s]) => [name, { type: 'boolean' in s && s.boolean ? ('boolean' as const) : ('string' as const) }]),
    );
    try {
      const { values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
      if (positionals.length > 0) throw new ConfigError(`unexpected argument "${positionals[0] ?? ''}"`);
      return new Settings(values, env);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(errorMessage(error).split('\n')[0] ?? 'invalid arguments');
    }
  }

  /** The raw value of a setting (flag, else environment), trimmed; undefined when unset or empty. */
  raw(name: SettingName): string | undefined {
    const flag = this.flags[name];
    const value = typeof flag === 'string' ? flag : this.env[SETTINGS[name].env];
    const trimmed = value?.trim();
    return trimmed === undefined || trimmed === '' ? undefined : trimmed;
  }

  private what(name: SettingName): string {
    return `--${name} / ${SETTINGS[name].env}`;
  }

  /** A string setting, or `fallback`. */
  string(name: SettingName, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** A setting that must be given. */
  required(name: SettingName): string {
    const value = this.raw(name);
    if (value === undefined) throw new ConfigError(`${this.what(name)} is required`);
    return value;
  }

  /** A boolean flag (or `true`/`1` in the environment). */
  flag(name: SettingName): boolean {
    const flag = this.flags[name];
    if (flag === true) return true;
    const value = this.env[SETTINGS[name].env]?.trim().toLowerCase();
    return value === 'true' || value === '1' || value === 'yes';
  }

  /** An address (`unix:///path`, `tcp://host:port`), checked. */
  address(name: SettingName, fallback?: string): string {
    const value = fallback === undefined ? this.required(name) : this.string(name, fallback);
    try {
      return parseAddress(value).url;
    } catch (error) {
      throw new ConfigError(`${this.what(name)}: ${errorMessage(error)}`);
    }
  }

  /** A comma-separated list. */
  list(name: SettingName, fallback: readonly string[] = []): string[] {
    const value = this.raw(name);
    if (value === undefined) return [...fallback];
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  /** Labels `k=v,k2=v2` (upstream also writes `k:v`). */
  labels(name: SettingName): Labels {
    const labels: Record<string, string> = {};
    for (const item of this.list(name)) {
      const match = /^([^=:]+)[=:](.*)$/.exec(item);
      if (match === null || (match[1] ?? '').trim() === '') throw new ConfigError(`${this.what(name)}: "${item}" is not key=value`);
      labels[(match[1] ?? '').trim()] = (match[2] ?? '').trim();
    }
    return labels;
  }

  /** Network service URLs (`kernel://icmp-responder/nsm-1?app=foo`). */
  networkServices(name: SettingName): NetworkServiceURL[] {
    try {
      const urls = parseNetworkServiceURLs(this.required(name));
      if (urls.length === 0) throw new ConfigError(`${this.what(name)} is required`);
      return urls;
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`${this.what(name)}: ${errorMessage(error)}`);
    }
  }

  /** The log level. */
  logLevel(): LogLevel {
    try {
      return parseLogLevel(this.string('log-level', 'info'));
    } catch (error) {
      throw new ConfigError(`${this.what('log-level')}: ${errorMessage(error)}`);
    }
  }
}
