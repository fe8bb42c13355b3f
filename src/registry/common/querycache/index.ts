/**
 * `querycache` for registry clients, NetworkServiceEndpoint and NetworkService: discovery without round
 * trips. Discovery asks the registry the same questions on every Request (the service by name, its
 * endpoints, this node's forwarders, an endpoint by name); this element answers them from memory, kept
 * current by one watching Find per question, so that a steady-state Request asks the registry nothing.
 *
 * - An entry per query filter, made by the first Find with that filter. Its watch (opened before that
 *   first Find is sent) keeps it current: a new endpoint, a deleted one and one whose URL changed are
 *   in the next answer as soon as the watch has reported them.
 * - One-shot Finds are answered from the entry once its answer is known to be whole (after one one-shot
 *   Find went through, or, for a filter with a name, once the watch reported that item).
 * - Watching Finds with the same filter share the entry's watch: a snapshot from the entry, then its
 *   changes. A thousand connections watching their service (`netsvcmonitor`) are one watch.
 * - An entry goes when its watch fails or ends (watchers get the same failure or end), after
 *   `expireTimeoutMs` without use and without watchers, or when the chain's `signal` aborts. Then the
 *   next Find asks the registry again.
 * - Register and Unregister pass through.
 *
 * Upstream caches one endpoint per name and so answers only Finds by exact name (a new endpoint of a
 * service is not seen until its entries expire); this cache keys on the whole filter. What it cannot
 * see: an item that changes so that it no longer matches a filter is not reported by that filter's
 * watch, and stays in that entry until it is deleted or the entry ends.
 *
 * The prebuilt chains put it in the registry clients of managers and forwarders (option `queryCache` of
 * the registry client chains), after `heal` and before `clienturl`: heal's reopened watches are served
 * from it, and its own watch fails through to it rather than being reopened behind its back (a watch
 * reopened after a break would not report what was deleted during the break).
 * @module
 */
import type {
  NetworkService,
  NetworkServiceEndpoint,
  NetworkServiceEndpointQuery,
  NetworkServiceQuery,
} from '../../../api/gen/registry.js';
import { NS_KIND, NSE_KIND, type RegistryKind } from '../../core/kind.js';
import { QueryCache, type QueryCacheOptions } from './cache.js';

export { QueryCache, type QueryCacheOptions } from './cache.js';

/** The `querycache` NetworkServiceEndpoint registry client element. */
export class QueryCacheClient extends QueryCache<NetworkServiceEndpoint, NetworkServiceEndpointQuery> {
  constructor(options: QueryCacheOptions = {}) {
    super(NSE_KIND, options);
  }
}

/** The `querycache` NetworkService registry client element. */
export class NSQueryCacheClient extends QueryCache<NetworkService, NetworkServiceQuery> {
  constructor(options: QueryCacheOptions = {}) {
    super(NS_KIND, options);
  }
}

/** A `querycache` element for NetworkServiceEndpoints. */
export function queryCacheClient(options?: QueryCacheOptions): QueryCacheClient {
  return new QueryCacheClient(options);
}

/** A `querycache` element for NetworkServices. */
export function nsQueryCacheClient(options?: QueryCacheOptions): NSQueryCacheClient {
  return new NSQueryCacheClient(options);
}

/** A `querycache` element for the resource `kind` describes. */
export function queryCache<R, Q>(kind: RegistryKind<R, Q, unknown>, options?: QueryCacheOptions): QueryCache<R, Q> {
  return new QueryCache(kind, options);
}
