/**
 * `vxlan`: the `VXLAN` mechanism, a tunnel between two nodes' forwarders (class REMOTE).
 *
 * - {@link VxlanMechanismClient}: offers `VXLAN` with this side's tunnel address (`src_ip`).
 * - {@link VxlanMechanismServer}: on a `VXLAN` connection, fills in this side's address (`dst_ip`) and a VXLAN
 *   network identifier (`vni`) that no other tunnel between the same two addresses uses. Both are kept on
 *   refresh and the VNI is released on Close, so the pair (src, dst, vni) identifies one tunnel.
 *
 * Allocating is all these elements do: programming the tunnel is the data plane's job.
 * @module
 */
import { Mechanism, type Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { MechanismClass, MechanismType, VxlanParams } from '../../../api/constants.js';
import { status, statusError } from '../../../tools/grpc/status.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';

/** The largest VXLAN network identifier (24 bits). */
export const MAX_VNI = 0xffffff;

/** Whether `mechanism` is a VXLAN mechanism. */
export function isVxlanMechanism(mechanism: Mechanism | undefined): mechanism is Mechanism {
  return mechanism?.type === MechanismType.VXLAN;
}

/** A VXLAN mechanism preference from `srcIP`. */
export function vxlanMechanismPreference(srcIP: string): Mechanism {
  return Mechanism.fromPartial({
    cls: MechanismClass.REMOTE,
    type: MechanismType.VXLAN,
    parameters: { [VxlanParams.SrcIP]: srcIP },
  });
}

/** Options of {@link VxlanMechanismClient}. */
export interface VxlanMechanismClientOptions {
  /** This side's tunnel address. */
  readonly srcIP: string;
}

/** Offers `VXLAN` in a request that does not offer it yet. */
export class VxlanMechanismClient implements NetworkServiceElement {
  readonly name = 'vxlan/client';

  constructor(private readonly options: VxlanMechanismClientOptions) {}

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    if (!request.mechanismPreferences.some(isVxlanMechanism)) {
      request.mechanismPreferences.push(vxlanMechanismPreference(this.options.srcIP));
    }
    return next.request(request, ctx);
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }
}

/** Options of {@link VxlanMechanismServer}. */
export interface VxlanMechanismServerOptions {
  /** This side's tunnel address. */
  readonly dstIP: string;
}

/** Fills in `dst_ip` and a `vni` on VXLAN connections, and releases the VNI on Close. */
export class VxlanMechanismServer implements NetworkServiceElement {
  readonly name = 'vxlan/server';
  /** VNIs in use, per peer address. */
  private readonly used = new Map<string, Set<number>>();
  /** The VNI each connection holds, by connection id. */
  private readonly held = new Map<string, { peer: string; vni: number }>();
  private nextVni = 1;

  constructor(private readonly options: VxlanMechanismServerOptions) {}

  /** Connections holding a VNI (for leak checks). */
  get size(): number {
    return this.held.size;
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    const mechanism = conn?.mechanism;
    if (conn === undefined || !isVxlanMechanism(mechanism)) return next.request(request, ctx);
    const peer = mechanism.parameters[VxlanParams.SrcIP] ?? '';
    if (peer === '') throw statusError(status.INVALID_ARGUMENT, 'VXLAN mechanism has no src_ip');
    mechanism.parameters[VxlanParams.DstIP] = this.options.dstIP;
    const previous = this.held.get(conn.id);
    const fresh = previous === undefined || previous.peer !== peer;
    if (previous !== undefined && fresh) this.release(conn.id);
    const vni = fresh ? this.allocate(peer) : previous.vni;
    if (fresh) this.held.set(conn.id, { peer, vni });
    mechanism.parameters[VxlanParams.VNI] = String(vni);
    try {
      return await next.request(request, ctx);
    } catch (error) {
      if (fresh) this.release(conn.id);
      throw error;
    }
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    try {
      await next.close(connection, ctx);
    } finally {
      this.release(connection.id);
    }
  }

  private allocate(peer: string): number {
    const used = this.used.get(peer) ?? new Set<number>();
    for (let tries = 0; tries < MAX_VNI; tries++) {
      const vni = this.nextVni;
      this.nextVni = (this.nextVni % MAX_VNI) + 1;
      if (used.has(vni)) continue;
      used.add(vni);
      this.used.set(peer, used);
      return vni;
    }
    throw statusError(status.RESOURCE_EXHAUSTED, `no free VNI towards ${peer}`);
  }

  private release(id: string): void {
    const held = this.held.get(id);
    if (held === undefined) return;
    this.held.delete(id);
    const used = this.used.get(held.peer);
    used?.delete(held.vni);
    if (used?.size === 0) this.used.delete(held.peer);
  }
}

/** A `vxlan` client element. */
export function vxlanMechanismClient(options: VxlanMechanismClientOptions): VxlanMechanismClient {
  return new VxlanMechanismClient(options);
}

/** A `vxlan` server element. */
export function vxlanMechanismServer(options: VxlanMechanismServerOptions): VxlanMechanismServer {
  return new VxlanMechanismServer(options);
}
