/**
 * Registration checks: what makes a NetworkService or an endpoint unfit to be stored. Each returns a
 * sentence for the INVALID_ARGUMENT status the registry answers with, or undefined.
 * @module
 */
import type { NetworkService, NetworkServiceEndpoint } from '../../api/gen/registry.js';
import { Payload } from '../../api/constants.js';
import { parseAddress } from '../grpc/address.js';
import { errorMessage } from '../grpc/status.js';

const PAYLOADS: readonly string[] = [Payload.IP, Payload.ETHERNET];

/**
 * Why `ns` may not be registered, or undefined: the name must be set; the payload, if set, must be `IP`
 * or `ETHERNET`; every match needs a route unless it carries metadata labels (then it selects
 * forwarders). A route with an empty destination selector is fine: it selects every endpoint.
 */
export function validateNetworkService(ns: NetworkService): string | undefined {
  if (ns.name === '') return 'NetworkService.name is empty';
  const what = `NetworkService ${JSON.stringify(ns.name)}`;
  if (ns.payload !== '' && !PAYLOADS.includes(ns.payload)) {
    return `${what}: payload ${JSON.stringify(ns.payload)} is neither IP nor ETHERNET`;
  }
  const bare = ns.matches.findIndex(
    (match) => match.routes.length === 0 && Object.keys(match.metadata?.labels ?? {}).length === 0,
  );
  if (bare >= 0) return `${what}: matches[${bare}] has no routes (and no metadata labels to select forwarders by)`;
  return undefined;
}

/**
 * Why `nse` may not be registered, or undefined: the name and URL must be set, the URL must be an NSM
 * address (`unix:///path` or `tcp://host:port`), and no network service name may be empty.
 */
export function validateNetworkServiceEndpoint(nse: NetworkServiceEndpoint): string | undefined {
  if (nse.name === '') return 'NetworkServiceEndpoint.name is empty';
  const what = `NetworkServiceEndpoint ${JSON.stringify(nse.name)}`;
  if (nse.url === '') return `${what}: url is empty`;
  try {
    parseAddress(nse.url);
  } catch (error) {
    return `${what}: url is not an address: ${errorMessage(error)}`;
  }
  const blank = nse.networkServiceNames.indexOf('');
  if (blank >= 0) return `${what}: network_service_names[${blank}] is empty`;
  return undefined;
}
