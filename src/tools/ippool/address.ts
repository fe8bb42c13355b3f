/**
 * IP addresses and CIDR prefixes as bigints. Arithmetic on a bigint is what IPAM needs (next address,
 * ranges, alignment) and works the same for IPv4 and IPv6, so strings are parsed once at the edge and
 * formatted back only for the wire.
 * @module
 */

/** An address family: 4 or 6. */
export type IPFamily = 4 | 6;

/** A parsed address: its family and its value as an unsigned integer. */
export interface IPAddress {
  /** 4 or 6. */
  readonly family: IPFamily;
  /** The address as an unsigned integer (32 or 128 bits). */
  readonly value: bigint;
}

/** Address width in bits: 32 for IPv4, 128 for IPv6. */
export function familyBits(family: IPFamily): 32 | 128 {
  return family === 4 ? 32 : 128;
}

/** The largest address of a family. */
export function maxAddress(family: IPFamily): bigint {
  return (1n << BigInt(familyBits(family))) - 1n;
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIPv4Value(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    // Leading zeros are refused, as Go does: some parsers read them as octal, so they are ambiguous.
    if (!DECIMAL_OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseGroups(text: string): bigint[] | undefined {
  if (text === '') return [];
  const groups: bigint[] = [];
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    // An embedded IPv4 address (e.g. ::ffff:192.0.2.1) may only be the last part.
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4Value(part);
      if (v4 === undefined) return undefined;
      groups.push(v4 >> 16n, v4 & 0xffffn);
      continue;
    }
    if (!HEX_GROUP.test(part)) return undefined;
    groups.push(BigInt(parseInt(part, 16)));
  }
  return groups;
}

function parseIPv6Value(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] as string);
  if (head === undefined) return undefined;
  let groups: bigint[];
  if (halves.length === 2) {
    const tail = parseGroups(halves[1] as string);
    if (tail === undefined) return undefined;
    const missing = 8 - head.length - tail.length;
    // "::" stands for at least one zero group.
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<bigint>(missing).fill(0n), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** Parses an IPv4 or IPv6 address (no prefix length, no zone); undefined when `text` is not one. */
export function parseIP(text: string): IPAddress | undefined {
  if (text.includes(':')) {
    const value = parseIPv6Value(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIPv4Value(text);
  return value === undefined ? undefined : { family: 4, value };
}

function formatIPv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function formatIPv6(value: bigint): string {
  // IPv4-mapped addresses read best with the IPv4 part dotted (RFC 5952, section 5).
  if (value >> 32n === 0xffffn) return `::ffff:${formatIPv4(value & 0xffffffffn)}`;
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  // RFC 5952: compress the longest run (two groups or more, the first on a tie) of zero groups.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Formats an address canonically: dotted decimal for IPv4, RFC 5952 text for IPv6. */
export function formatIP(value: bigint, family: IPFamily): string {
  if (value < 0n || value > maxAddress(family)) {
    throw new RangeError(`${value} is not an IPv${family} address`);
  }
  return family === 4 ? formatIPv4(value) : formatIPv6(value);
}

/**
 * A CIDR prefix. `ip` keeps the address as written (`192.168.3.4/16` keeps `192.168.3.4`), while
 * `first`/`last` bound the whole network, like Go's `net.ParseCIDR` result.
 */
export class IPNet {
  /** The network address (all host bits zero). */
  readonly first: bigint;
  /** The last address of the network (all host bits one; the broadcast address for IPv4). */
  readonly last: bigint;

  constructor(
    /** 4 or 6. */
    readonly family: IPFamily,
    /** The address as written, host bits included. */
    readonly ip: bigint,
    /** The number of network bits, 0 to 32 (IPv4) or 128 (IPv6). */
    readonly prefixLength: number,
  ) {
    const bits = familyBits(family);
    if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bits) {
      throw new RangeError(`prefix length ${prefixLength} is out of range for IPv${family}`);
    }
    if (ip < 0n || ip > maxAddress(family)) throw new RangeError(`${ip} is not an IPv${family} address`);
    const hostBits = BigInt(bits - prefixLength);
    const hostMask = (1n << hostBits) - 1n;
    this.first = ip & ~hostMask;
    this.last = this.first | hostMask;
  }

  /** How many addresses the network holds. */
  get size(): bigint {
    return this.last - this.first + 1n;
  }

  /** True when `ip` (of the same family) is inside this network. */
  contains(ip: IPAddress): boolean {
    return ip.family === this.family && ip.value >= this.first && ip.value <= this.last;
  }

  /** True when the two networks share at least one address. */
  overlaps(other: IPNet): boolean {
    return other.family === this.family && other.first <= this.last && other.last >= this.first;
  }

  /**
   * The addresses a host may be given. For IPv4 networks larger than /31 that excludes the network and
   * the broadcast address; /31 (RFC 3021), /32 and all IPv6 networks give every address.
   */
  hosts(): {
    /** The first host address. */
    start: bigint;
    /** The last host address (inclusive). */
    end: bigint;
  } {
    if (this.family === 4 && this.prefixLength < 31) return { start: this.first + 1n, end: this.last - 1n };
    return { start: this.first, end: this.last };
  }

  /** The canonical network form, e.g. `192.168.0.0/16`. */
  toString(): string {
    return `${formatIP(this.first, this.family)}/${this.prefixLength}`;
  }

  /** The address as written with its prefix length, e.g. `192.168.3.4/16`. */
  toHostString(): string {
    return `${formatIP(this.ip, this.family)}/${this.prefixLength}`;
  }
}

/** Parses a CIDR like `10.0.0.0/24` or `fd00::/64`; undefined when `text` is not one. */
export function tryParseCIDR(text: string): IPNet | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIP(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (address === undefined || !/^(0|[1-9][0-9]{0,2})$/.test(lengthText)) return undefined;
  const length = Number(lengthText);
  if (length > familyBits(address.family)) return undefined;
  return new IPNet(address.family, address.value, length);
}

/** Parses a CIDR like `10.0.0.0/24` or `fd00::/64`, throwing an Error that quotes `text` when it is not one. */
export function parseCIDR(text: string): IPNet {
  const net = tryParseCIDR(text);
  if (net === undefined) {
    throw new Error(`invalid CIDR "${text}": expected an address and a prefix length, e.g. 10.0.0.0/24 or fd00::/64`);
  }
  return net;
}

/** The host prefix (`/32` or `/128`) for one address, e.g. `10.0.0.1/32`. */
export function hostCIDR(value: bigint, family: IPFamily): string {
  return `${formatIP(value, family)}/${familyBits(family)}`;
}
