import type { Connection, PathSegment } from '../../../api/gen/connection.js';
import type { Timestamp } from '../../../api/gen/google/protobuf/timestamp.js';
import { errorMessage, hasStatusCode, statusError, status } from '../../../tools/grpc/status.js';
import type { GeneratedToken, PeerAuthInfo, TokenGenerator } from '../../../tools/token/index.js';

// Local stand-ins for the shared path and timestamp helpers (src/api/path.ts), which did not exist
// when this element was written; same semantics as the api repo's getters.

/** The segment at `path.index`, or undefined when the index is out of range. */
export function currentSegment(conn: Connection | undefined): PathSegment | undefined {
  const path = conn?.path;
  if (path === undefined) return undefined;
  return path.pathSegments[path.index];
}

/** The segment before `path.index` (the caller's), or undefined for the first hop. */
export function previousSegment(conn: Connection | undefined): PathSegment | undefined {
  const path = conn?.path;
  if (path === undefined || path.index === 0) return undefined;
  return path.pathSegments[path.index - 1];
}

/** A protobuf Timestamp for a Date (nanos are never negative, as the Timestamp spec requires). */
export function timestampFromDate(date: Date): Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

/**
 * Generates a token and writes it, with its expiry, into the current path segment. Throws
 * INVALID_ARGUMENT when there is no current segment, and the generator's code (or INTERNAL) when it
 * fails, so that nothing further runs with an unsigned segment.
 */
export async function updateOwnToken(
  conn: Connection,
  peer: PeerAuthInfo | undefined,
  generator: TokenGenerator,
): Promise<GeneratedToken> {
  const segment = currentSegment(conn);
  if (segment === undefined) {
    throw statusError(
      status.INVALID_ARGUMENT,
      `connection path index ${conn.path?.index ?? 0} is out of range (${conn.path?.pathSegments.length ?? 0} ` +
        'path segments): updatepath must run before updatetoken',
    );
  }
  let generated: GeneratedToken;
  try {
    generated = await generator(peer);
  } catch (error) {
    throw statusError(
      hasStatusCode(error) ? error.code : status.INTERNAL,
      `failed to generate a token: ${errorMessage(error)}`,
      error,
    );
  }
  if (!(generated.expires instanceof Date) || Number.isNaN(generated.expires.getTime())) {
    throw statusError(status.INTERNAL, 'failed to generate a token: the generator returned an invalid expiry');
  }
  segment.token = generated.token;
  segment.expires = timestampFromDate(generated.expires);
  return generated;
}
