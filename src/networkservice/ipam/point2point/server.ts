import type { Connection } from '../../../api/gen/connection.js';
import { ConnectionContext, IPContext, Route } from '../../../api/gen/connectioncontext.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { status, statusError } from '../../../tools/grpc/status.js';
import type { IPFamily } from '../../../tools/ippool/index.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import {
  parseExclusions,
  PointToPointAllocator,
  type AddressPair,
  type PointToPointAllocatorOptions,
} from './allocator.js';

/** Options of {@link PointToPointServer}. */
export interface PointToPointOptions extends PointToPointAllocatorOptions {
  /**
   * Strict mode (as upstream's strictipam): addresses and host routes in the request that are not this
   * connection's and not from this endpoint's prefixes are dropped too, so a connection that moved here
   * from another endpoint keeps no stale pair from that endpoint's pool. Default false: addresses from
   * outside the pool are left as the client sent them.
   */
  readonly strict?: boolean;
}

/** The addresses one connection holds, per family. */
type Held = Map<IPFamily, AddressPair>;

/**
 * Allocates a `/32` (IPv4) or `/128` (IPv6) address pair per family for each connection: the endpoint's
 * address goes to `dstIpAddrs`, the client's to `srcIpAddrs`, and each side gets a route to the other.
 */
export class PointToPointServer implements NetworkServiceElement {
  readonly name = 'point2point/server';
  private readonly allocator: PointToPointAllocator;
  private readonly strict: boolean;
  // Keyed by connection id. Kept here rather than in `metadata` so the element works in any chain.
  private readonly held = new Map<string, Held>();

  /**
   * @param prefixes one or more CIDRs to allocate from, IPv4 and/or IPv6 (e.g. `172.16.0.0/24`, `fd00::/120`)
   * @throws Error when a prefix is not a valid CIDR, prefixes overlap, or none is given
   */
  constructor(prefixes: string | readonly string[], options: PointToPointOptions = {}) {
    this.allocator = new PointToPointAllocator(typeof prefixes === 'string' ? [prefixes] : prefixes, options);
    this.strict = options.strict ?? false;
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    if (conn === undefined) throw statusError(status.INVALID_ARGUMENT, 'request has no connection');
    if (conn.id === '') throw statusError(status.INVALID_ARGUMENT, 'connection has no id');
    conn.context ??= ConnectionContext.create();
    conn.context.ipContext ??= IPContext.create();
    const ipContext = conn.context.ipContext;
    const excluded = parseExclusions(ipContext.excludedPrefixes);

    const previous = this.held.get(conn.id);
    const held: Held = new Map();
    const fresh: AddressPair[] = [];
    try {
      for (const family of this.allocator.families) {
        const kept = previous?.get(family);
        if (kept !== undefined && this.allocator.isValid(kept, excluded)) {
          held.set(family, kept);
          continue;
        }
        // The held pair collides with an exclusion that arrived since: give it up for a new one.
        if (kept !== undefined) this.allocator.release(kept);
        const pair =
          this.allocator.recover(family, ipContext.srcIpAddrs, ipContext.dstIpAddrs, excluded) ??
          this.allocator.allocate(family, excluded);
        fresh.push(pair);
        held.set(family, pair);
      }
    } catch (error) {
      for (const pair of fresh) this.allocator.release(pair);
      this.forgetReleased(conn.id, held, fresh);
      throw error;
    }
    this.held.set(conn.id, held);
    this.writeTo(ipContext, held);

    try {
      return await next.request(request, ctx);
    } catch (error) {
      // What this request allocated goes back; what an earlier request established stays with it.
      for (const pair of fresh) this.allocator.release(pair);
      this.forgetReleased(conn.id, held, fresh);
      throw error;
    }
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const held = this.held.get(connection.id);
    if (held !== undefined) {
      this.held.delete(connection.id);
      for (const pair of held.values()) this.allocator.release(pair);
    }
    return next.close(connection, ctx);
  }

  /** How many connections hold addresses (for tests and diagnostics). */
  get size(): number {
    return this.held.size;
  }

  /** After a failure, keep only the pairs that were held before this request and are still held. */
  private forgetReleased(id: string, held: Held, released: readonly AddressPair[]): void {
    const previous = this.held.get(id);
    const remaining: Held = new Map();
    for (const [family, pair] of held) {
      if (!released.includes(pair) && previous?.get(family) === pair) remaining.set(family, pair);
    }
    if (remaining.size === 0) this.held.delete(id);
    else this.held.set(id, remaining);
  }

  /**
   * Puts the pairs into the IP context. Host addresses and host routes inside our prefixes that are not this
   * connection's (stale ones from before a re-allocation, or addresses another connection now holds) are
   * dropped first, so the connection never carries two addresses from the same pool; in strict mode, so
   * are those from outside our prefixes.
   */
  private writeTo(ipContext: IPContext, held: Held): void {
    const pairs = [...held.values()];
    const srcs = new Set(pairs.map((p) => p.srcCIDR));
    const dsts = new Set(pairs.map((p) => p.dstCIDR));
    const stale = (addr: string, ours: Set<string>): boolean => !ours.has(addr) && (this.strict || this.allocator.owns(addr));
    const staleRoute = (route: Route, ours: Set<string>): boolean =>
      isHostPrefix(route.prefix) && stale(route.prefix, ours);

    ipContext.srcIpAddrs = ipContext.srcIpAddrs.filter((a) => !stale(a, srcs));
    ipContext.dstIpAddrs = ipContext.dstIpAddrs.filter((a) => !stale(a, dsts));
    ipContext.srcRoutes = ipContext.srcRoutes.filter((r) => !staleRoute(r, dsts));
    ipContext.dstRoutes = ipContext.dstRoutes.filter((r) => !staleRoute(r, srcs));
    for (const pair of pairs) {
      addAddress(ipContext.srcIpAddrs, pair.srcCIDR);
      addAddress(ipContext.dstIpAddrs, pair.dstCIDR);
      addRoute(ipContext.srcRoutes, pair.dstCIDR);
      addRoute(ipContext.dstRoutes, pair.srcCIDR);
    }
  }
}

function isHostPrefix(prefix: string): boolean {
  return prefix.endsWith('/32') || prefix.endsWith('/128');
}

function addAddress(addrs: string[], addr: string): void {
  if (!addrs.includes(addr)) addrs.push(addr);
}

function addRoute(routes: Route[], prefix: string): void {
  if (!routes.some((r) => r.prefix === prefix)) routes.push(Route.create({ prefix }));
}

/** A point-to-point IPAM server element allocating from `prefixes`. */
export function point2pointServer(
  prefixes: string | readonly string[],
  options?: PointToPointOptions,
): PointToPointServer {
  return new PointToPointServer(prefixes, options);
}
