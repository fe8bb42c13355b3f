/**
 * The registry roles under fuzz: a registry server, and the registry side of a manager (served on the
 * manager's URL, in a sandbox domain). Each holds live registrations made by real registry clients; its
 * snapshot is what a Find of everything returns plus the role's open watches and expiry timers, and its
 * health check is a real client's register, find and unregister.
 */
import type { NetworkService, NetworkServiceEndpoint } from '../../src/api/gen/registry.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/chains/client/client.js';
import { serveRegistryServer } from '../../src/registry/chains/server/serve.js';
import { grpcTarget, parseAddress } from '../../src/tools/grpc/address.js';
import { createDomain, testTokenGenerator } from '../../src/tools/sandbox/index.js';
import type { Known } from './arbitraries.js';
import type { FuzzTarget } from './harness.js';

/** A registry role under fuzz. */
export interface RegistryTarget extends FuzzTarget {
  /** What it holds, for the arbitraries. */
  readonly known: Known;
  /** The names of the live registrations: cases naming them are spoiled (see registry-arbitraries.ts). */
  readonly live: ReadonlySet<string>;
  /** Ends everything. */
  stop(): Promise<void>;
}

/** Registrations without what refreshes change (expiry, path ids). */
async function registrations(admin: RegistryClient): Promise<Record<string, unknown>> {
  const services = (await admin.findServices({})).map((ns: NetworkService) => [ns.name, ns.payload, ns.matches]);
  const endpoints = (await admin.findEndpoints({})).map((nse: NetworkServiceEndpoint) => [nse.name, nse.url, nse.networkServiceNames, nse.networkServiceLabels]);
  const byName = (a: unknown[], b: unknown[]): number => String(a[0]).localeCompare(String(b[0]));
  return { services: services.sort(byName), endpoints: endpoints.sort(byName) };
}

function knownOf(names: Iterable<string>): Known {
  return { names: [], ids: [], paths: [], services: [...names] };
}

/** Throws unless an endpoint can be registered, found and unregistered through `url`. */
async function registerFindUnregister(client: RegistryClient): Promise<void> {
  const name = 'nse-health-probe';
  await client.registerEndpoint({ name, url: 'tcp://127.0.0.1:1', networkServiceNames: ['svc-health'] }, { timeoutMs: 5000 });
  const found = await client.findEndpoints({ name }, { timeoutMs: 5000 });
  if (!found.some((nse) => nse.name === name)) throw new Error(`a registered endpoint was not found: ${JSON.stringify(found.map((n) => n.name))}`);
  await client.unregisterEndpoint(name, { timeoutMs: 5000 });
}

/** A registry server with a live NetworkService and a live endpoint, both kept by a real client. */
export async function registryServerTarget(): Promise<RegistryTarget> {
  const registry = await serveRegistryServer('tcp://127.0.0.1:0', { tokenGenerator: testTokenGenerator('registry'), server: { drainTimeoutMs: 500 } });
  const owner = createRegistryClient({ connectTo: registry.url });
  const admin = createRegistryClient({ connectTo: registry.url });
  const probe = createRegistryClient({ connectTo: registry.url });
  await owner.registerService({ name: 'svc-live', payload: 'IP', matches: [{ sourceSelector: { app: 'a' }, routes: [{ destinationSelector: { app: 'b' }, weight: 1 }], fallthrough: false, metadata: undefined }] });
  await owner.registerEndpoint({ name: 'nse-live', url: 'tcp://127.0.0.1:5003', networkServiceNames: ['svc-live'], networkServiceLabels: { 'svc-live': { labels: { app: 'b' } } } });
  const live = new Set(['svc-live', 'nse-live']);
  return {
    name: 'registry',
    address: grpcTarget(parseAddress(registry.url)),
    known: knownOf(live),
    live,
    snapshot: async () => ({
      ...(await registrations(admin)),
      'open finds': [registry.nsBinding.openFinds, registry.nseBinding.openFinds],
      'expiry timers': registry.nseChain.expire.pending,
    }),
    healthy: () => registerFindUnregister(probe),
    stop: async () => {
      for (const client of [probe, admin, owner]) await client.close({ timeoutMs: 2000 });
      await registry.stop();
    },
  };
}

/** A sandbox domain; the target is its manager's registry side. */
export async function managerRegistryTarget(): Promise<RegistryTarget> {
  const domain = await createDomain({ nodes: 1, discoverWaitMs: 100 });
  await domain.registerService({ name: 'svc' });
  const node = domain.nodes[0];
  if (node === undefined) throw new Error('the domain has no node');
  await node.addEndpoint({ name: 'nse-1', networkServices: ['svc'] });
  const probe = createRegistryClient({ connectTo: node.nsmgr.url, chain: { security: domain.security('nse', 'probe'), name: 'probe' } });
  const fuzzer = domain.security('nse', 'fuzzer');
  const nsc = node.client({ name: 'nsc-probe', heal: false, refresh: false });
  // One Request before the baseline: the discovery caches of the manager and forwarder then hold their
  // watches for 'svc' (bounded state, kept on purpose), and the fuzz must not add to them.
  await nsc.close(await nsc.request({ connection: { networkService: 'svc' } }, { timeoutMs: 10_000 }));
  const before = await registrations(domain.admin);
  const names = [before.services, before.endpoints].flatMap((list) => (list as unknown[][]).map((entry) => String(entry[0])));
  const live = new Set(names);
  const nsmgr = node.nsmgr;
  return {
    name: 'nsmgr registry',
    address: grpcTarget(parseAddress(nsmgr.url)),
    credentials: () => fuzzer.channelCredentials(),
    known: knownOf(live),
    live,
    snapshot: async () => ({
      ...(await registrations(domain.admin)),
      'nsmgr open finds': [nsmgr.nsBinding.openFinds, nsmgr.nseBinding.openFinds],
      'registry open finds': [domain.registry.nsBinding.openFinds, domain.registry.nseBinding.openFinds],
      'nsmgr local endpoints': nsmgr.registry.localBypass.size,
      'expiry timers': [nsmgr.registry.expire.pending, domain.registry.nseChain.expire.pending],
    }),
    healthy: async () => {
      await registerFindUnregister(probe);
      // Discovery through the manager's registry still works: a real request reaches the endpoint.
      const conn = await nsc.request({ connection: { networkService: 'svc' } }, { timeoutMs: 10_000 });
      await nsc.close(conn);
    },
    stop: async () => {
      await probe.close({ timeoutMs: 2000 });
      await domain.stop();
    },
  };
}
