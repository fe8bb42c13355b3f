/**
 * The forwarder's chain: the data plane of a node. The manager sends it a request that already names the
 * endpoint; the forwarder finds that endpoint (or its manager, on another node) through its own manager's
 * registry and carries the request on, translating mechanisms between its two sides.
 *
 * validate → updatepath → begin → updatetoken → metadata → timeout → monitor → trimpath → mechanisms (incoming side) →
 * [data plane] → discover → roundrobin → connect(client chain: mechanismtranslation → [outgoing mechanism
 * offers] → filtermechanisms).
 *
 * The data plane is pluggable: {@link noopDataplane} (the default) allocates mechanisms (kernel interface
 * names towards local peers, VXLAN with VNI and addresses towards other nodes) without touching the kernel.
 * @module
 */
import type { NSERegistryHandler, NSRegistryHandler } from '../../../registry/core/types.js';
import type { Security } from '../../../tools/security/index.js';
import type { TokenGenerator } from '../../../tools/token/index.js';
import { namedChain } from '../../core/chain.js';
import type { NetworkServiceClient, NetworkServiceServer } from '../../core/types.js';
import { connectServer } from '../../common/connect/index.js';
import type { DialOptions } from '../../common/dial/index.js';
import { discoverServer, type DiscoverOptions } from '../../common/discover/index.js';
import { filterMechanismsClient } from '../../common/filtermechanisms/index.js';
import { mechanismTranslationClient } from '../../common/mechanismtranslation/index.js';
import { mechanismsServer } from '../../common/mechanisms/index.js';
import { roundRobinServer } from '../../common/roundrobin/index.js';
import { kernelMechanismClient, kernelMechanismServer } from '../../mechanisms/kernel/index.js';
import { vxlanMechanismClient, vxlanMechanismServer } from '../../mechanisms/vxlan/index.js';
import { defaultTokenGenerator, nextHopClientChain } from '../client/chain.js';
import { serverCommon, withMonitor, type MonitoredChain } from '../endpoint/chain.js';
import { ConnectionMonitor } from '../../common/monitor/index.js';

/** A forwarder's data plane: what it does on each of its two sides. */
export interface Dataplane {
  /** Server elements for the incoming side (they accept the incoming mechanism and set it up). */
  readonly server: readonly NetworkServiceServer[];
  /** Client elements for the outgoing side (they offer mechanisms to the next hop and set them up). */
  readonly client: readonly NetworkServiceClient[];
}

/** Options of {@link noopDataplane}. */
export interface NoopDataplaneOptions {
  /** This node's tunnel address for VXLAN; default `127.0.0.1`. */
  readonly tunnelIP?: string;
}

/**
 * A data plane that allocates mechanisms and programs nothing: KERNEL interface names, VXLAN endpoints
 * and VNIs. For tests, demos and machines where the forwarder may not touch the kernel.
 */
export function noopDataplane(options: NoopDataplaneOptions = {}): Dataplane {
  const ip = options.tunnelIP ?? '127.0.0.1';
  return {
    server: [mechanismsServer({ KERNEL: kernelMechanismServer(), VXLAN: vxlanMechanismServer({ dstIP: ip }) })],
    client: [kernelMechanismClient(), vxlanMechanismClient({ srcIP: ip })],
  };
}

/** Options of {@link forwarderChain}. */
export interface ForwarderChainOptions {
  /** The forwarder's name (its path segments and registration). */
  readonly name: string;
  /** Network services, through the forwarder's manager. */
  readonly nsRegistry: NSRegistryHandler;
  /** Endpoints, through the forwarder's manager (local ones with their real URLs). */
  readonly nseRegistry: NSERegistryHandler;
  /** The data plane; default {@link noopDataplane}. */
  readonly dataplane?: Dataplane;
  /** Mints the forwarder's tokens. */
  readonly tokenGenerator?: TokenGenerator;
  /**
   * The role's security (mTLS with its SVID, signed tokens, default policies; or insecure). Without it
   * the role runs insecure, as a hand-built chain did before; the sandbox and the `nsm` roles always
   * give one, secure by default.
   */
  readonly security?: Security;
  /** How to dial endpoints and remote managers. */
  readonly dialOptions?: DialOptions;
  /** Discovery options. */
  readonly discover?: DiscoverOptions;
  /** The role's lifetime: when it ends (stopped or killed), the chain's timers stop. */
  readonly signal?: AbortSignal;
}

/** The forwarder's NetworkService chain. */
export function forwarderChain(options: ForwarderChainOptions): MonitoredChain {
  const tokenGenerator = options.tokenGenerator ?? options.security?.tokenGenerator(options.name) ?? defaultTokenGenerator(options.name);
  const dataplane = options.dataplane ?? noopDataplane();
  const monitor = new ConnectionMonitor();
  const chain = namedChain(`forwarder(${options.name})`, [
    ...serverCommon(options.name, tokenGenerator, monitor, options.signal, options.security),
    ...dataplane.server,
    discoverServer(options.nsRegistry, options.nseRegistry, options.discover),
    roundRobinServer(),
    connectServer(
      nextHopClientChain({
        name: options.name,
        tokenGenerator,
        ...(options.dialOptions === undefined ? {} : { dialOptions: options.dialOptions }),
        ...(options.security === undefined ? {} : { security: options.security }),
        additionalFunctionality: [mechanismTranslationClient(), ...dataplane.client, filterMechanismsClient()],
      }),
    ),
  ]);
  return withMonitor(chain, monitor);
}
