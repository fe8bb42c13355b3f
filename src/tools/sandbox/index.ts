/**
 * The sandbox: whole NSM domains in one process, for tests (ours and yours). A domain has a registry
 * and N nodes; each node has a manager and one or more forwarders; endpoints and clients are added to
 * any node. Everything is real gRPC: managers listen on loopback TCP (other nodes reach them), while
 * forwarders and endpoints listen on unix sockets in a temporary directory, as node-local peers do (so
 * forwarders pick kernel mechanisms towards them and VXLAN between nodes). Every server can be killed
 * (as a crash) or restarted on its address.
 *
 * ```ts
 * const domain = await createDomain({ nodes: 2 });
 * await domain.registerService({ name: 'icmp-responder' });
 * await domain.nodes[1].addEndpoint({ name: 'nse-1', networkServices: ['icmp-responder'] });
 * const client = domain.nodes[0].client();
 * const conn = await client.request({ connection: { networkService: 'icmp-responder' } });
 * await client.close(conn);
 * await domain.stop();
 * ```
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkService, type DeepPartial } from '../../api/gen/registry.js';
import { ChainContext } from '../../networkservice/core/context.js';
import { createClient, type NsmClient, type NsmClientOptions } from '../../networkservice/chains/client/client.js';
import { serveForwarder, type ServedForwarder } from '../../networkservice/chains/forwarder/serve.js';
import { noopDataplane, type Dataplane } from '../../networkservice/chains/forwarder/chain.js';
import { serveNsmgr, type ServedNsmgr } from '../../networkservice/chains/nsmgr/serve.js';
import { kernelMechanismClient } from '../../networkservice/mechanisms/kernel/index.js';
import { ChannelPool } from '../../networkservice/common/dial/index.js';
import { createRegistryClient, type RegistryClient } from '../../registry/chains/client/client.js';
import { serveRegistryServer, type ServedRegistry } from '../../registry/chains/server/serve.js';
import type { Labels } from '../matchutils/labels.js';
import type { TokenGenerator } from '../token/index.js';
import type { Security } from '../security/index.js';
import { SandboxTrust } from './security.js';
import { CountingServer } from './helpers.js';

/** Options of {@link createDomain}. */
export interface DomainOptions {
  /** Number of nodes; default 1. */
  readonly nodes?: number;
  /** Forwarders per node; default 1. */
  readonly forwarders?: number;
  /** `unix` (default): forwarders and endpoints on unix sockets; `tcp`: everything on loopback TCP. */
  readonly transport?: 'unix' | 'tcp';
  /** The context every role runs in (clock, logger). */
  readonly ctx?: ChainContext;
  /**
   * `mtls` (the default): every role has an SVID of a fresh dev trust domain, serves and dials with mTLS,
   * signs ES256 tokens and authorizes with the default policies. `insecure`: plaintext, unsigned tokens,
   * no policies (tests about insecure mode).
   */
  readonly security?: 'mtls' | 'insecure';
  /** Every role's `NSM_MAX_TOKEN_LIFETIME` (ms); default 10 minutes (an hour insecure). */
  readonly tokenLifetimeMs?: number;
  /** Each role's SVID lifetime (ms), rotated at half of it; default one hour. For rotation tests. */
  readonly svidLifetimeMs?: number;
  /** Replaces each role's token generator (tests of tokens themselves); default the role's security's. */
  readonly tokenGenerator?: (name: string) => TokenGenerator;
  /** Longest lifetime of a registration (ms), for the registry and the managers; default one minute. */
  readonly registrationLifetimeMs?: number;
  /** How long discovery waits for endpoints and forwarders that are not registered yet (ms); default 5000. */
  readonly discoverWaitMs?: number;
  /** Prefixes the managers tell endpoints to keep clear of. */
  readonly excludedPrefixes?: readonly string[];
}

export { CountingServer, testTokenGenerator } from './helpers.js';

export type { SandboxEndpoint, SandboxEndpointOptions } from './endpoint.js';
import { startSandboxEndpoint, type SandboxEndpoint, type SandboxEndpointOptions } from './endpoint.js';

/** One node: a manager and its forwarders. */
export interface SandboxNode {
  /** Its position in {@link Domain.nodes}; the manager is named `nsmgr-<index>`. */
  readonly index: number;
  /** The current manager (a new one after {@link SandboxNode.restartNsmgr}). */
  readonly nsmgr: ServedNsmgr;
  /** The node's forwarders, in the order they were added. */
  readonly forwarders: readonly ServedForwarder[];
  /** Adds an endpoint on this node, registered through this node's manager. */
  addEndpoint(options: SandboxEndpointOptions): Promise<SandboxEndpoint>;
  /** Adds a forwarder with the given labels (default `p2p=true`). */
  addForwarder(name?: string, labels?: Labels, dataplane?: Dataplane): Promise<ServedForwarder>;
  /** A client of this node's manager, offering a kernel interface; its connections are labelled `nodeName=node-<index>` by the manager. */
  client(options?: Omit<NsmClientOptions, 'connectTo' | 'ctx'>): NsmClient;
  /**
   * Kills the manager and starts a fresh one (no memory) on the same address; with `newAddress`, on a new
   * port instead, and then the node's forwarders are restarted against it and its endpoints register
   * through it (as a node whose manager came back elsewhere would).
   */
  restartNsmgr(options?: { readonly newAddress?: boolean }): Promise<void>;
  /** Kills the manager for good (a node that died). */
  killNsmgr(): Promise<void>;
  /** Kills forwarder `index` and starts a fresh one with the same name, labels and address. */
  restartForwarder(index: number): Promise<ServedForwarder>;
  /**
   * Kills forwarder `index` (a crash: its registration stays until it expires) and drops it from
   * {@link SandboxNode.forwarders}; `addForwarder` then brings a replacement with another name and address.
   */
  killForwarder(index: number): Promise<void>;
}

/** A running sandbox domain. */
export interface Domain {
  /** The current registry (a new one after {@link Domain.restartRegistry}). */
  readonly registry: ServedRegistry;
  /** The nodes, in order. */
  readonly nodes: readonly SandboxNode[];
  /** The context every role runs in. */
  readonly ctx: ChainContext;
  /** The trust bundle (the dev CA, PEM) every role's SVID chains to; undefined when insecure. */
  readonly trustBundlePem: string | undefined;
  /**
   * A security for one more workload of the domain (`spiffe://sandbox.local/<role>/<name>`), for tests that
   * call the roles themselves: a raw gRPC client, an attacker inside the trust domain. Insecure when the
   * domain is. It lives as long as the domain.
   */
  security(role: string, name: string): Security;
  /** Registers a NetworkService in the registry. */
  registerService(ns: DeepPartial<NetworkService>): Promise<NetworkService>;
  /** The endpoints added so far. */
  readonly endpoints: ReadonlyMap<string, SandboxEndpoint>;
  /** A registry client of the domain's registry (finds, registrations of the test's own). */
  readonly admin: RegistryClient;
  /** What reached the forwarder of this name (its data plane's incoming side), across its restarts. */
  forwarderCounter(name: string): CountingServer;
  /** Kills the registry and starts an empty one on the same address. */
  restartRegistry(): Promise<void>;
  /** Stops clients' channels, endpoints, forwarders, managers and the registry; removes the socket directory. */
  stop(): Promise<void>;
}

/** Builds and starts a domain. */
export async function createDomain(options: DomainOptions = {}): Promise<Domain> {
  const ctx = options.ctx ?? ChainContext.background();
  const trust = await SandboxTrust.create({
    mode: options.security ?? 'mtls',
    ...(options.tokenLifetimeMs === undefined ? {} : { tokenLifetimeMs: options.tokenLifetimeMs }),
    ...(options.svidLifetimeMs === undefined ? {} : { svidLifetimeMs: options.svidLifetimeMs }),
  });
  const given = options.tokenGenerator;
  // The role's own security, and its token generator unless the test gives one.
  const roleOptions = (role: string, name: string): { security: Security; tokenGenerator?: TokenGenerator } => ({
    security: trust.security(role, name),
    ...(given === undefined ? {} : { tokenGenerator: given(name) }),
  });
  const dir = mkdtempSync(join(tmpdir(), 'nsm-sandbox-'));
  const tcp = options.transport === 'tcp';
  const local = (name: string): string => (tcp ? 'tcp://127.0.0.1:0' : `unix://${join(dir, `${name}.sock`)}`);
  const lifetime = options.registrationLifetimeMs;
  const discover = { waitMs: options.discoverWaitMs ?? 5000 };
  const clients: NsmClient[] = [];
  const clientChannels = new ChannelPool();
  const endpoints = new Map<string, SandboxEndpoint>();
  const forwarderCounters = new Map<string, CountingServer>();
  const counterOf = (name: string): CountingServer => {
    let counter = forwarderCounters.get(name);
    if (counter === undefined) {
      counter = new CountingServer();
      forwarderCounters.set(name, counter);
    }
    return counter;
  };
  const registryClients: RegistryClient[] = [];
  let cidrs = 0;

  const serveTheRegistry = async (url: string): Promise<ServedRegistry> => {
    const own = roleOptions('registry', 'registry');
    return serveRegistryServer(url, {
      ctx,
      ...own,
      server: { drainTimeoutMs: 500 },
      ...(lifetime === undefined ? {} : { defaultLifetimeMs: lifetime }),
    });
  };
  let registry = await serveTheRegistry('tcp://127.0.0.1:0');
  const registryURL = registry.url;
  const admin = createRegistryClient({ connectTo: registryURL, ctx, chain: { dialOptions: { pool: clientChannels }, security: trust.security('admin', 'admin'), name: 'admin' } });

  const nodes: SandboxNode[] = [];
  const startNsmgr = (index: number, url: string): Promise<ServedNsmgr> =>
    serveNsmgr(url, {
      name: `nsmgr-${index}`,
      registryURL,
      ctx,
      ...roleOptions('nsmgr', `nsmgr-${index}`),
      discover,
      discoverForwarder: discover,
      // Each node has its own name, as NODE_NAME would give a real manager.
      env: { NODE_NAME: `node-${index}` },
      ...(options.excludedPrefixes === undefined ? {} : { excludedPrefixes: options.excludedPrefixes }),
      server: { drainTimeoutMs: 500 },
      ...(lifetime === undefined ? {} : { defaultLifetimeMs: lifetime }),
    });

  for (let index = 0; index < (options.nodes ?? 1); index++) {
    let nsmgr = await startNsmgr(index, 'tcp://127.0.0.1:0');
    const forwarders: ServedForwarder[] = [];
    const nodeEndpoints: SandboxEndpoint[] = [];
    const forwarderSettings = new Map<ServedForwarder, { labels?: Labels | undefined; dataplane?: Dataplane | undefined }>();
    const startForwarder = (name: string, url: string, labels?: Labels, dataplane: Dataplane = noopDataplane()): Promise<ServedForwarder> =>
      serveForwarder(url, {
        name,
        connectTo: nsmgr.url,
        ctx,
        ...roleOptions('forwarder', name),
        discover,
        server: { drainTimeoutMs: 500 },
        ...(labels === undefined ? {} : { labels }),
        dataplane: { server: [counterOf(name), ...dataplane.server], client: dataplane.client },
      });
    const node: SandboxNode = {
      index,
      get nsmgr() {
        return nsmgr;
      },
      forwarders,
      addForwarder: async (name = `forwarder-${index}-${forwarders.length}`, labels?: Labels, dataplane?: Dataplane) => {
        const forwarder = await startForwarder(name, local(name), labels, dataplane);
        forwarders.push(forwarder);
        forwarderSettings.set(forwarder, { labels, dataplane });
        return forwarder;
      },
      restartForwarder: async (i: number) => {
        const old = forwarders[i];
        if (old === undefined) throw new Error(`node ${index} has no forwarder ${i}`);
        const settings = forwarderSettings.get(old);
        await old.kill();
        const fresh = await startForwarder(old.name, old.url, settings?.labels, settings?.dataplane);
        forwarders[i] = fresh;
        forwarderSettings.set(fresh, settings ?? {});
        return fresh;
      },
      addEndpoint: async (endpointOptions: SandboxEndpointOptions) => {
        const endpoint = await startEndpoint(endpointOptions, nsmgr.url);
        endpoints.set(endpoint.name, endpoint);
        nodeEndpoints.push(endpoint);
        return endpoint;
      },
      client: (clientOptions: Omit<NsmClientOptions, 'connectTo' | 'ctx'> = {}) => {
        const name = clientOptions.name ?? `nsc-${clients.length}`;
        const client = createClient({
          name,
          ...roleOptions('nsc', name),
          ...clientOptions,
          connectTo: nsmgr.url,
          ctx,
          dialOptions: { pool: clientChannels },
          additionalFunctionality: [kernelMechanismClient(), ...(clientOptions.additionalFunctionality ?? [])],
        });
        clients.push(client);
        return client;
      },
      restartNsmgr: async (restart: { readonly newAddress?: boolean } = {}) => {
        const url = nsmgr.url;
        await nsmgr.kill();
        nsmgr = await startNsmgr(index, restart.newAddress === true ? 'tcp://127.0.0.1:0' : url);
        if (restart.newAddress !== true) return;
        for (let i = 0; i < forwarders.length; i++) await node.restartForwarder(i);
        for (const endpoint of nodeEndpoints) await endpoint.moveTo(nsmgr.url);
      },
      killForwarder: async (i: number) => {
        const old = forwarders[i];
        if (old === undefined) throw new Error(`node ${index} has no forwarder ${i}`);
        await old.kill();
        forwarders.splice(i, 1);
        forwarderSettings.delete(old);
      },
      killNsmgr: () => nsmgr.kill(),
    };
    nodes.push(node);
    for (let f = 0; f < (options.forwarders ?? 1); f++) await node.addForwarder();
  }

  const startEndpoint = (o: SandboxEndpointOptions, managerURL: string): Promise<SandboxEndpoint> =>
    startSandboxEndpoint(o, managerURL, {
      ctx,
      roleOptions,
      address: local(o.name),
      cidr: o.cidr ?? `172.16.${cidrs++ % 256}.0/24`,
      clientChannels,
      registryClients,
    });

  return {
    get registry() {
      return registry;
    },
    nodes,
    ctx,
    trustBundlePem: trust.ca?.certPem,
    security: (role: string, name: string) => trust.security(role, name),
    endpoints,
    admin,
    forwarderCounter: counterOf,
    registerService: (ns) => admin.registerService(NetworkService.fromPartial(ns)),
    restartRegistry: async () => {
      await registry.kill();
      registry = await serveTheRegistry(registryURL);
    },
    stop: async () => {
      // Clients first: they close what they still hold and stop healing before the mesh goes away.
      await Promise.all(clients.map((client) => client.dispose({ timeoutMs: 1000 })));
      for (const endpoint of endpoints.values()) await endpoint.stop().catch(() => undefined);
      for (const node of nodes) {
        for (const forwarder of node.forwarders) await forwarder.stop().catch(() => undefined);
      }
      for (const node of nodes) await node.nsmgr.stop().catch(() => undefined);
      for (const client of registryClients) client.abandon();
      admin.abandon();
      clientChannels.closeAll();
      await registry.stop();
      trust.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
