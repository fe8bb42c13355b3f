/**
 * NetworkService manifests: network services described in YAML, in the form upstream NSM uses for its
 * Kubernetes `NetworkService` resources, turned into registry `NetworkService` messages.
 *
 * Network services (and above all their `matches`, which steer clients to endpoints) are configuration that
 * people write, review and keep in version control; building them as nested objects in code is clumsy and
 * not what upstream users know. A manifest file holds one or more documents separated by `---`:
 *
 * ```yaml
 * apiVersion: networkservicemesh.io/v1
 * kind: NetworkService
 * metadata:
 *   name: secure-intranet-connectivity
 * spec:
 *   payload: IP
 *   matches:
 *     - source_selector:
 *         app: firewall
 *       routes:
 *         - destination_selector:
 *             app: vpn-gateway
 *           weight: 10
 *     - fallthrough: true
 *       routes:
 *         - destination_selector:
 *             app: firewall
 *       metadata:
 *         labels:
 *           p2p: "true"
 * ```
 *
 * The rules:
 * - `apiVersion` must be `networkservicemesh.io/v1` and `kind` must be `NetworkService`.
 * - `metadata.name` is the service name (required, non-empty); `metadata.namespace`, `metadata.labels` and
 *   `metadata.annotations` are accepted and ignored.
 * - `spec.payload` is `IP` or `ETHERNET`; when absent it is `IP`, as the registry's `setpayload` would make it.
 * - `spec.matches[]` has `source_selector`, `routes`, `fallthrough` and `metadata.labels`; a route has
 *   `destination_selector` and `weight` (an integer from 0 to 4294967295). The camelCase spellings
 *   `sourceSelector` and `destinationSelector` are accepted too, as upstream's documentation uses both.
 * - Selector and label values are strings: `p2p: true` or `port: 80` is an error asking to quote the value.
 * - A field given with no value (`payload:` or `payload: null`) counts as absent; documents with no content
 *   (an empty file, a lone `---`, only comments) are skipped.
 * - Any other field, anywhere, is an error, as is a value of the wrong type, and a name defined twice in one
 *   file.
 *
 * Every problem of a file is collected, each with its line and its path in the document (e.g.
 * `spec.matches[0].routes[0].destination_selecter`), and thrown together as one {@link ManifestError}.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseAllDocuments, type YAMLError } from 'yaml';
import type { NetworkService } from '../../api/gen/registry.js';
import { errorMessage } from '../grpc/status.js';
import { ManifestError, type ManifestIssue } from './errors.js';
import { DocumentReader } from './reader.js';

export { ManifestError, type ManifestIssue } from './errors.js';

/**
 * Parses the NetworkService manifests of a YAML text (one or more documents separated by `---`) into
 * NetworkService messages, in the order of the text. The format is described in this module's
 * documentation; in short: `apiVersion: networkservicemesh.io/v1`, `kind: NetworkService`, the service name
 * in `metadata.name`, and `spec.payload` (`IP` or `ETHERNET`, `IP` when absent) and `spec.matches`
 * (snake_case or camelCase selector keys).
 *
 * @param text The YAML text.
 * @param fileName The file the text comes from, used in error messages.
 * @returns One message per non-empty document; `[]` for an empty text.
 * @throws {@link ManifestError} listing every problem of the text (YAML syntax errors included), each with
 *   its line and path.
 */
export function parseNetworkServiceManifests(text: string, fileName?: string): NetworkService[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const issues: ManifestIssue[] = [];
  const services: NetworkService[] = [];
  const names = new Map<string, number>();
  const syntaxErrors = (errors: readonly YAMLError[]): void => {
    for (const error of errors) {
      issues.push({ line: lines.linePos(error.pos[0]).line, path: '', message: `invalid YAML: ${error.message.replace(/\s*\n\s*/g, ' ')}` });
    }
  };
  if ('empty' in docs) syntaxErrors(docs.errors);
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      syntaxErrors(doc.errors);
      continue;
    }
    const parsed = new DocumentReader(doc, lines, issues).networkService();
    if (parsed === undefined) continue;
    const earlier = names.get(parsed.service.name);
    if (earlier !== undefined) {
      issues.push({ line: parsed.nameLine, path: 'metadata.name', message: `${JSON.stringify(parsed.service.name)} is already defined at line ${earlier}` });
      continue;
    }
    names.set(parsed.service.name, parsed.nameLine);
    services.push(parsed.service);
  }
  if (issues.length > 0) {
    issues.sort((a, b) => a.line - b.line);
    throw new ManifestError(issues, fileName);
  }
  return services;
}

/**
 * Reads a manifest file (UTF-8) and parses it with {@link parseNetworkServiceManifests}, reporting problems
 * against `path`.
 *
 * @param path The file to read.
 * @returns The NetworkService messages of the file, in its order.
 * @throws {@link ManifestError} for problems in the file; the error of `readFile` when it cannot be read.
 */
export async function loadNetworkServiceManifests(path: string): Promise<NetworkService[]> {
  return parseNetworkServiceManifests(await readFile(path, 'utf8'), path);
}

/** What {@link applyNetworkServiceManifests} registers with: a `RegistryClient`, or anything with its `registerService`. */
export interface NetworkServiceRegistrar<R = NetworkService> {
  /** Registers one network service and resolves with what the registry answered. */
  registerService(ns: NetworkService): Promise<R>;
}

/**
 * Registers network services, one after the other in the given order (typically the result of
 * {@link loadNetworkServiceManifests}). Registering a service again replaces it, so applying the same file
 * twice is harmless. On the first failure it stops and rejects with an Error naming the service (the registry's
 * error as its `cause`); the services registered before stay registered.
 *
 * @param registry Where to register, e.g. a `RegistryClient` from `createRegistryClient()`.
 * @param services The services to register.
 * @returns What the registry returned for each service, in the same order.
 */
export async function applyNetworkServiceManifests<R = NetworkService>(
  registry: NetworkServiceRegistrar<R>,
  services: readonly NetworkService[],
): Promise<R[]> {
  const registered: R[] = [];
  for (const service of services) {
    try {
      registered.push(await registry.registerService(service));
    } catch (error) {
      throw new Error(`registering NetworkService ${JSON.stringify(service.name)} failed: ${errorMessage(error)}`, { cause: error });
    }
  }
  return registered;
}
