/**
 * `excludedprefixes`: keeps address ranges out of what endpoints hand out.
 *
 * - {@link ExcludedPrefixesServer} (in a manager) adds the prefixes the cluster already uses (pod and
 *   service CIDRs, typically) to every request's `excludedPrefixes`, so an endpoint's IPAM never gives a
 *   client an address that would shadow a cluster address.
 * - {@link ExcludedPrefixesClient} groups the connections of one client: each request excludes the
 *   addresses and routes the client's other connections already have, so two services do not give the
 *   same pod clashing addresses. An endpoint that ignores the exclusions is caught when its answer comes
 *   back: the clashing connection is closed again and refused with FAILED_PRECONDITION.
 * @module
 */
export { ExcludedPrefixesServer, excludedPrefixesServer, type ExcludedPrefixesServerOptions } from './server.js';
export { ExcludedPrefixesClient, excludedPrefixesClient } from './client.js';
