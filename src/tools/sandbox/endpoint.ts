/**
 * One endpoint of a sandbox domain: an icmp-responder-like chain (kernel and VXLAN mechanisms, strict
 * point-to-point IPAM) or a passthrough, with a counter of what reaches it, registered through its node's
 * manager; it can be killed (a crash), restarted on its address, stopped, and moved to another manager.
 * @module
 */
import { NetworkServiceEndpoint } from '../../api/gen/registry.js';
import type { ChainContext } from '../../networkservice/core/context.js';
import type { NetworkServiceElement, NetworkServiceServer } from '../../networkservice/core/types.js';
import { endpointChain, type MonitoredChain } from '../../networkservice/chains/endpoint/chain.js';
import { serveEndpoint, type ServedEndpoint } from '../../networkservice/chains/endpoint/serve.js';
import { mechanismsServer } from '../../networkservice/common/mechanisms/index.js';
import { kernelMechanismClient, kernelMechanismServer } from '../../networkservice/mechanisms/kernel/index.js';
import { vxlanMechanismServer } from '../../networkservice/mechanisms/vxlan/index.js';
import { point2pointServer } from '../../networkservice/ipam/point2point/index.js';
import { ChannelPool } from '../../networkservice/common/dial/index.js';
import { connectServer } from '../../networkservice/common/connect/index.js';
import { mechanismTranslationClient } from '../../networkservice/common/mechanismtranslation/index.js';
import { passthroughClient } from '../../networkservice/common/passthrough/index.js';
import { nextHopClientChain } from '../../networkservice/chains/client/chain.js';
import { createRegistryClient, type RegistryClient } from '../../registry/chains/client/client.js';
import type { Labels } from '../matchutils/labels.js';
import type { TokenGenerator } from '../token/index.js';
import type { Security } from '../security/index.js';
import { CountingServer } from './helpers.js';

/** Options of {@link SandboxNode.addEndpoint}. */
export interface SandboxEndpointOptions {
  /** The endpoint's name (unique in the domain). */
  readonly name: string;
  /** The services it offers. */
  readonly networkServices: readonly string[];
  /** Its labels, for every service it offers. */
  readonly labels?: Labels;
  /** The CIDR its point-to-point IPAM allocates from; default `172.16.<n>.0/24`, distinct per endpoint. */
  readonly cidr?: string;
  /** Elements of its own, after the counter and before the mechanisms and IPAM. */
  readonly additionalFunctionality?: readonly NetworkServiceServer[];
  /** Replaces the default mechanisms and IPAM (KERNEL + point2point). */
  readonly replaceDefaults?: boolean;
  /** Do not register (a test registers it itself, for instance later). */
  readonly register?: boolean;
  /**
   * Make it a passthrough: instead of answering, it requests this service from its manager (as client
   * `<name>-client`) and returns what that returns.
   */
  readonly passthroughTo?: string;
}

/** An endpoint in the sandbox. */
export interface SandboxEndpoint {
  /** Its name, as registered. */
  readonly name: string;
  /** The address it serves on; it keeps it across restarts. */
  readonly url: string;
  /** What reached it. */
  readonly counter: CountingServer;
  /** Its registry client, connected to its node's manager (a new one after {@link SandboxEndpoint.moveTo}). */
  readonly registry: RegistryClient;
  /** The NetworkServiceEndpoint it registers (name, URL, services and labels). */
  readonly registration: NetworkServiceEndpoint;
  /** The serving endpoint, undefined while it is down. */
  served(): ServedEndpoint | undefined;
  /** Registers it (when it was added with `register: false`). */
  register(): Promise<void>;
  /** Stops serving and unregisters. */
  stop(): Promise<void>;
  /** Stops serving at once and keeps its registration (a crash). */
  kill(): Promise<void>;
  /** Serves again on the same address. */
  start(): Promise<void>;
  /**
   * Registers through another manager from now on (its node's manager came back on a new address): the
   * old registry client is abandoned, a passthrough's next hop follows on its next start.
   */
  moveTo(managerURL: string): Promise<void>;
}

// Endpoints take a kernel interface from a forwarder on a unix socket, and VXLAN from one that reaches
// them over TCP (`transport: 'tcp'`), as a real endpoint on another host would.
const endpointMechanisms = () => ({ KERNEL: kernelMechanismServer(), VXLAN: vxlanMechanismServer({ dstIP: '127.0.0.1' }) });

/** What an endpoint takes from its domain. */
export interface EndpointEnvironment {
  /** The context every role runs in. */
  readonly ctx: ChainContext;
  /** Each role's security, and its token generator when the test replaces it. */
  readonly roleOptions: (role: string, name: string) => { security: Security; tokenGenerator?: TokenGenerator };
  /** Where it serves. */
  readonly address: string;
  /** The CIDR its IPAM allocates from. */
  readonly cidr: string;
  /** Tracks the channels of clients (a passthrough's next hop). */
  readonly clientChannels: ChannelPool;
  /** The domain's list of registry clients, abandoned when the domain stops. */
  readonly registryClients: RegistryClient[];
}

/** Builds, serves and (unless told not to) registers one sandbox endpoint. */
export async function startSandboxEndpoint(o: SandboxEndpointOptions, firstManagerURL: string, env: EndpointEnvironment): Promise<SandboxEndpoint> {
  const { ctx, roleOptions, cidr, clientChannels, registryClients } = env;
  // One identity per endpoint for its whole life (restarts included), as a pod keeps its SPIFFE ID.
  const own = roleOptions('nse', o.name);
  let managerURL = firstManagerURL;
  const counter = new CountingServer();
  // A crash loses the process's memory: each start builds the chain afresh (the counter stays), and a
  // kill ends the old one's lifetime, so its timers go with it.
  let lifetime = new AbortController();
  const build = (): MonitoredChain => {
    lifetime = new AbortController();
    const ending: NetworkServiceElement[] =
      o.passthroughTo !== undefined
        ? [
            mechanismsServer(endpointMechanisms()),
            connectServer(
              // The endpoint's own name and identity, as upstream's passthrough endpoints: the client side
              // continues the endpoint's segment (signing it for the manager) rather than adding one.
              nextHopClientChain({
                name: o.name,
                connectTo: managerURL,
                ...own,
                dialOptions: { pool: clientChannels },
                additionalFunctionality: [passthroughClient({ networkService: o.passthroughTo }), mechanismTranslationClient(), kernelMechanismClient()],
              }),
            ),
          ]
        : o.replaceDefaults === true
          ? []
          : [mechanismsServer(endpointMechanisms()), point2pointServer(cidr, { strict: true })];
    const elements: NetworkServiceElement[] = [counter, ...(o.additionalFunctionality ?? []), ...ending];
    return endpointChain({ name: o.name, ...own, additionalFunctionality: elements, signal: lifetime.signal });
  };
  const channels = new ChannelPool();
  const newRegistryClient = (): RegistryClient => {
    const client = createRegistryClient({ connectTo: managerURL, ctx, chain: { dialOptions: { pool: channels }, security: own.security, name: o.name } });
    registryClients.push(client);
    return client;
  };
  let registryClient = newRegistryClient();
  let served: ServedEndpoint | undefined = await serveEndpoint(env.address, build(), { ctx, drainTimeoutMs: 500, security: own.security });
  const url = served.url;
  const registration = NetworkServiceEndpoint.fromPartial({
    name: o.name,
    url,
    networkServiceNames: [...o.networkServices],
    networkServiceLabels: Object.fromEntries(o.networkServices.map((s) => [s, { labels: { ...(o.labels ?? {}) } }])),
  });
  const register = async (): Promise<void> => void (await registryClient.registerEndpoint(registration));
  if (o.register !== false) await register();
  return {
    name: o.name,
    url,
    counter,
    get registry() {
      return registryClient;
    },
    registration,
    served: () => served,
    register,
    stop: async () => {
      await served?.stop();
      served = undefined;
      lifetime.abort();
      await registryClient.close({ timeoutMs: 2000 });
      channels.closeAll();
    },
    kill: async () => {
      await served?.server.kill();
      served = undefined;
      lifetime.abort();
    },
    start: async () => {
      served ??= await serveEndpoint(url, build(), { ctx, drainTimeoutMs: 500, security: own.security });
    },
    moveTo: async (url: string) => {
      registryClient.abandon();
      managerURL = url;
      registryClient = newRegistryClient();
      await register();
    },
  };
}
