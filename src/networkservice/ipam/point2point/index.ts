/**
 * `point2point`: IP addresses for an endpoint's connections. Each connection is a point-to-point link, so
 * it needs exactly two host addresses per family: one for the endpoint's end (`dstIpAddrs`) and one for the
 * client's end (`srcIpAddrs`), each with a host route to the other, so traffic flows without a shared subnet.
 *
 * The element takes its addresses from one or more CIDR prefixes (IPv4 and/or IPv6) and gives a connection
 * one pair per family, from the first prefix of that family that still has room. It never hands out an
 * address inside the request's `excludedPrefixes` (the manager fills them with addresses in use on the
 * client's side), nor an IPv4 network or broadcast address. A refresh keeps the addresses it had unless an
 * exclusion now covers them; a request that already carries free addresses from our prefixes (a client
 * refreshing after this endpoint restarted) gets those back. Addresses return to the pool on Close and when
 * the rest of the chain fails a request that allocated them.
 *
 * ```ts
 * const endpoint = chain(..., point2pointServer(['172.16.0.0/24', 'fd00::/120']), ...);
 * ```
 * @module
 */
export { point2pointServer, PointToPointServer, type PointToPointOptions } from './server.js';
export {
  parseExclusions,
  PointToPointAllocator,
  type AddressPair,
  type Exclusions,
  type PointToPointAllocatorOptions,
} from './allocator.js';
