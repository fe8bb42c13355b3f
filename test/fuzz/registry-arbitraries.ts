/**
 * fast-check arbitraries for the registry messages: NetworkService, NetworkServiceEndpoint and their
 * queries, built on the shared ones in `arbitraries.ts`.
 *
 * Registering or unregistering a live name is something any peer may do (there is no authorization in
 * the chain), so a case that would legitimately replace or remove a live registration proves nothing about
 * rejection. Cases that name a live item are therefore made invalid on purpose ({@link spoil}): the role
 * must refuse them, and its registrations must stay as they were.
 */
import fc from 'fast-check';
import type { DeepPartial, NetworkService, NetworkServiceEndpoint } from '../../src/api/gen/registry.js';
import { longText, stringMap, text, timestamp, type Known } from './arbitraries.js';

/** An endpoint URL: valid unix and tcp addresses, malformed ones, and anything. */
function url(k: Known): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('tcp://127.0.0.1:1', 'unix:///nonexistent/fuzz.sock', 'tcp://[::1]:5000', 'tcp://:5001') },
    { weight: 2, arbitrary: fc.constantFrom('', 'tcp://', 'unix://relative', 'http://x:1', 'tcp://h:99999', 'tcp://h:1/path') },
    { weight: 2, arbitrary: text(k) },
  );
}

/** Path ids: none, some, or many. */
function pathIds(k: Known): fc.Arbitrary<string[]> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.array(text(k), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.integer({ min: 257, max: 10_000 }).map((n) => Array.from({ length: n }, (_, i) => `spiffe://x/${i}`)) },
  );
}

/** A service or endpoint name: often a live one. */
function name(k: Known): fc.Arbitrary<string> {
  return fc.oneof({ weight: 2, arbitrary: text(k) }, { weight: k.services.length === 0 ? 0 : 2, arbitrary: fc.constantFrom(...k.services) });
}

/** Per-service labels of an endpoint: small, deep (many services with many labels each), or huge. */
function serviceLabels(k: Known): fc.Arbitrary<Record<string, { labels: Record<string, string> }>> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.dictionary(name(k), stringMap(k).map((labels) => ({ labels })), { maxKeys: 3, noNullPrototype: true }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 100, max: 2000 }).map((n) =>
        Object.fromEntries(Array.from({ length: n }, (_, i) => [`svc-${i}`, { labels: { [`k${i}`]: `v${i}`, app: 'fuzz' } }])),
      ),
    },
  );
}

/** A NetworkServiceEndpoint with hostile fields. */
export function networkServiceEndpoint(k: Known): fc.Arbitrary<DeepPartial<NetworkServiceEndpoint>> {
  return fc.record(
    {
      name: name(k),
      networkServiceNames: fc.oneof(
        { weight: 6, arbitrary: fc.array(name(k), { maxLength: 4 }) },
        { weight: 1, arbitrary: fc.integer({ min: 257, max: 10_000 }).map((n) => Array.from({ length: n }, (_, i) => `svc-${i}`)) },
      ),
      networkServiceLabels: serviceLabels(k),
      url: url(k),
      expirationTime: timestamp(),
      initialRegistrationTime: timestamp(),
      pathIds: pathIds(k),
    },
    { requiredKeys: ['name'] },
  );
}

/** A match of a NetworkService: selectors, routes with any weight, fallthrough, metadata. */
function match(k: Known): fc.Arbitrary<DeepPartial<NetworkService['matches'][number]>> {
  const route = fc.record({ destinationSelector: stringMap(k), weight: fc.oneof(fc.nat(100), fc.constant(2 ** 32 - 1)) });
  return fc.record(
    {
      sourceSelector: stringMap(k),
      routes: fc.oneof(
        { weight: 6, arbitrary: fc.array(route, { maxLength: 3 }) },
        { weight: 1, arbitrary: fc.integer({ min: 257, max: 5000 }).map((n) => Array.from({ length: n }, () => ({ destinationSelector: { app: 'x' }, weight: 1 }))) },
      ),
      fallthrough: fc.boolean(),
      metadata: fc.record({ labels: stringMap(k) }),
    },
    { requiredKeys: [] },
  );
}

/** A NetworkService with hostile fields; payloads include unknown ones. */
export function networkService(k: Known): fc.Arbitrary<DeepPartial<NetworkService>> {
  return fc.record(
    {
      name: name(k),
      payload: fc.oneof(fc.constantFrom('IP', 'ETHERNET', '', 'ip', 'MPLS'), text(k)),
      matches: fc.oneof(
        { weight: 8, arbitrary: fc.array(match(k), { maxLength: 3 }) },
        { weight: 1, arbitrary: fc.integer({ min: 257, max: 2000 }).map((n) => Array.from({ length: n }, () => ({ routes: [{ destinationSelector: {} }] }))) },
      ),
      pathIds: pathIds(k),
    },
    { requiredKeys: ['name'] },
  );
}

/** How a case that names a live item is made one the role must refuse. */
export type Spoiler = 'url' | 'service-name' | 'payload' | 'bare-match' | 'long-name' | 'metadata';

/**
 * The ways to spoil a Register of `resource` (see the module documentation). `metadata` spoils through
 * the call's metadata (a malformed registry path or token expiry), which is the only way to spoil an
 * Unregister, since that needs nothing but a name.
 */
export function spoilers(resource: 'NetworkService' | 'NetworkServiceEndpoint', rpc: 'Register' | 'Unregister'): fc.Arbitrary<Spoiler> {
  if (rpc === 'Unregister') return fc.constant('metadata');
  return resource === 'NetworkService'
    ? fc.constantFrom<Spoiler>('payload', 'bare-match', 'long-name', 'metadata')
    : fc.constantFrom<Spoiler>('url', 'service-name', 'long-name', 'metadata');
}

/** Makes `item` invalid in the way `how` says (the `metadata` spoiler is applied to the call instead). */
export function spoil<T extends { name?: string; url?: string; networkServiceNames?: string[]; payload?: string; matches?: unknown[] }>(
  item: T,
  how: Spoiler,
): T {
  switch (how) {
    case 'url':
      return { ...item, url: 'tcp://no-port' };
    case 'service-name':
      return { ...item, networkServiceNames: [...(item.networkServiceNames ?? []), ''] };
    case 'payload':
      return { ...item, payload: 'NOT-A-PAYLOAD' };
    case 'bare-match':
      return { ...item, matches: [...(item.matches ?? []), { routes: [] }] };
    case 'long-name':
      return { ...item, name: `${item.name ?? ''}${'n'.repeat(5000)}` };
    case 'metadata':
      return item;
  }
}

/** Metadata that makes any registry call invalid: a malformed registry path or token expiry. */
export function spoilingMetadata(): fc.Arbitrary<[string, string][]> {
  return fc.constantFrom<[string, string][]>(
    [['path', 'not json']],
    // An index past the segments (with no segments at all, upstream takes the path as a fresh one).
    [['path', '{"Index":7,"PathSegments":[{"token":"t"}]}']],
    [['path', '{"Index":-1}']],
    [['nsm-client-token', 'x'], ['nsm-client-token-expires', 'yesterday']],
    [['nsm-client-token', 'x']],
  );
}

/** A long or empty query filter value, to stress the matching code. */
export function queryName(k: Known): fc.Arbitrary<string> {
  return fc.oneof(name(k), longText());
}
