import type { Connection } from '../../../api/gen/connection.js';
import { getCurrentPathSegment, timestampFromMillis } from '../../../api/path.js';
import { errorMessage, hasStatusCode, statusError, status } from '../../../tools/grpc/status.js';
import type { GeneratedToken, PeerAuthInfo, TokenGenerator } from '../../../tools/token/index.js';

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
  const segment = getCurrentPathSegment(conn);
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
  segment.expires = timestampFromMillis(generated.expires.getTime());
  return generated;
}
