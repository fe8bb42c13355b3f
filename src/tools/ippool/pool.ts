/**
 * A set of free addresses of one family, kept as sorted, disjoint, non-adjacent ranges, so a /8 or a /64
 * costs one entry and allocation always hands out the lowest free address.
 * @module
 */
import {
  familyBits,
  formatIP,
  IPNet,
  maxAddress,
  parseCIDR,
  parseIP,
  tryParseCIDR,
  type IPFamily,
} from './address.js';

/** An inclusive range of addresses. */
export interface IPRange {
  /** The first address of the range. */
  readonly start: bigint;
  /** The last address of the range (inclusive). */
  readonly end: bigint;
}

/** An address given as its bigint value or as text (`10.0.0.1`; a host CIDR such as `10.0.0.1/32` is also read). */
export type AddressInput = bigint | string;

/** A network given as an {@link IPNet} or as CIDR text. */
export type NetInput = IPNet | string;

interface MutableRange {
  start: bigint;
  end: bigint;
}

/**
 * A pool of free addresses of one family. It does not remember where its addresses came from:
 * {@link IPPool.release} puts back whatever it is given, so callers release only what they allocated.
 */
export class IPPool {
  private ranges: MutableRange[] = [];

  constructor(
    /** The family of every address in the pool. */
    readonly family: IPFamily,
  ) {}

  /** A pool holding every address of the given networks, which must all be of one family. */
  static of(...cidrs: readonly NetInput[]): IPPool {
    const nets = cidrs.map(toNet);
    const first = nets[0];
    if (first === undefined) throw new Error('IPPool.of needs at least one CIDR');
    const pool = new IPPool(first.family);
    for (const net of nets) pool.add(net);
    return pool;
  }

  /** Adds every address of `cidr`. Throws when `cidr` is of the other family. */
  add(cidr: NetInput): this {
    const net = toNet(cidr);
    if (net.family !== this.family) throw new Error(`cannot add ${net.toString()} to an IPv${this.family} pool`);
    return this.addRange(net.first, net.last);
  }

  /** Adds the addresses from `start` to `end`, both included. */
  addRange(start: bigint, end: bigint): this {
    this.checkRange(start, end);
    // Ranges that overlap or touch [start, end] merge with it into one.
    const from = this.firstEndingAtOrAfter(start - 1n);
    let to = from;
    let mergedStart = start;
    let mergedEnd = end;
    while (to < this.ranges.length) {
      const r = this.ranges[to] as MutableRange;
      if (r.start > end + 1n) break;
      if (r.start < mergedStart) mergedStart = r.start;
      if (r.end > mergedEnd) mergedEnd = r.end;
      to++;
    }
    this.ranges.splice(from, to - from, { start: mergedStart, end: mergedEnd });
    return this;
  }

  /**
   * Removes every address of `cidr` for good (until added again). A network of the other family is
   * ignored, so a mixed list of excluded prefixes can be applied to an IPv4 and an IPv6 pool alike.
   */
  exclude(cidr: NetInput): this {
    const net = toNet(cidr);
    if (net.family !== this.family) return this;
    return this.excludeRange(net.first, net.last);
  }

  /** Removes the addresses from `start` to `end`, both included. */
  excludeRange(start: bigint, end: bigint): this {
    this.checkRange(start, end);
    const from = this.firstEndingAtOrAfter(start);
    const replacement: MutableRange[] = [];
    let to = from;
    while (to < this.ranges.length) {
      const r = this.ranges[to] as MutableRange;
      if (r.start > end) break;
      if (r.start < start) replacement.push({ start: r.start, end: start - 1n });
      if (r.end > end) replacement.push({ start: end + 1n, end: r.end });
      to++;
    }
    this.ranges.splice(from, to - from, ...replacement);
    return this;
  }

  /**
   * Takes the lowest free address that is not in `avoid` (a pool of addresses not to hand out this time,
   * such as a request's excluded prefixes) and removes it from the pool; undefined when there is none.
   */
  allocate(avoid?: IPPool): bigint | undefined {
    const value = this.lowestFree(avoid);
    if (value !== undefined) this.excludeRange(value, value);
    return value;
  }

  /** The address {@link IPPool.allocate} would take, without taking it. */
  lowestFree(avoid?: IPPool): bigint | undefined {
    const skip = avoid !== undefined && avoid.family === this.family ? avoid : undefined;
    for (const r of this.ranges) {
      let candidate = r.start;
      while (candidate <= r.end) {
        const blocked = skip?.rangeContaining(candidate);
        if (blocked === undefined) return candidate;
        candidate = blocked.end + 1n;
      }
    }
    return undefined;
  }

  /** Removes one specific address if it is free; false when it is not in the pool. */
  take(ip: AddressInput): boolean {
    const value = this.toValue(ip);
    if (value === undefined || !this.containsValue(value)) return false;
    this.excludeRange(value, value);
    return true;
  }

  /** Puts an address back into the pool. */
  release(ip: AddressInput): this {
    const value = this.toValue(ip);
    if (value === undefined) throw new Error(`cannot release "${String(ip)}": not an IPv${this.family} address`);
    return this.addRange(value, value);
  }

  /** True when `ip` is a free address of this pool; false for another family or text that is no address. */
  contains(ip: AddressInput): boolean {
    const value = this.toValue(ip);
    return value !== undefined && this.containsValue(value);
  }

  /** True when at least one address of `cidr` is in the pool; false for a network of the other family. */
  overlaps(cidr: NetInput): boolean {
    const net = toNet(cidr);
    if (net.family !== this.family) return false;
    const r = this.ranges[this.firstEndingAtOrAfter(net.first)];
    return r !== undefined && r.start <= net.last;
  }

  /** True when no address is left. */
  isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** How many addresses are left. */
  get size(): bigint {
    return this.ranges.reduce((n, r) => n + (r.end - r.start + 1n), 0n);
  }

  /** An independent copy. */
  clone(): IPPool {
    const copy = new IPPool(this.family);
    copy.ranges = this.ranges.map((r) => ({ start: r.start, end: r.end }));
    return copy;
  }

  /** The free ranges, lowest first. */
  getRanges(): IPRange[] {
    return this.ranges.map((r) => ({ start: r.start, end: r.end }));
  }

  /** The free addresses as the fewest CIDR prefixes, lowest first, e.g. `['10.0.0.1/32', '10.0.0.2/31']`. */
  toPrefixes(): string[] {
    const bits = familyBits(this.family);
    const prefixes: string[] = [];
    for (const r of this.ranges) {
      let start = r.start;
      while (start <= r.end) {
        // The largest block aligned at `start` that still fits before the end of the range.
        let size = 0;
        while (size < bits) {
          const block = 1n << BigInt(size + 1);
          if ((start & (block - 1n)) !== 0n || start + block - 1n > r.end) break;
          size++;
        }
        prefixes.push(`${formatIP(start, this.family)}/${bits - size}`);
        start += 1n << BigInt(size);
      }
    }
    return prefixes;
  }

  /** The free range holding `value`, if any. */
  rangeContaining(value: bigint): IPRange | undefined {
    const r = this.ranges[this.firstEndingAtOrAfter(value)];
    return r !== undefined && r.start <= value ? r : undefined;
  }

  private containsValue(value: bigint): boolean {
    return this.rangeContaining(value) !== undefined;
  }

  /** Index of the first range whose end is >= value (binary search); ranges.length when none is. */
  private firstEndingAtOrAfter(value: bigint): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ranges[mid] as MutableRange).end < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private toValue(ip: AddressInput): bigint | undefined {
    if (typeof ip === 'bigint') return ip >= 0n && ip <= maxAddress(this.family) ? ip : undefined;
    if (ip.includes('/')) {
      const net = tryParseCIDR(ip);
      return net !== undefined && net.family === this.family && net.prefixLength === familyBits(this.family)
        ? net.ip
        : undefined;
    }
    const parsed = parseIP(ip);
    return parsed !== undefined && parsed.family === this.family ? parsed.value : undefined;
  }

  private checkRange(start: bigint, end: bigint): void {
    if (start < 0n || end > maxAddress(this.family) || start > end) {
      throw new RangeError(`invalid IPv${this.family} range ${start}..${end}`);
    }
  }
}

function toNet(cidr: NetInput): IPNet {
  return typeof cidr === 'string' ? parseCIDR(cidr) : cidr;
}
