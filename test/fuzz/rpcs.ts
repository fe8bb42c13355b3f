/**
 * The RPCs under fuzz, as {@link FuzzRpc}s: the Network Service API (Request, Close, MonitorConnections)
 * of a role, and the two registry services (Register, Find, Unregister) of a registry or a manager.
 */
import fc from 'fast-check';
import { Connection, type PathSegment } from '../../src/api/gen/connection.js';
import { NetworkServiceService, type DeepPartial, type NetworkServiceRequest } from '../../src/api/gen/networkservice.js';
import { NetworkService, NetworkServiceEndpoint, NetworkServiceEndpointQuery, NetworkServiceQuery } from '../../src/api/gen/registry.js';
import { MONITOR_SERVICE_NAME } from '../../src/networkservice/common/monitor/index.js';
import { updatePath } from '../../src/networkservice/common/updatepath/index.js';
import { validateClose, validateRequest } from '../../src/networkservice/common/validate/index.js';
import { status } from '../../src/tools/grpc/status.js';
import { connection, monitorScopeSelector, nearlyValidRequest, networkServiceRequest, type Known } from './arbitraries.js';
import type { CallResult, Caller, FuzzRpc, WireCase } from './harness.js';
import { networkService, networkServiceEndpoint, queryName, spoil, spoilers, spoilingMetadata } from './registry-arbitraries.js';
import { encodeConnection, encodeRequest, encodeSelector, garbage, metadata } from './wire.js';

/** A message case or bytes that may not decode, with the call's metadata. */
type Input<T> = { readonly message: T; readonly metadata: [string, string][] } | { readonly raw: Uint8Array; readonly metadata: [string, string][] };

/** A short, bounded description of a generated value: long strings, arrays and maps are summarized. */
export function summarize(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'string' && v.length > 40) return `${v.slice(0, 12)}…(${v.length} chars)`;
    if (typeof v === 'bigint') return `${v}n`;
    if (Array.isArray(v) && v.length > 4) return [...(v as unknown[]).slice(0, 3), `…(${v.length} items)`];
    if (v instanceof Uint8Array) return `bytes(${v.length}): ${Buffer.from(v.subarray(0, 16)).toString('hex')}`;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 8) return `{…${Object.keys(v).length} keys}`;
    return v;
  });
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

function withMetadata<T>(messages: fc.Arbitrary<T>, registry: boolean): fc.Arbitrary<Input<T>> {
  const meta = metadata({ registry });
  return fc.oneof(
    { weight: 12, arbitrary: fc.record({ message: messages, metadata: meta }) },
    { weight: 1, arbitrary: fc.record({ raw: garbage(), metadata: meta }) },
  );
}

function wire<T>(input: Input<T>, encode: (message: T) => Uint8Array, watch = false): WireCase {
  return { bytes: 'raw' in input ? input.raw : encode(input.message), metadata: input.metadata, watch };
}

/**
 * Whether the role named `role` would take `conn` as one of the live connections (a peer that knows a
 * live id and path can refresh or close it: there is no authorization in the chain). Such a case is a
 * legitimate act on live state rather than a rejection to check, so it is not generated. The test is
 * the role's own: validate, then updatepath on a copy, with the path index as the wire carries it.
 */
export function actsOnLive(conn: DeepPartial<Connection> | undefined, role: string, live: ReadonlySet<string>, request = true): boolean {
  if (conn === undefined) return false;
  const copy = Connection.fromPartial(conn);
  if (copy.path !== undefined) copy.path.index = copy.path.index >>> 0;
  try {
    if (request) validateRequest({ connection: copy, mechanismPreferences: [] });
    else validateClose(copy);
    updatePath(copy, role);
  } catch {
    return false;
  }
  return (copy.path?.pathSegments ?? []).some((s) => live.has(segmentKey(s)));
}

/** The key of a segment in the set of live segments. */
export function segmentKey(segment: Pick<PathSegment, 'name' | 'id'>): string {
  return `${segment.name}\u0000${segment.id}`;
}

/** What the Network Service RPCs of one role need. */
export interface RoleUnderFuzz {
  /** The role's name in reports (`endpoint`, `nsmgr`, `forwarder`). */
  readonly label: string;
  /** Its path segment name. */
  readonly segmentName: string;
  /** The live segments of it and of the hops after it ({@link segmentKey}). */
  readonly liveSegments: ReadonlySet<string>;
}

async function closeReturned(result: CallResult, caller: Caller, deadlineMs: number): Promise<void> {
  const returned = result.messages[0];
  if (returned === undefined) throw new Error('Request succeeded without a connection');
  const conn = Connection.decode(returned);
  const closed = await caller.unary(NetworkServiceService.close.path, { bytes: encodeConnection(conn), metadata: [] }, deadlineMs);
  if (closed.code !== status.OK) throw new Error(`Close of the returned connection ${conn.id}: code ${closed.code} ${closed.details}`);
}

/** Request, Close and MonitorConnections of `role`. */
export function networkServiceRpcs(k: Known, role: RoleUnderFuzz, deadlineMs: number): FuzzRpc<unknown>[] {
  const requests = withMetadata(fc.oneof(networkServiceRequest(k), nearlyValidRequest(k)), false).filter(
    (input) => !('message' in input) || !actsOnLive(input.message.connection, role.segmentName, role.liveSegments),
  );
  const closes = withMetadata(connection(k), false).filter(
    (input) => !('message' in input) || !actsOnLive(input.message, role.segmentName, role.liveSegments, false),
  );
  const request: FuzzRpc<Input<DeepPartial<NetworkServiceRequest>>> = {
    name: `${role.label} Request`,
    method: NetworkServiceService.request.path,
    streaming: false,
    cases: requests,
    toWire: (input) => wire(input, encodeRequest),
    describe: summarize,
    // What a case set up is closed again, so that the state after the batch compares with the one before.
    cleanup: (_input, result, caller) => closeReturned(result, caller, deadlineMs),
  };
  const close: FuzzRpc<Input<DeepPartial<Connection>>> = {
    name: `${role.label} Close`,
    method: NetworkServiceService.close.path,
    streaming: false,
    cases: closes,
    toWire: (input) => wire(input, encodeConnection),
    describe: summarize,
  };
  const monitor: FuzzRpc<Input<Parameters<typeof encodeSelector>[0]>> = {
    name: `${role.label} MonitorConnections`,
    method: `/${MONITOR_SERVICE_NAME}/MonitorConnections`,
    streaming: true,
    cases: withMetadata(monitorScopeSelector(k), false),
    toWire: (input) => wire(input, encodeSelector),
    describe: summarize,
  };
  return [request, close, monitor] as FuzzRpc<unknown>[];
}

/** The messages of one registry resource; `P` is the (partial) item as generated. */
interface Resource<P> {
  readonly resource: 'NetworkService' | 'NetworkServiceEndpoint';
  readonly service: string;
  readonly items: fc.Arbitrary<P>;
  encode(item: P): Uint8Array;
  encodeQuery(filter: P, watch: boolean): Uint8Array;
  nameOf(bytes: Buffer): string;
  /** Whether `bytes`, taken as a query, watch (raw cases may decode to a watching query by chance). */
  watches(bytes: Uint8Array): boolean;
}

/** Whether `decode(bytes)` is a watching query; bytes that do not decode are refused at once. */
function decodesToWatch(bytes: Uint8Array, decode: (bytes: Uint8Array) => { watch: boolean }): boolean {
  try {
    return decode(bytes).watch;
  } catch {
    return false;
  }
}

function nsResource(k: Known): Resource<DeepPartial<NetworkService>> {
  return {
    resource: 'NetworkService',
    service: 'registry.NetworkServiceRegistry',
    items: networkService(k),
    encode: (item) => NetworkService.encode(NetworkService.fromPartial(item)).finish(),
    // Field 1: the filter; field 2: watch (the generated query encoder does the same).
    encodeQuery: (filter, watch) => Buffer.concat([lengthDelimited(1, NetworkService.encode(NetworkService.fromPartial(filter)).finish()), watch ? Uint8Array.of(0x10, 0x01) : new Uint8Array()]),
    nameOf: (bytes) => NetworkService.decode(bytes).name,
    watches: (bytes) => decodesToWatch(bytes, (b) => NetworkServiceQuery.decode(b)),
  };
}

function nseResource(k: Known): Resource<DeepPartial<NetworkServiceEndpoint>> {
  return {
    resource: 'NetworkServiceEndpoint',
    service: 'registry.NetworkServiceEndpointRegistry',
    items: networkServiceEndpoint(k),
    encode: (item) => NetworkServiceEndpoint.encode(NetworkServiceEndpoint.fromPartial(item)).finish(),
    encodeQuery: (filter, watch) =>
      Buffer.concat([lengthDelimited(1, NetworkServiceEndpoint.encode(NetworkServiceEndpoint.fromPartial(filter)).finish()), watch ? Uint8Array.of(0x10, 0x01) : new Uint8Array()]),
    nameOf: (bytes) => NetworkServiceEndpoint.decode(bytes).name,
    watches: (bytes) => decodesToWatch(bytes, (b) => NetworkServiceEndpointQuery.decode(b)),
  };
}

function lengthDelimited(field: number, bytes: Uint8Array): Uint8Array {
  const header: number[] = [(field << 3) | 2];
  for (let n = bytes.length; ; n >>>= 7) {
    if (n < 0x80) {
      header.push(n);
      break;
    }
    header.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Uint8Array.from(header), bytes]);
}

/** A registry item case: the item, and whether it was spoiled through its metadata. */
function spoiledWhenLive<T extends { name?: string }>(resource: Resource<unknown>['resource'], items: fc.Arbitrary<T>, rpc: 'Register' | 'Unregister', live: ReadonlySet<string>): fc.Arbitrary<Input<T>> {
  return fc.tuple(withMetadata(items, true), spoilers(resource, rpc), spoilingMetadata()).map(([input, how, bad]) => {
    if (!('message' in input) || !live.has(input.message.name ?? '')) return input;
    return how === 'metadata' ? { message: input.message, metadata: bad } : { message: spoil(input.message, how), metadata: input.metadata };
  });
}

/** Register, Find and Unregister of one registry resource; `live` names the items that must survive. */
function registryRpcs<T extends { name?: string }>(label: string, r: Resource<T>, k: Known, live: ReadonlySet<string>, deadlineMs: number): FuzzRpc<unknown>[] {
  const method = (name: string): string => `/${r.service}/${name}`;
  const short = r.resource === 'NetworkService' ? 'NS' : 'NSE';
  const items = r.items;
  const register: FuzzRpc<Input<T>> = {
    name: `${label} ${short} Register`,
    method: method('Register'),
    streaming: false,
    cases: spoiledWhenLive(r.resource, items, 'Register', live),
    toWire: (input) => wire(input, (item) => r.encode(item)),
    describe: summarize,
    // A stored item is unregistered again, by the name the registry answered with.
    cleanup: async (_input, result, caller) => {
      const stored = result.messages[0];
      if (stored === undefined) throw new Error('Register succeeded without an item');
      const name = r.nameOf(stored);
      if (live.has(name)) throw new Error(`a spoiled Register of the live item ${name} was accepted`);
      const done = await caller.unary(method('Unregister'), { bytes: r.encode({ name } as T), metadata: [] }, deadlineMs);
      if (done.code !== status.OK) throw new Error(`Unregister ${name}: code ${done.code} ${done.details}`);
    },
  };
  const queries = fc.record({
    filter: fc.oneof({ weight: 3, arbitrary: items }, { weight: 1, arbitrary: queryName(k).map((name) => ({ name }) as T) }),
    watch: fc.boolean(),
  });
  const find: FuzzRpc<Input<{ filter: T; watch: boolean }>> = {
    name: `${label} ${short} Find`,
    method: method('Find'),
    streaming: true,
    cases: withMetadata(queries, true),
    toWire: (input) => wire(input, (q) => r.encodeQuery(q.filter, q.watch), 'message' in input ? input.message.watch : r.watches(input.raw)),
    describe: summarize,
  };
  const unregister: FuzzRpc<Input<T>> = {
    name: `${label} ${short} Unregister`,
    method: method('Unregister'),
    streaming: false,
    cases: spoiledWhenLive(r.resource, items, 'Unregister', live),
    toWire: (input) => wire(input, (item) => r.encode(item)),
    describe: summarize,
  };
  return [register, find, unregister] as FuzzRpc<unknown>[];
}

/** The six registry RPCs of a registry (or a manager's registry side). */
export function allRegistryRpcs(label: string, k: Known, live: ReadonlySet<string>, deadlineMs: number): FuzzRpc<unknown>[] {
  return [...registryRpcs(label, nsResource(k), k, live, deadlineMs), ...registryRpcs(label, nseResource(k), k, live, deadlineMs)];
}
