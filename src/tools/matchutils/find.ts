/**
 * Registry Find filters: does a stored item satisfy a query (upstream `MatchNetworkServices` and
 * `MatchNetworkServiceEndpoints`). Empty fields of a query do not constrain.
 * @module
 */
import type { Destination, Match, NetworkService, NetworkServiceEndpoint } from '../../api/gen/registry.js';
import { sameLabels } from './labels.js';

function sameRoute(a: Destination, b: Destination): boolean {
  return a.weight === b.weight && sameLabels(a.destinationSelector, b.destinationSelector);
}

// Field by field what proto.Equal compares, including whether `metadata` is set at all.
function sameMatch(a: Match, b: Match): boolean {
  return (
    a.fallthrough === b.fallthrough &&
    sameLabels(a.sourceSelector, b.sourceSelector) &&
    (a.metadata === undefined
      ? b.metadata === undefined
      : b.metadata !== undefined && sameLabels(a.metadata.labels, b.metadata.labels)) &&
    a.routes.length === b.routes.length &&
    a.routes.every((route, i) => {
      const other = b.routes[i];
      return other !== undefined && sameRoute(route, other);
    })
  );
}

function sameMatches(a: readonly Match[], b: readonly Match[]): boolean {
  return (
    a.length === b.length &&
    a.every((match, i) => {
      const other = b[i];
      return other !== undefined && sameMatch(match, other);
    })
  );
}

/**
 * Registry Find filter for services: `q.name` and `q.payload` empty or equal; `q.matches` empty or deeply
 * equal to those of `ns`, in the same order.
 */
export function matchNetworkService(q: NetworkService, ns: NetworkService): boolean {
  return (
    (q.name === '' || q.name === ns.name) &&
    (q.payload === '' || q.payload === ns.payload) &&
    (q.matches.length === 0 || sameMatches(q.matches, ns.matches))
  );
}

/**
 * Registry Find filter for endpoints: `q.name` empty or equal; every service of `q.networkServiceNames`
 * among the endpoint's; every label of `q.networkServiceLabels[svc]` present with the same value in the
 * endpoint's labels for `svc` (and `svc` itself present); `q.url` empty or a substring of the endpoint's;
 * `q.expirationTime` unset or in the same second.
 */
export function matchNetworkServiceEndpoint(q: NetworkServiceEndpoint, nse: NetworkServiceEndpoint): boolean {
  if (q.name !== '' && q.name !== nse.name) return false;
  if (q.url !== '' && !nse.url.includes(q.url)) return false;
  // Nanoseconds are ignored: expiration is compared to the second, as upstream does.
  if (q.expirationTime !== undefined && q.expirationTime.seconds !== nse.expirationTime?.seconds) return false;
  if (!q.networkServiceNames.every((service) => nse.networkServiceNames.includes(service))) return false;
  for (const [service, wanted] of Object.entries(q.networkServiceLabels)) {
    if (!Object.hasOwn(nse.networkServiceLabels, service)) return false;
    const have = nse.networkServiceLabels[service]?.labels ?? {};
    for (const [key, value] of Object.entries(wanted.labels)) {
      if (!Object.hasOwn(have, key) || have[key] !== value) return false;
    }
  }
  return true;
}
