/**
 * What the `nsm` command can be told: every setting (a flag and the environment variable upstream's
 * commands read), and for each sub-command the settings it reads with their defaults. `--help` and the
 * parser are both built from these tables, so a role never accepts a flag it ignores and its help never
 * lists one it does not read.
 * @module
 */

/** One setting: its environment variable and what it means. */
export interface SettingInfo {
  /** The environment variable, with upstream's name. */
  readonly env: string;
  /** What it is for, in a few words (for `--help`). */
  readonly help: string;
  /** A switch with no value (`--stay`); every other flag takes a value. */
  readonly boolean?: boolean;
}

/** Every setting of every sub-command, by flag name. */
export const SETTINGS = {
  name: { env: 'NSM_NAME', help: 'the name of this role (its path segments and registration)' },
  'listen-on': { env: 'NSM_LISTEN_ON', help: 'where to serve: unix:///path, tcp://host:port or tcp://:port' },
  'connect-to': { env: 'NSM_CONNECT_TO', help: "the manager's URL" },
  'registry-url': { env: 'NSM_REGISTRY_URL', help: "the registry's URL" },
  'service-names': { env: 'NSM_SERVICE_NAMES', help: 'comma-separated network services the endpoint offers' },
  labels: { env: 'NSM_LABELS', help: 'comma-separated key=value (or key:value) labels' },
  'cidr-prefix': { env: 'NSM_CIDR_PREFIX', help: 'comma-separated CIDRs the endpoint hands addresses from' },
  payload: { env: 'NSM_PAYLOAD', help: 'the payload of the services the endpoint registers: IP or ETHERNET' },
  'register-service': { env: 'NSM_REGISTER_SERVICE', help: 'register the offered services (true/false)' },
  'unregister-itself': { env: 'NSM_UNREGISTER_ITSELF', help: 'unregister on stop (true/false; false leaves it to expire)' },
  'dns-configs': { env: 'NSM_DNS_CONFIGS', help: 'JSON list of DNS configs given to every connection' },
  'idle-timeout': { env: 'NSM_IDLE_TIMEOUT', help: 'stop after this long without connections (0: never)' },
  'ipam-policy': { env: 'NSM_IPAM_POLICY', help: "what to do with a client's own addresses: polite (keep) or strict (drop those not from our prefixes)" },
  'network-services': { env: 'NSM_NETWORK_SERVICES', help: 'comma-separated URLs mechanism://service[/interface][?label=value]' },
  mechanism: { env: 'NSM_MECHANISM', help: 'the mechanism of URLs without a scheme: kernel' },
  'tunnel-ip': { env: 'NSM_TUNNEL_IP', help: "the forwarder's VXLAN tunnel address" },
  'forwarder-network-service-name': { env: 'NSM_FORWARDER_NETWORK_SERVICE_NAME', help: 'the service forwarders register under' },
  'excluded-prefixes-file': { env: 'NSM_EXCLUDED_PREFIXES_FILE', help: 'YAML file of prefixes no endpoint may hand out (watched)' },
  'max-token-lifetime': { env: 'NSM_MAX_TOKEN_LIFETIME', help: "lifetime of this role's tokens (path segment expiry)" },
  'dial-timeout': { env: 'NSM_DIAL_TIMEOUT', help: 'how long one dial may take' },
  'request-timeout': { env: 'NSM_REQUEST_TIMEOUT', help: 'how long one request attempt may take' },
  'start-timeout': { env: 'NSM_START_TIMEOUT', help: 'how long to keep retrying at start before exiting 1 (0: forever)' },
  'expire-period': { env: 'NSM_EXPIRE_PERIOD', help: 'how late an expired registration may be removed' },
  'log-level': { env: 'NSM_LOG_LEVEL', help: 'trace, debug, info, warn, error (fatal, panic) or silent' },
  apply: { env: 'NSM_APPLY', help: 'a YAML file of NetworkService manifests to load' },
  stay: { env: 'NSM_STAY', help: 'keep the demo domain running until Ctrl-C', boolean: true },
  'spiffe-endpoint-socket': { env: 'SPIFFE_ENDPOINT_SOCKET', help: "the SPIFFE Workload API (a SPIRE agent) giving this role's identity" },
  'svid-dir': { env: 'NSM_SVID_DIR', help: 'a directory with svid.pem, svid_key.pem, svid_bundle.pem (as spiffe-helper writes them)' },
  'trust-domain-dir': { env: 'NSM_TRUST_DOMAIN_DIR', help: 'a development CA (nsm trust-domain init): the role mints its own SVID' },
  insecure: { env: 'NSM_INSECURE', help: 'plaintext, unsigned tokens, no policies (trusted machines only)', boolean: true },
} as const satisfies Record<string, SettingInfo>;

/** A flag name. */
export type SettingName = keyof typeof SETTINGS;

/** How a sub-command reads one setting. */
export interface RoleSetting {
  /** The default, written as a user would write it; none when the setting is required or has no default. */
  readonly default?: string;
  /** The default as `--help` shows it, when it is computed (e.g. from the name). */
  readonly defaultHelp?: string;
  /** The role cannot start without it. */
  readonly required?: boolean;
}

/** A sub-command and the settings it reads. */
export interface CommandSpec {
  /** One line on what it runs. */
  readonly summary: string;
  /** The settings it reads, in `--help` order. */
  readonly settings: Readonly<Partial<Record<SettingName, RoleSetting>>>;
}

/** The socket path a role listens on by default, shown in `--help`. */
const TMP_SOCKET = 'unix://<tmpdir>/nsm/<name>.sock';
/** Upstream's manager socket, where its clients, endpoints and forwarders connect by default. */
export const DEFAULT_CONNECT_TO = 'unix:///var/lib/networkservicemesh/nsm.io.sock';
/** Upstream's default token lifetime (every cmd-* has `NSM_MAX_TOKEN_LIFETIME=10m`). */
const TOKEN_LIFETIME = { default: '10m' } as const;
const START_TIMEOUT = { default: '1m' } as const;
const LOG_LEVEL = { default: 'info' } as const;
/** Where a role's identity comes from (see docs/security.md); one of them is needed. */
const IDENTITY = { 'spiffe-endpoint-socket': {}, 'svid-dir': {}, 'trust-domain-dir': {}, insecure: {} } as const;

/** The sub-commands that run a role, and the demo. */
export const COMMANDS = {
  registry: {
    summary: 'a memory registry of NetworkServices and endpoints',
    settings: {
      name: { default: 'registry' },
      'listen-on': { default: 'tcp://127.0.0.1:5002' },
      apply: {},
      'max-token-lifetime': TOKEN_LIFETIME,
      'expire-period': { default: '1s' },
      'log-level': LOG_LEVEL,
      ...IDENTITY,
    },
  },
  nsmgr: {
    summary: "a Network Service Manager (one per node), passing registrations on to the registry",
    settings: {
      name: { default: 'nsmgr' },
      'listen-on': { default: 'tcp://127.0.0.1:5001' },
      'registry-url': { required: true },
      'forwarder-network-service-name': { default: 'forwarder' },
      'excluded-prefixes-file': { default: '/var/lib/networkservicemesh/config/excluded_prefixes.yaml' },
      'max-token-lifetime': TOKEN_LIFETIME,
      'dial-timeout': { default: '750ms' },
      'start-timeout': START_TIMEOUT,
      'log-level': LOG_LEVEL,
      ...IDENTITY,
    },
  },
  forwarder: {
    summary: 'a forwarder with the no-op data plane, registered at its manager',
    settings: {
      name: { default: 'forwarder' },
      'connect-to': { default: DEFAULT_CONNECT_TO },
      'listen-on': { defaultHelp: TMP_SOCKET },
      labels: { default: 'p2p=true' },
      'tunnel-ip': { default: '127.0.0.1' },
      'max-token-lifetime': TOKEN_LIFETIME,
      'dial-timeout': { default: '750ms' },
      'start-timeout': START_TIMEOUT,
      'log-level': LOG_LEVEL,
      ...IDENTITY,
    },
  },
  nse: {
    summary: 'the icmp-responder sample endpoint, registered (with its services) at its manager',
    settings: {
      name: { default: 'icmp-responder' },
      'connect-to': { default: DEFAULT_CONNECT_TO },
      'listen-on': { defaultHelp: TMP_SOCKET },
      'service-names': { default: 'icmp-responder' },
      labels: {},
      'cidr-prefix': { default: '169.254.0.0/16' },
      payload: { default: 'IP' },
      'register-service': { default: 'true' },
      'unregister-itself': { default: 'true' },
      'dns-configs': { default: '[]' },
      'idle-timeout': { default: '0' },
      'ipam-policy': { default: 'polite' },
      'max-token-lifetime': TOKEN_LIFETIME,
      'start-timeout': START_TIMEOUT,
      'log-level': LOG_LEVEL,
      ...IDENTITY,
    },
  },
  nsc: {
    summary: 'a client: requests network services and keeps the connections (refresh, heal) until stopped',
    settings: {
      name: { default: 'nsc' },
      'connect-to': { default: DEFAULT_CONNECT_TO },
      'network-services': { required: true },
      labels: {},
      mechanism: { default: 'kernel' },
      'request-timeout': { default: '15s' },
      'dial-timeout': { default: '5s' },
      'max-token-lifetime': TOKEN_LIFETIME,
      'start-timeout': START_TIMEOUT,
      'log-level': LOG_LEVEL,
      ...IDENTITY,
    },
  },
  demo: {
    summary: 'a whole domain on loopback, one process per role, and a client',
    settings: { stay: {}, 'log-level': LOG_LEVEL },
  },
} as const satisfies Record<string, CommandSpec>;

/** A sub-command's name. */
export type CommandName = keyof typeof COMMANDS;

/** Whether `name` is a sub-command. */
export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** `nsm <command> --help`: the command's flags, their variables and defaults. */
export function commandHelp(command: CommandName): string {
  const spec: CommandSpec = COMMANDS[command];
  const entries = Object.entries(spec.settings) as [SettingName, RoleSetting][];
  const flagWidth = Math.max(...entries.map(([flag]) => flag.length)) + 2;
  const envWidth = Math.max(...entries.map(([flag]) => SETTINGS[flag].env.length));
  const rows = entries.map(([flag, setting]) => {
    const info: SettingInfo = SETTINGS[flag];
    const value = setting.required === true ? 'required' : (setting.default ?? setting.defaultHelp);
    const shown = info.boolean === true ? 'off' : value === undefined ? 'none' : value;
    return `  ${`--${flag}`.padEnd(flagWidth)}  ${info.env.padEnd(envWidth)}  ${info.help} [${setting.required === true ? shown : `default: ${shown}`}]`;
  });
  return [
    `usage: nsm ${command} [flags]`,
    '',
    `Runs ${spec.summary}.`,
    '',
    'flags (each also read from its environment variable; a flag wins):',
    ...rows,
  ].join('\n');
}
