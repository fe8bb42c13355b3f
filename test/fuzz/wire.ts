/**
 * What reaches the wire: protobuf encoders that also write what the generated ones refuse (a negative or
 * past-uint32 path index, int64 Timestamp seconds past Number.MAX_SAFE_INTEGER), bytes that are not valid
 * protobuf, and call metadata (tokens, registry paths) valid or not.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import fc from 'fast-check';
import { Connection, MonitorScopeSelector, PathSegment, type Path } from '../../src/api/gen/connection.js';
import { NetworkServiceRequest, type DeepPartial } from '../../src/api/gen/networkservice.js';
import { MEBIBYTE } from './arbitraries.js';

/** Field tags (number << 3 | wire type) of the fields written by hand here. */
const TAG = { requestConnection: 10, connectionPath: 50, pathIndex: 8, pathSegment: 18 } as const;

/** Writes a path; the index as a plain varint of any integer, as a Go peer with a bad int would. */
function writePath(path: Path, writer: BinaryWriter): void {
  if (path.index !== 0) writer.uint32(TAG.pathIndex).int64(BigInt(path.index));
  for (const segment of path.pathSegments) PathSegment.encode(segment, writer.uint32(TAG.pathSegment).fork()).join();
}

/** Writes a connection whose path index may be anything (see {@link writePath}). */
function writeConnection(conn: Connection, writer: BinaryWriter): void {
  Connection.encode({ ...conn, path: undefined }, writer);
  if (conn.path !== undefined) {
    writer.uint32(TAG.connectionPath).fork();
    writePath(conn.path, writer);
    writer.join();
  }
}

/** The protobuf bytes of a connection (for Close). */
export function encodeConnection(conn: DeepPartial<Connection>): Uint8Array {
  const writer = new BinaryWriter();
  writeConnection(Connection.fromPartial(conn), writer);
  return writer.finish();
}

/** The protobuf bytes of a request (for Request). */
export function encodeRequest(request: DeepPartial<NetworkServiceRequest>): Uint8Array {
  const message = NetworkServiceRequest.fromPartial(request);
  const writer = new BinaryWriter();
  NetworkServiceRequest.encode({ ...message, connection: undefined }, writer);
  if (message.connection !== undefined) {
    writer.uint32(TAG.requestConnection).fork();
    writeConnection(message.connection, writer);
    writer.join();
  }
  return writer.finish();
}

/** The protobuf bytes of a monitor selector. */
export function encodeSelector(selector: DeepPartial<MonitorScopeSelector>): Uint8Array {
  return MonitorScopeSelector.encode(MonitorScopeSelector.fromPartial(selector)).finish();
}

/**
 * Bytes that are not a valid message, or only barely one: random bytes, truncated varints, a length past
 * the end, 100,000 nested groups (recursion), unknown fields of every wire type, a wrong wire type for a
 * known field, invalid UTF-8 in a string field, and a 5 MB message (over grpc-js' 4 MB default).
 */
export function garbage(): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
        Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01),
        Uint8Array.of(0x0a, 0x05, 0x01),
        new Uint8Array(100_000).fill(0x0b),
        Uint8Array.of(0x0b, 0x0c, 0x7a, 0x00, 0x7d, 0x01, 0x02, 0x03, 0x04, 0x79, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08),
        Uint8Array.of(0x08, 0x01),
        Uint8Array.of(0x0a, 0x03, 0x0a, 0x01, 0xc3),
        Uint8Array.of(0x0a, 0x04, 0x12, 0x02, 0xed, 0xa0),
        Uint8Array.of(0x0f),
        Uint8Array.of(0x00),
        new Uint8Array(5 << 20),
      ),
    },
    // A valid-looking length-delimited field 1 around random bytes: gets past the first tag.
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 60 }).map((b) => Uint8Array.of(0x0a, b.length, ...b)) },
  );
}

/** Printable ASCII only: grpc-js refuses anything else in a text metadata value before sending. */
function headerText(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
    fc.constantFrom('', ' ', '{', '[]', 'null', '1e999'),
  );
}

/** RFC 3339 texts, valid (past, now, far future) and not. */
function expiry(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      new Date(Date.now() + 3_600_000).toISOString(),
      '1970-01-01T00:00:00Z',
      '0001-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999999999Z',
      '2026-02-31T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:00:00+99:99',
      '+275760-09-13T00:00:00Z',
      'yesterday',
      '',
    ),
    headerText(),
  );
}

/** A registry path header (upstream's JSON form), well-formed or not. */
function registryPath(): fc.Arbitrary<string> {
  const segments = fc.array(fc.record({ token: headerText() }), { maxLength: 3 });
  return fc.oneof(
    fc.tuple(fc.oneof(fc.nat(4), fc.constantFrom(-1, 2 ** 32, 1e308, 0.5)), segments).map(([Index, PathSegments]) => JSON.stringify({ Index, PathSegments })),
    // 10,000 segments: empty ones, since with a token each the header would pass the 64 KB HTTP/2 accepts
    // (see `metadata`), and 4,000 with a token, just under it.
    fc.constant(JSON.stringify({ Index: 9_999, PathSegments: Array.from({ length: 10_000 }, () => ({})) })),
    fc.constant(JSON.stringify({ Index: 0, PathSegments: Array.from({ length: 4_000 }, () => ({ token: 't' })) })),
    fc.constantFrom('{"Index":"1"}', '{"PathSegments":{}}', '{"PathSegments":[1]}', '{"PathSegments":[{"token":5}]}', '[]', 'null', '{"index":1,"pathsegments":[{"TOKEN":"a"},{}]}'),
    headerText(),
  );
}

/**
 * Metadata for a call: mostly none; otherwise a caller token with an expiry (valid, past, far future,
 * malformed), only one of the two, repeated keys, a 60 KB token, or (for the registry) a registry path.
 */
export function metadata(options: { readonly registry: boolean }): fc.Arbitrary<[string, string][]> {
  const token = fc.oneof(headerText(), fc.constant('eyJhbGciOiJub25lIn0.e30.'));
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant<[string, string][]>([]) },
    { weight: 4, arbitrary: fc.tuple(token, expiry()).map(([t, e]): [string, string][] => [['nsm-client-token', t], ['nsm-client-token-expires', e]]) },
    { weight: 1, arbitrary: token.map((t): [string, string][] => [['nsm-client-token', t]]) },
    { weight: 1, arbitrary: expiry().map((e): [string, string][] => [['nsm-client-token-expires', e], ['nsm-client-token-expires', e]]) },
    // 60 KB: just under what Node's HTTP/2 server accepts in headers. Past it (about 64 KB) the stream is
    // reset before the role sees the call, and the grpc-js client's connection stalls for every call on it,
    // which tells nothing about the role.
    { weight: 1, arbitrary: fc.constant<[string, string][]>([['nsm-client-token', MEBIBYTE.slice(0, 60_000)], ['nsm-client-token-expires', '2100-01-01T00:00:00Z']]) },
    { weight: options.registry ? 5 : 0, arbitrary: registryPath().map((p): [string, string][] => [['path', p]]) },
  );
}
