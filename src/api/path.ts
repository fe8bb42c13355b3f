/**
 * Helpers over a connection's path and over the messages themselves, with the same results as the
 * hand-written Go helpers of the upstream api repo, edge cases included, so that a TypeScript hop reads a
 * path exactly as a Go hop would.
 *
 * A connection's path lists one segment per hop (client, managers, forwarders, endpoint); `path.index` is the
 * hop that currently holds the connection. Every function here accepts a missing connection or path and
 * treats it as an empty one, as Go's nil-safe getters do.
 * @module
 */
import { Connection, type MonitorScopeSelector, type PathSegment } from './gen/connection.js';
import type { Timestamp } from './gen/google/protobuf/timestamp.js';
import { NetworkServiceRequest } from './gen/networkservice.js';

function segmentsOf(conn: Connection): readonly PathSegment[] {
  return conn.path?.pathSegments ?? [];
}

function indexOf(conn: Connection): number {
  return conn.path?.index ?? 0;
}

/** The segment of the hop that holds the connection (`path.index`), or undefined when there is none. */
export function getCurrentPathSegment(conn: Connection | null | undefined): PathSegment | undefined {
  if (conn === null || conn === undefined) return undefined;
  const segments = segmentsOf(conn);
  const index = indexOf(conn);
  if (segments.length === 0 || index > segments.length - 1) return undefined;
  return segments[index];
}

/**
 * The segment of the previous hop (the caller), or undefined for the first hop.
 *
 * Upstream gives up only when `index - 1 > length` (`>`, not `>=`), so an index one past the end (no current
 * segment yet) still yields the last segment, which is the caller's. Where upstream would index out of range
 * (`index - 1 == length`), this returns undefined.
 */
export function getPrevPathSegment(conn: Connection | null | undefined): PathSegment | undefined {
  if (conn === null || conn === undefined) return undefined;
  const segments = segmentsOf(conn);
  const index = indexOf(conn);
  if (segments.length === 0 || index === 0 || index - 1 > segments.length) return undefined;
  return segments[index - 1];
}

/** The segment of the next hop (towards the endpoint), or undefined when there is none. */
export function getNextPathSegment(conn: Connection | null | undefined): PathSegment | undefined {
  if (conn === null || conn === undefined) return undefined;
  const segments = segmentsOf(conn);
  const index = indexOf(conn);
  if (segments.length === 0 || segments.length - 1 < index + 1) return undefined;
  return segments[index + 1];
}

/** An empty selector field matches anything. */
function fieldMatches(wanted: string, actual: string): boolean {
  return wanted === '' || wanted === actual;
}

function segmentMatches(wanted: PathSegment, actual: PathSegment | undefined): boolean {
  return (
    actual !== undefined &&
    fieldMatches(wanted.name, actual.name) &&
    fieldMatches(wanted.id, actual.id) &&
    fieldMatches(wanted.token, actual.token)
  );
}

function matchesPathSegments(conn: Connection, wanted: readonly PathSegment[]): boolean {
  if (wanted.length === 0) return true;
  const segments = segmentsOf(conn);
  for (let start = 0; start + wanted.length <= segments.length; start++) {
    if (wanted.every((segment, offset) => segmentMatches(segment, segments[start + offset]))) return true;
  }
  return false;
}

/**
 * Whether a monitor with `selector` may see `conn`:
 * - no connection never matches; no selector, or one with neither path segments nor network services,
 *   matches every connection;
 * - `networkServices`, when not empty, must contain `conn.networkService`;
 * - `pathSegments`, when not empty, must match a contiguous run of the connection's path segments,
 *   comparing `name`, `id` and `token`, where an empty value in the selector matches anything
 *   (`expires` and `metrics` are not compared).
 */
export function matchesMonitorScopeSelector(
  conn: Connection | null | undefined,
  selector: MonitorScopeSelector | null | undefined,
): boolean {
  if (conn === null || conn === undefined) return false;
  const wantedSegments = selector?.pathSegments ?? [];
  const wantedServices = selector?.networkServices ?? [];
  if (wantedSegments.length === 0 && wantedServices.length === 0) return true;
  if (wantedServices.length > 0 && !wantedServices.includes(conn.networkService)) return false;
  return matchesPathSegments(conn, wantedSegments);
}

/**
 * The connections that match `selector` (see {@link matchesMonitorScopeSelector}), in a new collection of the
 * same kind; missing entries are dropped. Upstream calls this `FilterMapOnManagerScopeSelector`.
 */
export function filterConnectionsByScopeSelector(
  connections: ReadonlyMap<string, Connection | undefined>,
  selector: MonitorScopeSelector | null | undefined,
): Map<string, Connection>;
export function filterConnectionsByScopeSelector(
  connections: Readonly<Record<string, Connection | undefined>>,
  selector: MonitorScopeSelector | null | undefined,
): Record<string, Connection>;
export function filterConnectionsByScopeSelector(
  connections: ReadonlyMap<string, Connection | undefined> | Readonly<Record<string, Connection | undefined>>,
  selector: MonitorScopeSelector | null | undefined,
): Map<string, Connection> | Record<string, Connection> {
  const matching = (entries: Iterable<[string, Connection | undefined]>): [string, Connection][] => {
    const out: [string, Connection][] = [];
    for (const [key, conn] of entries) {
      if (conn !== undefined && matchesMonitorScopeSelector(conn, selector)) out.push([key, conn]);
    }
    return out;
  };
  if (connections instanceof Map) return new Map(matching(connections.entries()));
  // fromEntries defines own properties, so an id such as "__proto__" stays an ordinary key.
  return Object.fromEntries(matching(Object.entries(connections as Readonly<Record<string, Connection | undefined>>)));
}

/** A deep copy of a connection: changing the copy (path, labels, mechanism, ...) leaves the original alone. */
export function cloneConnection(conn: Connection): Connection {
  return Connection.fromPartial(conn);
}

/** A deep copy of a request, its connection and mechanism preferences included. */
export function cloneRequest(request: NetworkServiceRequest): NetworkServiceRequest {
  return NetworkServiceRequest.fromPartial(request);
}

/**
 * A protobuf Timestamp for a time in milliseconds since the epoch (as `Date.now()` or a clock gives).
 * `nanos` is never negative, as the Timestamp spec requires, so times before 1970 round towards the past.
 * @throws RangeError when `ms` is not a finite number
 */
export function timestampFromMillis(ms: number): Timestamp {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot make a timestamp from ${ms} milliseconds`);
  let seconds = Math.floor(ms / 1000);
  let nanos = Math.round((ms - seconds * 1000) * 1_000_000);
  // A fraction just below a whole second can round up to it.
  if (nanos >= 1_000_000_000) {
    seconds += 1;
    nanos -= 1_000_000_000;
  }
  return { seconds, nanos };
}

/**
 * Milliseconds since the epoch for a protobuf Timestamp. Sub-millisecond nanos are dropped (rounding down),
 * so an expiry read this way is never later than the one written.
 */
export function millisFromTimestamp(ts: Timestamp): number {
  return ts.seconds * 1000 + Math.floor(ts.nanos / 1_000_000);
}
