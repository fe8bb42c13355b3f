/**
 * Discovery: which endpoints a NetworkService's `matches` allow for a client with given labels
 * (upstream `matchutils.MatchEndpoint`).
 * @module
 */
import type { Match, NetworkService, NetworkServiceEndpoint } from '../../api/gen/registry.js';
import { isSubset, type Labels } from './labels.js';

function endpointLabels(nse: NetworkServiceEndpoint, service: string): Labels {
  return nse.networkServiceLabels[service]?.labels ?? {};
}

/** The endpoints any route of `match` selects, in the order of `nses`, each once. */
function candidates(match: Match, clientLabels: Labels, service: string, nses: readonly NetworkServiceEndpoint[]): NetworkServiceEndpoint[] {
  return nses.filter((nse) =>
    match.routes.some((route) => isSubset(endpointLabels(nse, service), route.destinationSelector, clientLabels)),
  );
}

/** A match that only carries labels for picking forwarders: it does not restrict endpoints. */
function isMetadataOnly(match: Match): boolean {
  return match.metadata !== undefined && match.routes.length === 0;
}

function applies(match: Match, clientLabels: Labels, service: string, nses: readonly NetworkServiceEndpoint[]): boolean {
  if (!isSubset(clientLabels, match.sourceSelector, clientLabels)) return false;
  // Upstream tests `fallthrough` before the metadata-only rule, so a metadata-only match that falls
  // through (it selects no endpoint by routes) hands over to the next match.
  return !match.fallthrough || candidates(match, clientLabels, service, nses).length > 0;
}

/**
 * The match of `ns` that applies to a client with `clientLabels`: the first whose source selector the
 * client's labels satisfy, skipping a `fallthrough` match whose routes select none of `nses`.
 * Undefined when none applies.
 */
export function selectMatch(clientLabels: Labels, ns: NetworkService, nses: readonly NetworkServiceEndpoint[]): Match | undefined {
  return ns.matches.find((match) => applies(match, clientLabels, ns.name, nses));
}

/**
 * The endpoints of `nses` that `ns.matches` allow for a client with `clientLabels`: all of them when the
 * service has no matches, none when no match applies. An endpoint's labels are those it registered for
 * this service; selector values may be templates filled from the client's labels. A match with metadata
 * and no routes (it selects forwarders) allows all endpoints. The result keeps the order of `nses` and
 * holds each endpoint once, however many routes select it.
 */
export function matchEndpoints(clientLabels: Labels, ns: NetworkService, nses: readonly NetworkServiceEndpoint[]): NetworkServiceEndpoint[] {
  if (ns.matches.length === 0) return [...nses];
  const match = selectMatch(clientLabels, ns, nses);
  if (match === undefined) return [];
  if (isMetadataOnly(match)) return [...nses];
  return candidates(match, clientLabels, ns.name, nses);
}
