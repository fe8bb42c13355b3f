/**
 * The registry path: unlike a Connection, registry items carry no path in the message, so it travels in
 * gRPC metadata under `path`, as JSON in upstream's form `{"Index":1,"PathSegments":[{"token":"..."}]}`,
 * and the server sends the updated path back in its response headers. A path of more than
 * {@link MAX_REGISTRY_PATH_SEGMENTS} segments is refused as malformed.
 * @module
 */
import { ContextKey, type ChainContext } from '../../../networkservice/core/context.js';
import { MAX_PATH_SEGMENTS } from '../../../networkservice/common/validate/limits.js';
import { statusError, status } from '../../../tools/grpc/status.js';

/** The metadata key of the registry path. */
export const REGISTRY_PATH_METADATA_KEY = 'path';

/**
 * The most segments of a registry path, as of a connection's path (one per hop: a handful). Each hop
 * records a path id per segment in the item, so the count must be bounded before anything is stored.
 */
export const MAX_REGISTRY_PATH_SEGMENTS = MAX_PATH_SEGMENTS;

/**
 * The longest registry path in its JSON form (characters). The path goes back in the response headers
 * and on to the next hop in request headers; HTTP/2 peers accept about 64 KB of headers, and a response
 * whose headers are past what the client accepts never arrives (the call hangs and takes the client's
 * connection with it). Half of that leaves room for the other headers; real paths (a JWT of about a
 * kilobyte per hop) are a few kilobytes.
 */
export const MAX_REGISTRY_PATH_LENGTH = 32_768;

/** One hop of a registry path. */
export interface RegistryPathSegment {
  /** The token the hop signed for the next one. */
  token: string;
}

/** The registry path of one call; elements update it in place. */
export interface RegistryPath {
  /** The position of the current hop in `segments`. */
  index: number;
  /** One segment per hop, the first being the original caller. */
  segments: RegistryPathSegment[];
}

const PATH = new ContextKey<RegistryPath>('registry.path');

/** The registry path of the current call, if `grpcmetadata` (or the caller) put one in the context. */
export function registryPathFrom(ctx: ChainContext): RegistryPath | undefined {
  return ctx.value(PATH);
}

/** The context with `path` as the registry path. */
export function withRegistryPath(ctx: ChainContext, path: RegistryPath): ChainContext {
  return ctx.withValue(PATH, path);
}

/** A deep copy of a path. */
export function cloneRegistryPath(path: RegistryPath): RegistryPath {
  return { index: path.index, segments: path.segments.map((s) => ({ token: s.token })) };
}

/** The JSON form upstream reads and writes. */
export function formatRegistryPath(path: RegistryPath): string {
  return JSON.stringify({ Index: path.index, PathSegments: path.segments.map((s) => ({ token: s.token })) });
}

function field(object: Record<string, unknown>, name: string): unknown {
  // Go's encoding/json matches field names case-insensitively.
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : object[key];
}

/** Parses the JSON form; INVALID_ARGUMENT saying what is wrong when it is malformed. */
export function parseRegistryPath(text: string): RegistryPath {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw statusError(status.INVALID_ARGUMENT, `registry path metadata is not JSON: ${text.slice(0, 80)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw statusError(status.INVALID_ARGUMENT, 'registry path metadata is not a JSON object');
  }
  const object = value as Record<string, unknown>;
  const index = field(object, 'Index') ?? 0;
  const rawSegments = field(object, 'PathSegments') ?? [];
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) {
    throw statusError(status.INVALID_ARGUMENT, `registry path Index is not a non-negative integer: ${JSON.stringify(index)}`);
  }
  if (!Array.isArray(rawSegments)) throw statusError(status.INVALID_ARGUMENT, 'registry path PathSegments is not an array');
  if (rawSegments.length > MAX_REGISTRY_PATH_SEGMENTS) {
    throw statusError(status.INVALID_ARGUMENT, `registry path has ${rawSegments.length} segments: at most ${MAX_REGISTRY_PATH_SEGMENTS}`);
  }
  const segments = rawSegments.map((segment: unknown, i): RegistryPathSegment => {
    if (typeof segment !== 'object' || segment === null) {
      throw statusError(status.INVALID_ARGUMENT, `registry path PathSegments[${i}] is not an object`);
    }
    const token = field(segment as Record<string, unknown>, 'token') ?? '';
    if (typeof token !== 'string') throw statusError(status.INVALID_ARGUMENT, `registry path PathSegments[${i}].token is not a string`);
    return { token };
  });
  return { index, segments };
}
