/**
 * `nsm nse`: the icmp-responder sample endpoint. It serves, then registers its services (unless
 * `NSM_REGISTER_SERVICE=false`) and itself through its manager, waiting for the manager when it is not up
 * yet; it gives every connection point-to-point addresses and the DNS configs of `NSM_DNS_CONFIGS`, and with
 * `NSM_IDLE_TIMEOUT` it stops by itself once it has had no connection for that long.
 * @module
 */
import type { Connection } from '../../api/gen/connection.js';
import { DNSConfig } from '../../api/gen/connectioncontext.js';
import type { NetworkServiceRequest } from '../../api/gen/networkservice.js';
import { NetworkService, NetworkServiceEndpoint } from '../../api/gen/registry.js';
import { Payload } from '../../api/constants.js';
import type { ChainContext } from '../../networkservice/core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler, NetworkServiceServer } from '../../networkservice/core/types.js';
import { endpointChain } from '../../networkservice/chains/endpoint/chain.js';
import { serveEndpoint } from '../../networkservice/chains/endpoint/serve.js';
import { mechanismsServer } from '../../networkservice/common/mechanisms/index.js';
import type { ConnectionMonitor } from '../../networkservice/common/monitor/index.js';
import { kernelMechanismServer } from '../../networkservice/mechanisms/kernel/index.js';
import { vxlanMechanismServer } from '../../networkservice/mechanisms/vxlan/index.js';
import { point2pointServer } from '../../networkservice/ipam/point2point/index.js';
import { createRegistryClient } from '../../registry/chains/client/client.js';
import { errorMessage } from '../../tools/grpc/status.js';
import { parseIP } from '../../tools/ippool/index.js';
import { ConfigError } from '../config.js';
import { formatDuration } from '../settings/values.js';
import { DRAIN_MS, logConfiguration, positiveDuration, publicHostFor, retryUntil, roleSecurity, socketIn, STOP_CALL_MS, type Role } from './common.js';

/**
 * `NSM_DNS_CONFIGS`: a JSON list of upstream's `DNSConfig` (`[{"dns_server_ips": ["10.0.0.1"],
 * "search_domains": ["my.domain"]}]`, camelCase keys too). Throws an Error naming what is wrong.
 */
export function parseDNSConfigs(text: string): DNSConfig[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON: ${errorMessage(error)}`, { cause: error });
  }
  if (!Array.isArray(value)) throw new Error('expected a JSON list of DNS configs');
  return value.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new Error(`[${i}] is not an object`);
    const fields = item as Record<string, unknown>;
    const strings = (keys: readonly string[]): string[] => {
      const key = keys.find((k) => k in fields);
      const list = key === undefined ? [] : fields[key];
      if (!Array.isArray(list) || !list.every((s): s is string => typeof s === 'string')) throw new Error(`[${i}].${keys[0] ?? ''} must be a list of strings`);
      return list;
    };
    for (const key of Object.keys(fields)) {
      if (!['dns_server_ips', 'dnsServerIps', 'search_domains', 'searchDomains'].includes(key)) {
        throw new Error(`[${i}]: unknown field "${key}" (expected dns_server_ips, search_domains)`);
      }
    }
    const config = DNSConfig.fromPartial({ dnsServerIps: strings(['dns_server_ips', 'dnsServerIps']), searchDomains: strings(['search_domains', 'searchDomains']) });
    const bad = config.dnsServerIps.find((ip) => parseIP(ip) === undefined);
    if (bad !== undefined) throw new Error(`[${i}].dns_server_ips: "${bad}" is not an IP address`);
    return config;
  });
}

/** Adds the endpoint's DNS configs to every connection's DNS context (upstream's `dnscontext` server). */
class DNSConfigsServer implements NetworkServiceElement {
  readonly name = 'nsm-nse/dnsconfigs';
  constructor(private readonly configs: readonly DNSConfig[]) {}

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const context = request.connection?.context;
    if (context !== undefined) {
      context.dnsContext ??= { configs: [] };
      const have = new Set(context.dnsContext.configs.map((c) => JSON.stringify(DNSConfig.toJSON(c))));
      for (const config of this.configs) if (!have.has(JSON.stringify(DNSConfig.toJSON(config)))) context.dnsContext.configs.push(DNSConfig.fromPartial(config));
    }
    return next.request(request, ctx);
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }
}

/** `nsm nse`. */
export const nseRole: Role = async ({ settings, ctx, out, signal }) => {
  const name = settings.string('name');
  const connectTo = settings.address('connect-to');
  const listenOn = settings.address('listen-on', socketIn(name));
  const services = settings.list('service-names');
  if (services.length === 0) throw new ConfigError('--service-names / NSM_SERVICE_NAMES: at least one service is required');
  const labels = settings.labels('labels');
  const cidrs = settings.list('cidr-prefix');
  if (cidrs.some((c) => c.includes('['))) throw new ConfigError('--cidr-prefix / NSM_CIDR_PREFIX: CIDR groups ([a,b],[c]) are not supported; give a comma-separated list');
  const payload = settings.oneOf('payload', [Payload.IP, Payload.ETHERNET]);
  const registerService = settings.bool('register-service');
  const unregisterItself = settings.bool('unregister-itself');
  const dnsConfigs = parseDNSConfigsSetting(settings.string('dns-configs'));
  const idleMs = settings.duration('idle-timeout');
  // Upstream's policies: polite keeps the addresses a client brings, strict drops those not from our pool.
  const strict = settings.oneOf('ipam-policy', ['polite', 'strict']) === 'strict';
  const lifetimeMs = positiveDuration(settings, 'max-token-lifetime');
  const startTimeoutMs = settings.duration('start-timeout');
  let ipam: NetworkServiceServer;
  try {
    ipam = point2pointServer(cidrs, { strict });
  } catch (error) {
    throw new ConfigError(`--cidr-prefix / NSM_CIDR_PREFIX: ${errorMessage(error)}`);
  }
  logConfiguration(ctx, settings);
  const identity = await roleSecurity(settings, ctx, 'nse', name, lifetimeMs);
  const { security } = identity;

  const lifetime = new AbortController();
  const chain = endpointChain({
    name,
    signal: lifetime.signal,
    security,
    additionalFunctionality: [
      ipam,
      ...(dnsConfigs.length > 0 ? [new DNSConfigsServer(dnsConfigs)] : []),
      mechanismsServer({ KERNEL: kernelMechanismServer(), VXLAN: vxlanMechanismServer({ dstIP: '127.0.0.1' }) }),
    ],
  });
  const served = await serveEndpoint(listenOn, chain, { ctx, drainTimeoutMs: DRAIN_MS, security, ...publicHostFor(listenOn) }).catch((error: unknown) => {
    identity.close();
    throw error;
  });
  const registry = createRegistryClient({ connectTo, ctx, chain: { security, name } });
  const release = async (unregister: boolean): Promise<void> => {
    await Promise.all([served.stop(), unregister ? registry.close({ timeoutMs: STOP_CALL_MS }) : registry.abandon()]);
    lifetime.abort();
    identity.close();
  };
  const nse = NetworkServiceEndpoint.fromPartial({
    name,
    url: served.url,
    networkServiceNames: services,
    networkServiceLabels: Object.fromEntries(services.map((s) => [s, { labels: { ...labels } }])),
  });
  try {
    await retryUntil({
      what: `register ${name}`,
      where: connectTo,
      peer: 'manager',
      signal,
      timeoutMs: startTimeoutMs,
      timeoutSetting: 'NSM_START_TIMEOUT',
      logger: ctx.logger,
      attempt: async (attemptSignal, timeoutMs) => {
        const call = { signal: attemptSignal, timeoutMs: Math.min(timeoutMs ?? 15_000, 15_000) };
        // Finds are not retried inside the registry client, so the first one fails at once with the real
        // reason when the manager is not there; registrations retry inside it.
        for (const [i, service] of services.entries()) {
          if (!registerService && i > 0) break;
          const known = await registry.findServices({ name: service }, call);
          // A service that exists already (for instance loaded with `nsm registry --apply`) keeps its matches.
          if (registerService && !known.some((ns) => ns.name === service)) {
            await registry.registerService(NetworkService.fromPartial({ name: service, payload }), call);
          }
        }
        await registry.registerEndpoint(nse, call);
      },
    });
  } catch (error) {
    await release(false);
    throw error;
  }
  out(`${name} ready on ${served.url}, serving ${services.join(', ')}`);
  return { url: served.url, stop: () => release(unregisterItself), ...(idleMs > 0 ? { done: idle(chain.monitor, idleMs, lifetime.signal, ctx, name) } : {}) };
};

function parseDNSConfigsSetting(text: string): DNSConfig[] {
  try {
    return parseDNSConfigs(text);
  } catch (error) {
    throw new ConfigError(`--dns-configs / NSM_DNS_CONFIGS: ${errorMessage(error)}`);
  }
}

/**
 * Resolves once the endpoint has held no connection for `idleMs` (upstream's `onidle`): the clock starts at
 * once, stops while a connection is held, and starts again when the last one closes.
 */
function idle(monitor: ConnectionMonitor, idleMs: number, lifetime: AbortSignal, ctx: ChainContext, name: string): Promise<void> {
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      if (timer !== undefined || lifetime.aborted) return;
      timer = setTimeout(() => {
        subscription.unsubscribe();
        ctx.logger.info(`nsm nse: ${name} had no connection for ${formatDuration(idleMs)} (NSM_IDLE_TIMEOUT); stopping`);
        resolve();
      }, idleMs);
    };
    const subscription = monitor.events().subscribe(() => {
      if (monitor.list().length > 0) {
        clearTimeout(timer);
        timer = undefined;
      } else arm();
    });
    arm();
    lifetime.addEventListener('abort', () => {
      clearTimeout(timer);
      subscription.unsubscribe();
    });
  });
}
