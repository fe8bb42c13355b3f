/**
 * Upstream's variables for features `nsm` does not have (pprof, OpenTelemetry, OPA policies, a local DNS
 * server, ...). Each is checked for the sub-commands whose upstream counterpart reads it: a value that asks
 * for the missing feature is a configuration error naming the variable, never silently ignored; a value
 * that keeps it off (which is what `nsm` does) is accepted, so upstream's manifests work unchanged. The
 * variables upstream reads only while such a feature is on (`NSM_PPROF_LISTEN_ON`) are accepted as they are
 * inert there too, after a check that they parse.
 * @module
 */
import type { CommandName } from './catalog.js';
import { parseBool, parseDuration } from './values.js';

/** The environment variables, by name. */
export type Env = Readonly<Record<string, string | undefined>>;

/** One upstream variable without a counterpart here. */
export interface UpstreamVariable {
  /** The variable. */
  readonly env: string;
  /** The sub-commands whose upstream counterpart reads it. */
  readonly commands: readonly CommandName[];
  /** Why the value cannot be honoured, or undefined when it is fine as it is. */
  readonly check: (value: string) => string | undefined;
}

const ALL: readonly CommandName[] = ['registry', 'nsmgr', 'forwarder', 'nse', 'nsc'];

/** Accepted when false: `true` asks for `feature`. */
function offOnly(feature: string): (value: string) => string | undefined {
  return (value) => {
    let on: boolean;
    try {
      on = parseBool(value);
    } catch (error) {
      return (error as Error).message;
    }
    return on ? `${feature} is not supported by nsm (unset it or set it to false)` : undefined;
  };
}

/** Never accepted: whatever its value, the variable asks for `feature`. */
function unsupported(feature: string): () => string {
  return () => `${feature} is not supported by nsm (unset it)`;
}

/** Accepted as it is (upstream reads it only while a feature that is off here is on), once it parses. */
function inert(parse?: (value: string) => unknown): (value: string) => string | undefined {
  return (value) => {
    try {
      parse?.(value);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };
}

/** Accepted when it is one of `values`. */
function oneOf(values: readonly string[], why: string): (value: string) => string | undefined {
  return (value) => (values.includes(value.trim()) ? undefined : why);
}

/** Every upstream variable of the five commands that has no setting of its own here. */
export const UPSTREAM_VARIABLES: readonly UpstreamVariable[] = [
  { env: 'NSM_PPROF_ENABLED', commands: ALL, check: offOnly('pprof (Go profiling)') },
  { env: 'NSM_PPROF_LISTEN_ON', commands: ALL, check: inert() },
  { env: 'TELEMETRY', commands: ALL, check: offOnly('OpenTelemetry export') },
  { env: 'NSM_OPEN_TELEMETRY_ENDPOINT', commands: ALL, check: inert() },
  { env: 'NSM_METRICS_EXPORT_INTERVAL', commands: ALL, check: inert(parseDuration) },
  { env: 'NSM_REGISTRY_CLIENT_POLICIES', commands: ['registry', 'nsmgr', 'forwarder', 'nse'], check: unsupported('OPA registry policies') },
  { env: 'NSM_REGISTRY_SERVER_POLICIES', commands: ['registry', 'nsmgr'], check: unsupported('OPA registry policies') },
  { env: 'NSM_PROXY_REGISTRY_URL', commands: ['registry'], check: unsupported('interdomain (a proxy registry)') },
  { env: 'NSM_AWARENESS_GROUPS', commands: ['nsc'], check: unsupported('awareness groups') },
  { env: 'NSM_LOCAL_DNS_SERVER_ENABLED', commands: ['nsc'], check: offOnly('a local DNS server') },
  { env: 'NSM_LOCAL_DNS_SERVER_ADDRESS', commands: ['nsc'], check: inert() },
  { env: 'NSM_LIVENESS_CHECK_ENABLED', commands: ['nsc'], check: offOnly('a data-plane liveness check (there is no data plane)') },
  { env: 'NSM_LIVENESS_CHECK_INTERVAL', commands: ['nsc'], check: inert(parseDuration) },
  { env: 'NSM_LIVENESS_CHECK_TIMEOUT', commands: ['nsc'], check: inert(parseDuration) },
  { env: 'NSM_PBR_CONFIG_PATH', commands: ['nse'], check: unsupported('policy-based routing') },
  // Declared by upstream's icmp-responder and never used there.
  { env: 'NSM_BASE_DIR', commands: ['nse'], check: inert() },
  {
    env: 'NSM_NSNAME',
    commands: ['forwarder'],
    check: oneOf(['forwarder'], 'a forwarder registers under the service "forwarder" only (set NSM_FORWARDER_NETWORK_SERVICE_NAME on nsmgr to match)'),
  },
  { env: 'NSM_VXLAN_PORT', commands: ['forwarder'], check: oneOf(['0', '4789'], 'the no-op data plane uses the standard VXLAN port (0 or 4789)') },
  { env: 'NSM_MECHANISM_PRIORITY', commands: ['forwarder'], check: unsupported('mechanism priorities') },
  { env: 'PROMETHEUS', commands: ['forwarder'], check: offOnly('a Prometheus endpoint') },
  ...[
    'NSM_PROMETHEUS_LISTEN_ON',
    'NSM_PROMETHEUS_CA_FILE',
    'NSM_PROMETHEUS_KEY_FILE',
    'NSM_PROMETHEUS_CERT_FILE',
    'NSM_PROMETHEUS_MONITOR_CERTIFICATE',
  ].map((env): UpstreamVariable => ({ env, commands: ['forwarder'], check: inert() })),
  ...['NSM_PROMETHEUS_SERVER_HEADER_TIMEOUT', 'NSM_PROMETHEUS_MAX_BIND_THRESHOLD'].map(
    (env): UpstreamVariable => ({ env, commands: ['forwarder'], check: inert(parseDuration) }),
  ),
];

/**
 * The first upstream variable in `env` that `command` cannot honour, as a one-line reason naming it;
 * undefined when there is none. Empty values count as unset, as for every setting.
 */
export function refusedUpstreamVariable(command: CommandName, env: Env): string | undefined {
  for (const variable of UPSTREAM_VARIABLES) {
    if (!variable.commands.includes(command)) continue;
    const value = env[variable.env]?.trim();
    if (value === undefined || value === '') continue;
    const why = variable.check(value);
    if (why !== undefined) return `${variable.env}=${value}: ${why}`;
  }
  return undefined;
}

/** Whether upstream's `command` reads `name` (so it is known, even where it has no effect here). */
export function isUpstreamVariable(command: CommandName, name: string): boolean {
  return UPSTREAM_VARIABLES.some((v) => v.env === name && v.commands.includes(command));
}
