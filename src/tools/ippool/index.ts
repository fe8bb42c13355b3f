/**
 * IP address management primitives shared by the IPAM elements (`point2point`, `vl3`) and by the manager's
 * `excludedprefixes`: parsing and formatting of IPv4/IPv6 addresses and CIDR prefixes as bigints, and an
 * {@link IPPool} of free addresses that hands out the lowest free address, honours exclusions and takes
 * addresses back.
 *
 * ```ts
 * const pool = IPPool.of('10.0.0.0/30');
 * pool.exclude('10.0.0.1/32');
 * const ip = pool.allocate();          // 10.0.0.0 as a bigint
 * formatIP(ip!, pool.family);          // '10.0.0.0'
 * pool.release(ip!);
 * ```
 * @module
 */
export {
  familyBits,
  formatIP,
  hostCIDR,
  IPNet,
  maxAddress,
  parseCIDR,
  parseIP,
  tryParseCIDR,
  type IPAddress,
  type IPFamily,
} from './address.js';
export { IPPool, type AddressInput, type IPRange, type NetInput } from './pool.js';
