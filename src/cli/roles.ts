/**
 * The roles the `nsm` command runs, each built from the SDK's chains and nothing else: read the settings,
 * serve, report ready, and on stop release everything (connections closed, registrations removed).
 * @module
 */
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import type { Subscription } from 'rxjs';
import { join } from 'node:path';
import { Connection } from '../api/gen/connection.js';
import { NetworkService, NetworkServiceEndpoint } from '../api/gen/registry.js';
import { Payload } from '../api/constants.js';
import type { ChainContext } from '../networkservice/core/context.js';
import type { NetworkServiceServer } from '../networkservice/core/types.js';
import { createClient } from '../networkservice/chains/client/client.js';
import { endpointChain } from '../networkservice/chains/endpoint/chain.js';
import { serveEndpoint } from '../networkservice/chains/endpoint/serve.js';
import { serveForwarder } from '../networkservice/chains/forwarder/serve.js';
import { noopDataplane } from '../networkservice/chains/forwarder/chain.js';
import { serveNsmgr } from '../networkservice/chains/nsmgr/serve.js';
import { mechanismsServer } from '../networkservice/common/mechanisms/index.js';
import { kernelMechanismPreference, kernelMechanismServer } from '../networkservice/mechanisms/kernel/index.js';
import { vxlanMechanismServer } from '../networkservice/mechanisms/vxlan/index.js';
import { point2pointServer } from '../networkservice/ipam/point2point/index.js';
import { createRegistryClient } from '../registry/chains/client/client.js';
import { serveRegistryServer } from '../registry/chains/server/serve.js';
import { errorMessage } from '../tools/grpc/status.js';
import { ConfigError, type Settings } from './config.js';

/** A role that runs. */
export interface Running {
  /** Where it serves, if it serves. */
  readonly url?: string;
  /** Releases everything it holds and stops. */
  stop(): Promise<void>;
}

/** What a role gets: its settings, a context (logger), and stdout for its one ready line (or output). */
export interface RoleEnv {
  readonly settings: Settings;
  readonly ctx: ChainContext;
  readonly out: (line: string) => void;
}

/** A role's entry point. */
export type Role = (env: RoleEnv) => Promise<Running>;

const socketIn = (name: string): string => `unix://${join(tmpdir(), 'nsm', `${name}.sock`)}`;

/** `nsm registry`: a memory registry (NetworkServices and endpoints, with expiry). */
export const registryRole: Role = async ({ settings, ctx, out }) => {
  const name = settings.string('name', 'registry');
  const listenOn = settings.address('listen-on', 'tcp://127.0.0.1:5002');
  const apply = settings.raw('apply');
  const served = await serveRegistryServer(listenOn, { ctx });
  if (apply !== undefined) {
    try {
      const { applyNetworkServiceManifests, loadNetworkServiceManifests } = await import('../tools/manifest/index.js');
      const admin = createRegistryClient({ connectTo: served.url, ctx });
      try {
        const applied = await applyNetworkServiceManifests(admin, await loadNetworkServiceManifests(apply));
        out(`${name}: applied ${applied.length} NetworkService(s) from ${apply}`);
      } finally {
        admin.abandon();
      }
    } catch (error) {
      await served.stop();
      throw new ConfigError(`--apply / NSM_APPLY: ${errorMessage(error).replace(/\n/g, '; ')}`);
    }
  }
  out(`${name} ready on ${served.url}`);
  return { url: served.url, stop: () => served.stop() };
};

/** `nsm nsmgr`: a Network Service Manager. */
export const nsmgrRole: Role = async ({ settings, ctx, out }) => {
  const name = settings.string('name', 'nsmgr');
  const registryURL = settings.address('registry-url');
  const listenOn = settings.address('listen-on', 'tcp://127.0.0.1:5001');
  const served = await serveNsmgr(listenOn, { name, registryURL, ctx });
  out(`${name} ready on ${served.url}`);
  return { url: served.url, stop: () => served.stop() };
};

/** `nsm forwarder`: a forwarder with the no-op data plane (VXLAN from `--tunnel-ip`), registered at its manager. */
export const forwarderRole: Role = async ({ settings, ctx, out }) => {
  const name = settings.string('name', 'forwarder');
  const connectTo = settings.address('connect-to');
  const listenOn = settings.address('listen-on', socketIn(name));
  const labels = settings.labels('labels');
  const tunnelIP = settings.string('tunnel-ip', '127.0.0.1');
  if (isIP(tunnelIP) === 0) throw new ConfigError(`--tunnel-ip / NSM_TUNNEL_IP: "${tunnelIP}" is not an IP address`);
  const served = await serveForwarder(listenOn, {
    name,
    connectTo,
    ctx,
    dataplane: noopDataplane({ tunnelIP }),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
  });
  out(`${name} ready on ${served.url}`);
  return { url: served.url, stop: () => served.stop() };
};

/** `nsm nse`: the icmp-responder sample endpoint, registered (with its services) at its manager. */
export const nseRole: Role = async ({ settings, ctx, out }) => {
  const name = settings.string('name', 'icmp-responder');
  const connectTo = settings.address('connect-to');
  const listenOn = settings.address('listen-on', socketIn(name));
  const services = settings.list('service-names', ['icmp-responder']);
  const labels = settings.labels('labels');
  const cidrs = settings.list('cidr-prefix', ['169.254.0.0/16']);
  const lifetime = new AbortController();
  let ipam: NetworkServiceServer;
  try {
    ipam = point2pointServer(cidrs);
  } catch (error) {
    throw new ConfigError(`--cidr-prefix / NSM_CIDR_PREFIX: ${errorMessage(error)}`);
  }
  const chain = endpointChain({
    name,
    signal: lifetime.signal,
    additionalFunctionality: [ipam, mechanismsServer({ KERNEL: kernelMechanismServer(), VXLAN: vxlanMechanismServer({ dstIP: '127.0.0.1' }) })],
  });
  const served = await serveEndpoint(listenOn, chain, { ctx });
  const registry = createRegistryClient({ connectTo, ctx });
  try {
    // A service that exists already (for instance loaded with `nsm registry --apply`) keeps its matches.
    for (const service of services) {
      const known = await registry.findServices({ name: service });
      if (!known.some((ns) => ns.name === service)) await registry.registerService(NetworkService.fromPartial({ name: service, payload: Payload.IP }));
    }
    await registry.registerEndpoint(
      NetworkServiceEndpoint.fromPartial({
        name,
        url: served.url,
        networkServiceNames: services,
        networkServiceLabels: Object.fromEntries(services.map((s) => [s, { labels: { ...labels } }])),
      }),
    );
  } catch (error) {
    registry.abandon();
    await served.stop();
    lifetime.abort();
    throw new Error(`cannot register at ${connectTo}: ${errorMessage(error)}`, { cause: error });
  }
  out(`${name} ready on ${served.url}, serving ${services.join(', ')}`);
  return {
    url: served.url,
    stop: async () => {
      await served.stop();
      await registry.close({ timeoutMs: 3000 });
      lifetime.abort();
    },
  };
};

/**
 * `nsm nsc`: requests each network service, prints every connection as one JSON line when it is
 * established and again whenever it changes (refresh, heal), keeps them until stopped, then closes them.
 */
export const nscRole: Role = async ({ settings, ctx, out }) => {
  const name = settings.string('name', 'nsc');
  const connectTo = settings.address('connect-to');
  const urls = settings.networkServices('network-services');
  const requests = urls.map((url) => {
    try {
      return {
        connection: { networkService: url.networkService, labels: { ...url.labels } },
        mechanismPreferences: [kernelMechanismPreference(url.interfaceName === '' ? undefined : url.interfaceName)],
      };
    } catch (error) {
      throw new ConfigError(`--network-services / NSM_NETWORK_SERVICES: ${errorMessage(error)}`);
    }
  });
  const client = createClient({ name, connectTo, ctx, retry: { intervalMs: 500, timeoutMs: 60_000 } });
  const subscriptions: Subscription[] = [];
  try {
    for (const request of requests) {
      const conn = await client.request(request, { timeoutMs: 60_000 });
      subscriptions.push(client.watch(conn).subscribe((c) => out(JSON.stringify(Connection.toJSON(c)))));
    }
  } catch (error) {
    await client.dispose();
    throw error;
  }
  return {
    stop: async () => {
      for (const s of subscriptions) s.unsubscribe();
      await client.dispose({ timeoutMs: 5000 });
    },
  };
};
