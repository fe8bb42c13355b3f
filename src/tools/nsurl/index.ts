/**
 * Network service URLs, as upstream's NSC takes them in `NSM_NETWORK_SERVICES`:
 * `kernel://icmp-responder/nsm-1?app=foo` asks for service `icmp-responder` over the KERNEL mechanism,
 * with interface name `nsm-1` and labels `app=foo`.
 * @module
 */

/** A parsed network service URL. */
export interface NetworkServiceURL {
  /** Mechanism type, upper-case (e.g. `KERNEL`, `MEMIF`). */
  readonly mechanism: string;
  /** The network service name (may carry `@domain`). */
  readonly networkService: string;
  /** The requested interface name, or '' to let the SDK choose. */
  readonly interfaceName: string;
  /** Labels sent with the request (the client's labels for NetworkService matches). */
  readonly labels: Readonly<Record<string, string>>;
}

/** Mechanism schemes a URL may use. */
export const KNOWN_MECHANISM_SCHEMES: readonly string[] = ['kernel', 'memif', 'vfio'];

/** Parses one URL; throws an Error whose message names the URL and what is wrong. */
export function parseNetworkServiceURL(text: string, knownSchemes: readonly string[] = KNOWN_MECHANISM_SCHEMES): NetworkServiceURL {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/.exec(text.trim());
  if (match === null) {
    throw new Error(`invalid network service URL "${text}": expected mechanism://service[/interface][?label=value&...]`);
  }
  const [, scheme = '', service = '', path = '', query = ''] = match;
  if (!knownSchemes.includes(scheme.toLowerCase())) {
    throw new Error(`invalid network service URL "${text}": unknown mechanism "${scheme}" (expected one of ${knownSchemes.join(', ')})`);
  }
  const interfaceName = decodeURIComponent(path.replace(/^\//, ''));
  if (interfaceName.includes('/')) {
    throw new Error(`invalid network service URL "${text}": the interface name must be one path segment`);
  }
  const labels: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(query)) labels[key] = value;
  return { mechanism: scheme.toUpperCase(), networkService: decodeURIComponent(service), interfaceName, labels };
}

/** Parses a comma-separated list (the form of `NSM_NETWORK_SERVICES`). */
export function parseNetworkServiceURLs(list: string, knownSchemes?: readonly string[]): NetworkServiceURL[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => parseNetworkServiceURL(s, knownSchemes));
}
