/**
 * Shared fast-check arbitraries for the fuzz tests: hostile strings, label maps, timestamps, paths and the
 * messages of the Network Service API (registry messages are in `registry-arbitraries.ts`). Everything
 * is a function of {@link Known}, what the role under test holds, so that generated values collide with
 * live names and ids often enough to matter.
 */
import fc from 'fast-check';
import type { Connection, Mechanism, MonitorScopeSelector, PathSegment } from '../../src/api/gen/connection.js';
import type { ConnectionContext } from '../../src/api/gen/connectioncontext.js';
import type { DeepPartial } from '../../src/api/gen/networkservice.js';
import type { NetworkServiceRequest } from '../../src/api/gen/networkservice.js';
import type { Timestamp } from '../../src/api/gen/google/protobuf/timestamp.js';

/** What the role under test holds: generated values pick from these to collide with live state. */
export interface Known {
  /** Segment names of the roles on the live paths (`nsc`, `nsmgr-0`, ...). */
  readonly names: readonly string[];
  /** Every segment id of every live connection. */
  readonly ids: readonly string[];
  /** The live connections' paths, as their clients see them. */
  readonly paths: readonly (readonly PathSegment[])[];
  /** Network services and endpoints that exist (registered, or served). */
  readonly services: readonly string[];
}

/** One mebibyte of text, built once: a 1 MB name costs a reference, not an allocation per case. */
export const MEBIBYTE = 'x'.repeat(1 << 20);

/** Texts with a meaning somewhere in the SDK or in JavaScript itself. */
const SPECIAL: readonly string[] = [
  '', ' ', '\u0000', '\t\n', '..', '/', '%s%n', '{{.nodeName}}', '{{', '}}', '*', '__proto__', 'constructor',
  'hasOwnProperty', 'toString', 'KERNEL', 'VXLAN', 'MEMIF', 'LOCAL', 'REMOTE', 'IP', 'ETHERNET', 'p2p', 'true',
  '0.0.0.0/0', '::/0', '10.0.0.1', '10.0.0.1/32', '172.16.0.0/12', 'fe80::1/128', '300.1.1.1/33', 'unix:///',
  'tcp://127.0.0.1:0', 'tcp://:99999', '\uD800', '\uFFFF', 'ü', '😀', 'a'.repeat(16),
];

/** A long string: past any sane limit, up to 1 MB. */
export function longText(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 257, max: 70_000 }).map((n) => 'n'.repeat(n)) },
    { weight: 1, arbitrary: fc.constant(MEBIBYTE) },
  );
}

/** Any text a hostile peer might send in a string field, live names and ids included. */
export function text(k: Known): fc.Arbitrary<string> {
  const live = [...k.names, ...k.ids, ...k.services];
  return fc.oneof(
    { weight: 30, arbitrary: fc.string({ maxLength: 16 }) },
    { weight: 8, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
    { weight: 12, arbitrary: fc.constantFrom(...SPECIAL) },
    { weight: live.length === 0 ? 0 : 15, arbitrary: fc.constantFrom('', ...live) },
    { weight: 2, arbitrary: longText() },
  );
}

/** A string map (labels, mechanism parameters, metrics): small, with special keys, or 10,000+ entries. */
export function stringMap(k: Known): fc.Arbitrary<Record<string, string>> {
  return fc.oneof(
    { weight: 20, arbitrary: fc.constant({}) },
    { weight: 20, arbitrary: fc.dictionary(text(k), text(k), { maxKeys: 6, noNullPrototype: true }) },
    {
      weight: 2,
      arbitrary: fc.integer({ min: 1000, max: 20_000 }).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]))),
    },
    { weight: 1, arbitrary: fc.constant({ [MEBIBYTE]: 'v' }) },
  );
}

/** Seconds at the edges of the Timestamp range (0001-01-01 to 9999-12-31) and beyond it. */
const EDGE_SECONDS: readonly number[] = [0, 1, -1, -62135596800, -62135596801, 253402300799, 253402300800, 4102444800, 9e15, -9e15];

/**
 * A Timestamp seconds value the generated encoder writes as-is: `BinaryWriter.int64` accepts a bigint,
 * so int64 values past Number.MAX_SAFE_INTEGER reach the wire although the field is typed `number`.
 */
export function int64Seconds(value: bigint): number {
  return value as unknown as number;
}

/** A Timestamp: in the past, now, in the far future, outside the spec, or at the int64 limits. */
export function timestamp(): fc.Arbitrary<Timestamp> {
  const now = Math.floor(Date.now() / 1000);
  const seconds = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: now - 3600, max: now + 3600 }) },
    { weight: 4, arbitrary: fc.constantFrom(...EDGE_SECONDS) },
    { weight: 2, arbitrary: fc.constantFrom(2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n, -(2n ** 53n)).map(int64Seconds) },
  );
  const nanos = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 999_999_999 }) },
    { weight: 1, arbitrary: fc.constantFrom(-1, 1_000_000_000, 2 ** 31 - 1, -(2 ** 31)) },
  );
  return fc.record({ seconds, nanos });
}

/** A path segment with hostile fields. */
export function segment(k: Known): fc.Arbitrary<PathSegment> {
  return fc.record({
    name: text(k),
    id: text(k),
    token: fc.oneof({ weight: 5, arbitrary: fc.constant('') }, { weight: 2, arbitrary: text(k) }),
    expires: fc.option(timestamp(), { nil: undefined }),
    metrics: stringMap(k),
  });
}

/**
 * A path index relative to `length`: inside, one past the end, far past it, negative (the wire encoder
 * sends it as a 10-byte varint, as a Go int32 -1 would be), or past uint32.
 */
export function pathIndex(length: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: Math.max(0, length - 1) }) },
    { weight: 2, arbitrary: fc.constantFrom(length, length + 1) },
    { weight: 2, arbitrary: fc.constantFrom(-1, -(2 ** 31), 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40) },
  );
}

/** A path as generated: the index may be anything, the wire encoder writes it as a plain varint. */
export interface WirePath {
  /** The current hop's position; negative or past uint32 too. */
  index: number;
  /** The hops. */
  pathSegments: PathSegment[];
}

/** A live path, changed a little: another index, a segment dropped or swapped, an id moved. */
function mutatedLivePath(k: Known): fc.Arbitrary<WirePath> {
  return fc.constantFrom(...k.paths).chain((live) =>
    fc
      .tuple(
        pathIndex(live.length),
        fc.constantFrom('keep', 'drop-first', 'drop-last', 'swap-ids', 'rename', 'append'),
        fc.nat(Math.max(0, live.length - 1)),
        segment(k),
      )
      .map(([index, how, at, extra]) => {
        const segments = live.map((s) => ({ ...s }));
        if (how === 'drop-first') segments.shift();
        if (how === 'drop-last') segments.pop();
        if (how === 'append') segments.push(extra);
        const target = segments[at];
        const other = segments[(at + 1) % Math.max(1, segments.length)];
        if (how === 'swap-ids' && target !== undefined && other !== undefined) [target.id, other.id] = [other.id, target.id];
        if (how === 'rename' && target !== undefined) target.name = extra.name;
        return { index, pathSegments: segments };
      }),
  );
}

/** A path: none, empty, short and random, a mutated live path, or 10,000 segments. */
export function path(k: Known): fc.Arbitrary<WirePath | undefined> {
  const random = fc.array(segment(k), { maxLength: 6 }).chain((segments) =>
    pathIndex(segments.length).map((index): WirePath => ({ index, pathSegments: segments })),
  );
  const huge = fc.integer({ min: 257, max: 10_000 }).chain((n) =>
    pathIndex(n).map((index): WirePath => ({
      index,
      pathSegments: Array.from({ length: n }, (_, i): PathSegment => ({ name: `hop-${i}`, id: `id-${i}`, token: '', expires: undefined, metrics: {} })),
    })),
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<WirePath | undefined>(undefined) },
    { weight: 2, arbitrary: fc.constant<WirePath>({ index: 0, pathSegments: [] }) },
    { weight: 10, arbitrary: random },
    { weight: k.paths.length === 0 ? 0 : 10, arbitrary: mutatedLivePath(k) },
    { weight: 1, arbitrary: huge },
  );
}

/** A mechanism: a known type or anything, with hostile parameters. */
export function mechanism(k: Known): fc.Arbitrary<Mechanism> {
  return fc.record({
    cls: fc.oneof(fc.constantFrom('LOCAL', 'REMOTE'), text(k)),
    type: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('KERNEL', 'VXLAN', 'MEMIF', 'kernel', '') }, { weight: 2, arbitrary: text(k) }),
    parameters: fc.oneof(
      stringMap(k),
      fc.record({ name: text(k), netnsURL: text(k), inodeURL: text(k), src_ip: text(k), dst_ip: text(k), vni: text(k) }),
    ),
  });
}

/** IP addresses and prefixes as text, valid or not. */
function ipText(k: Known): fc.Arbitrary<string> {
  return fc.oneof(
    fc.ipV4().map((ip) => `${ip}/32`),
    fc.ipV4(),
    fc.ipV6().map((ip) => `${ip}/128`),
    fc.tuple(fc.ipV4(), fc.integer({ min: -1, max: 40 })).map(([ip, len]) => `${ip}/${len}`),
    text(k),
  );
}

/** A connection context with hostile IP, DNS and ethernet parts. */
export function connectionContext(k: Known): fc.Arbitrary<DeepPartial<ConnectionContext>> {
  const ips = fc.oneof(
    { weight: 6, arbitrary: fc.array(ipText(k), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 10_000 }).map((n) => Array.from({ length: n }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1/32`)) },
  );
  const routes = fc.array(fc.record({ prefix: ipText(k), nextHop: ipText(k) }), { maxLength: 3 });
  return fc.record(
    {
      ipContext: fc.record(
        { srcIpAddrs: ips, dstIpAddrs: ips, excludedPrefixes: ips, srcRoutes: routes, dstRoutes: routes, extraPrefixes: ips },
        { requiredKeys: [] },
      ),
      dnsContext: fc.record({ configs: fc.array(fc.record({ dnsServerIps: fc.array(ipText(k), { maxLength: 3 }), searchDomains: fc.array(text(k), { maxLength: 3 }) }), { maxLength: 3 }) }),
      ethernetContext: fc.record({ srcMac: text(k), dstMac: text(k), vlanTag: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
      extraContext: stringMap(k),
      MTU: fc.oneof(fc.constant(0), fc.constantFrom(1, 1500, 65535, 2 ** 32 - 1)),
    },
    { requiredKeys: [] },
  );
}

/** A connection state: the four known values or an unknown enum number. */
export function state(): fc.Arbitrary<number> {
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 1, 2, 3) }, { weight: 1, arbitrary: fc.constantFrom(4, 99, 2 ** 31 - 1, -1) });
}

/** The connection's id: often one that a live connection or its path already uses. */
function connectionId(k: Known): fc.Arbitrary<string> {
  return fc.oneof({ weight: 2, arbitrary: text(k) }, { weight: k.ids.length === 0 ? 0 : 2, arbitrary: fc.constantFrom(...k.ids) });
}

/** A connection, each field present or not, hostile where present. */
export function connection(k: Known): fc.Arbitrary<DeepPartial<Connection>> {
  return fc
    .record(
      {
        id: connectionId(k),
        networkService: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...k.services) }, { weight: 2, arbitrary: text(k) }),
        mechanism: mechanism(k),
        context: connectionContext(k),
        labels: stringMap(k),
        path: path(k),
        networkServiceEndpointName: text(k),
        payload: fc.oneof(fc.constantFrom('IP', 'ETHERNET', ''), text(k)),
        state: state(),
      },
      { requiredKeys: ['path'] },
    )
    .map((conn) => {
      // A path whose current segment carries the connection's id is what updatepath checks first; make
      // that common, so that the cases get past it and reach the elements behind.
      const current = conn.path?.pathSegments[conn.path.index];
      return current !== undefined && conn.id === undefined ? { ...conn, id: current.id } : conn;
    });
}

/** A Network Service Request: a hostile connection and hostile mechanism preferences. */
export function networkServiceRequest(k: Known): fc.Arbitrary<DeepPartial<NetworkServiceRequest>> {
  const preferences = fc.oneof(
    { weight: 8, arbitrary: fc.array(mechanism(k), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 5000 }).map((n) => Array.from({ length: n }, (_, i) => ({ cls: 'LOCAL', type: `T${i}` }))) },
  );
  return fc.record({ connection: fc.option(connection(k), { nil: undefined, freq: 10 }), mechanismPreferences: preferences }, { requiredKeys: [] });
}

/** A MonitorConnections selector: hostile path segments and service names. */
export function monitorScopeSelector(k: Known): fc.Arbitrary<DeepPartial<MonitorScopeSelector>> {
  return fc.record(
    {
      pathSegments: fc.oneof(
        { weight: 6, arbitrary: fc.array(segment(k), { maxLength: 4 }) },
        { weight: k.paths.length === 0 ? 0 : 3, arbitrary: fc.constantFrom(...k.paths).map((p) => [...p]) },
        { weight: 1, arbitrary: path(k).map((p) => p?.pathSegments ?? []) },
      ),
      networkServices: fc.oneof(fc.array(text(k), { maxLength: 4 }), fc.integer({ min: 1000, max: 10_000 }).map((n) => Array.from({ length: n }, (_, i) => `svc-${i}`))),
    },
    { requiredKeys: [] },
  );
}

/** One hostile change to an otherwise well-formed request. */
type Draft = DeepPartial<Connection> & { path: WirePath };

function overlay(k: Known): fc.Arbitrary<(conn: Draft) => void> {
  return fc.oneof<fc.Arbitrary<(c: Draft) => void>[]>(
    stringMap(k).map((labels) => (c) => void (c.labels = labels)),
    timestamp().map((expires) => (c) => void ((c.path.pathSegments[0] as PathSegment).expires = expires)),
    stringMap(k).map((metrics) => (c) => void ((c.path.pathSegments[0] as PathSegment).metrics = metrics)),
    text(k).map((token) => (c) => void ((c.path.pathSegments[0] as PathSegment).token = token)),
    mechanism(k).map((m) => (c) => void (c.mechanism = m)),
    connectionContext(k).map((context) => (c) => void (c.context = context)),
    text(k).map((nse) => (c) => void (c.networkServiceEndpointName = nse)),
    text(k).map((payload) => (c) => void (c.payload = payload)),
    state().map((s) => (c) => void (c.state = s)),
    // Segments after the caller's own: a refresh of something this role never saw, or a path that went elsewhere.
    fc.array(segment(k), { minLength: 1, maxLength: 3 }).map((more) => (c) => void c.path.pathSegments.push(...more)),
  );
}

/**
 * A request a client could send (its own one-segment path, a known service, a KERNEL preference) with at
 * most one hostile change: these get past validation and reach the elements behind, where the state is.
 */
export function nearlyValidRequest(k: Known): fc.Arbitrary<DeepPartial<NetworkServiceRequest>> {
  return fc
    .record({ id: fc.uuid(), client: fc.constantFrom('nsc-fuzz', 'nsc-fuzz-2'), service: fc.constantFrom(...k.services), change: fc.option(overlay(k), { nil: undefined, freq: 4 }) })
    .map(({ id, client, service, change }) => {
      const conn = { id, networkService: service, path: { index: 0, pathSegments: [{ name: client, id, token: '', expires: undefined, metrics: {} }] } };
      change?.(conn);
      return { connection: conn, mechanismPreferences: [{ cls: 'LOCAL', type: 'KERNEL' }] };
    });
}
