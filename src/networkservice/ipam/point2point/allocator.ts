/**
 * The address bookkeeping behind the point-to-point IPAM element, kept apart from the chain element so it
 * can be tested and reused on its own: pools per prefix, pairs per family, exclusions per request.
 * @module
 */
import { status, statusError } from '../../../tools/grpc/status.js';
import {
  familyBits,
  hostCIDR,
  IPNet,
  IPPool,
  parseCIDR,
  parseIP,
  tryParseCIDR,
  type IPFamily,
} from '../../../tools/ippool/index.js';

/** One connection's addresses in one family: the endpoint side (dst) and the client side (src). */
export interface AddressPair {
  /** The family of both addresses. */
  readonly family: IPFamily;
  /** Index of the prefix the pair came from, in the order the prefixes were given. */
  readonly prefixIndex: number;
  /** The endpoint's address. */
  readonly dst: bigint;
  /** The client's address. */
  readonly src: bigint;
  /** The endpoint's address as a host prefix, e.g. `172.16.0.1/32`. */
  readonly dstCIDR: string;
  /** The client's address as a host prefix, e.g. `172.16.0.2/32`. */
  readonly srcCIDR: string;
}

/** Addresses not to hand out for one request, per family. */
export interface Exclusions {
  /** The excluded IPv4 addresses. */
  readonly 4: IPPool;
  /** The excluded IPv6 addresses. */
  readonly 6: IPPool;
}

/** Options of {@link PointToPointAllocator}. */
export interface PointToPointAllocatorOptions {
  /** Prefixes (or single addresses) inside the pool never to hand out, e.g. a gateway's address. */
  readonly reserved?: readonly string[];
}

/**
 * Parses a request's `excludedPrefixes`. A bare address counts as its host prefix, since managers are not
 * consistent about the mask; anything else that does not parse is a bad request.
 */
export function parseExclusions(prefixes: readonly string[]): Exclusions {
  const excluded = { 4: new IPPool(4), 6: new IPPool(6) } as const;
  for (const text of prefixes) {
    const net = parseAddressOrCIDR(text);
    if (net === undefined) {
      throw statusError(status.INVALID_ARGUMENT, `excluded prefix "${text}" is neither a CIDR nor an IP address`);
    }
    excluded[net.family].add(net);
  }
  return excluded;
}

function parseAddressOrCIDR(text: string): IPNet | undefined {
  if (text.includes('/')) return tryParseCIDR(text);
  const address = parseIP(text);
  return address === undefined ? undefined : new IPNet(address.family, address.value, familyBits(address.family));
}

/**
 * Hands out pairs of host addresses from a fixed list of prefixes: one pair per address family that the
 * prefixes cover, the endpoint's address first (lowest free), then the client's. Prefixes of one family are
 * used in the order given; a later one is used when an earlier one has no free pair.
 */
export class PointToPointAllocator {
  /** The prefixes, as given (host bits cleared). */
  readonly prefixes: readonly IPNet[];
  /** The families served, in the order their first prefix was given. */
  readonly families: readonly IPFamily[];
  private readonly pools: readonly IPPool[];

  /** Throws an Error when there is no prefix, a prefix is not a CIDR, two prefixes overlap, or one is too small. */
  constructor(prefixes: readonly string[], options: PointToPointAllocatorOptions = {}) {
    if (prefixes.length === 0) throw new Error('point2point: at least one CIDR prefix is required');
    const nets = prefixes.map((text) => {
      try {
        return parseCIDR(text);
      } catch (error) {
        throw new Error(`point2point: ${(error as Error).message}`, { cause: error });
      }
    });
    nets.forEach((net, i) => {
      const other = nets.slice(0, i).find((o) => o.overlaps(net));
      if (other !== undefined) {
        throw new Error(`point2point: prefixes ${other.toString()} and ${net.toString()} overlap`);
      }
      const hosts = net.hosts();
      if (hosts.end - hosts.start + 1n < 2n) {
        throw new Error(`point2point: prefix ${net.toString()} has room for fewer than the two addresses a pair needs`);
      }
    });
    const reserved = (options.reserved ?? []).map((text) => {
      const net = parseAddressOrCIDR(text);
      if (net === undefined) {
        throw new Error(`point2point: reserved prefix "${text}" is neither a CIDR nor an IP address`);
      }
      return net;
    });
    this.prefixes = nets;
    this.families = [...new Set(nets.map((n) => n.family))];
    this.pools = nets.map((net) => {
      const hosts = net.hosts();
      const pool = new IPPool(net.family).addRange(hosts.start, hosts.end);
      for (const r of reserved) pool.exclude(r);
      return pool;
    });
  }

  /**
   * A fresh pair in `family`, avoiding `excluded`. Throws RESOURCE_EXHAUSTED, naming the prefixes, when none
   * of the family's prefixes has two free addresses outside the exclusions.
   */
  allocate(family: IPFamily, excluded: Exclusions): AddressPair {
    const avoid = excluded[family];
    for (let i = 0; i < this.pools.length; i++) {
      const pool = this.pools[i] as IPPool;
      if (pool.family !== family) continue;
      const dst = pool.allocate(avoid);
      if (dst === undefined) continue;
      const src = pool.allocate(avoid);
      if (src === undefined) {
        pool.release(dst);
        continue;
      }
      return this.pair(i, dst, src);
    }
    const names = this.prefixes.filter((p) => p.family === family).map((p) => p.toString());
    throw statusError(
      status.RESOURCE_EXHAUSTED,
      `no free IPv${family} address pair left in ${names.join(', ')} (outside the excluded prefixes)`,
    );
  }

  /**
   * Takes back a pair that a request already carries (e.g. after this endpoint restarted and the client
   * refreshes): the first src and the first dst address of `family` that lie in the same prefix, are free
   * and are not excluded. Undefined when there is no such pair; nothing is taken then.
   */
  recover(
    family: IPFamily,
    srcAddrs: readonly string[],
    dstAddrs: readonly string[],
    excluded: Exclusions,
  ): AddressPair | undefined {
    const avoid = excluded[family];
    const usable = (pool: IPPool, value: bigint): boolean => pool.contains(value) && !avoid.contains(value);
    for (let i = 0; i < this.pools.length; i++) {
      const pool = this.pools[i] as IPPool;
      if (pool.family !== family) continue;
      const src = this.addressesIn(i, srcAddrs).find((v) => usable(pool, v));
      const dst = this.addressesIn(i, dstAddrs).find((v) => v !== src && usable(pool, v));
      if (src === undefined || dst === undefined) continue;
      pool.take(dst);
      pool.take(src);
      return this.pair(i, dst, src);
    }
    return undefined;
  }

  /** True when neither address of `pair` is excluded. */
  isValid(pair: AddressPair, excluded: Exclusions): boolean {
    const avoid = excluded[pair.family];
    return !avoid.contains(pair.dst) && !avoid.contains(pair.src);
  }

  /** Gives a pair's addresses back. */
  release(pair: AddressPair): void {
    const pool = this.pools[pair.prefixIndex];
    pool?.release(pair.dst).release(pair.src);
  }

  /**
   * True when `address` (an IP, or an IP with a prefix length such as `10.0.0.5/32`) lies in one of the
   * prefixes, i.e. this allocator is the authority for it.
   */
  owns(address: string): boolean {
    const value = parseAddressOrHost(address);
    return value !== undefined && this.prefixes.some((p) => p.contains(value));
  }

  /** How many addresses are free in the prefix at `index`. */
  free(index: number): bigint {
    return this.pools[index]?.size ?? 0n;
  }

  private addressesIn(index: number, addrs: readonly string[]): bigint[] {
    const net = this.prefixes[index] as IPNet;
    const values: bigint[] = [];
    for (const text of addrs) {
      const value = parseAddressOrHost(text);
      if (value !== undefined && net.contains(value)) values.push(value.value);
    }
    return values;
  }

  private pair(prefixIndex: number, dst: bigint, src: bigint): AddressPair {
    const family = (this.prefixes[prefixIndex] as IPNet).family;
    return { family, prefixIndex, dst, src, dstCIDR: hostCIDR(dst, family), srcCIDR: hostCIDR(src, family) };
  }
}

/** The address of `10.0.0.5` or `10.0.0.5/24` (the host part, whatever the mask). */
function parseAddressOrHost(text: string): { family: IPFamily; value: bigint } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return parseIP(text);
  const net = tryParseCIDR(text);
  return net === undefined ? undefined : { family: net.family, value: net.ip };
}
