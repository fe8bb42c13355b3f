import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { INCOMING_METADATA } from '../../../tools/grpc/keys.js';
import { errorMessage, statusError, status } from '../../../tools/grpc/status.js';
import { PEER_AUTH_INFO, readTokenMetadata, type TokenGenerator } from '../../../tools/token/index.js';
import { getPrevPathSegment, timestampFromMillis } from '../../../api/path.js';
import { updateOwnToken } from './common.js';

/**
 * Puts the caller's token (from the call's metadata) into the caller's segment and our own token into
 * ours. A missing or unreadable caller token is only logged, as upstream does: whether a path without it
 * is acceptable is for `authorize` to decide. A missing token is logged at debug level (a caller without
 * tokens sends none on every call, and a line per request at the default level would cost every
 * request); an unreadable one at warn.
 */
export class UpdateTokenServer implements NetworkServiceElement {
  readonly name = 'updatetoken/server';

  constructor(private readonly generator: TokenGenerator) {}

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    if (conn === undefined) throw statusError(status.INVALID_ARGUMENT, 'request has no connection');
    await this.update(conn, ctx);
    return next.request(request, ctx);
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    await this.update(connection, ctx);
    return next.close(connection, ctx);
  }

  private async update(conn: Connection, ctx: ChainContext): Promise<void> {
    const prev = getPrevPathSegment(conn);
    if (prev !== undefined) {
      const metadata = ctx.value(INCOMING_METADATA);
      let problem: string | undefined;
      // Missing: normal for a caller without tokens (an insecure peer), so debug. Unreadable: a broken
      // peer, worth a warning.
      let level: 'debug' | 'warn' = 'debug';
      if (metadata === undefined) {
        problem = 'the call has no incoming metadata';
      } else {
        try {
          const caller = readTokenMetadata(metadata);
          if (caller === undefined) {
            problem = 'the incoming metadata has no token';
          } else {
            prev.token = caller.token;
            prev.expires = timestampFromMillis(caller.expires.getTime());
          }
        } catch (error) {
          problem = errorMessage(error);
          level = 'warn';
        }
      }
      if (problem !== undefined) {
        ctx.logger[level](`updatetoken: caller's token not updated: ${problem}`, {
          connectionId: conn.id,
          segment: prev.name,
        });
      }
    }
    await updateOwnToken(conn, ctx.value(PEER_AUTH_INFO), this.generator);
  }
}

/** An `updatetoken` server element that signs our segments with `generator`. */
export function updateTokenServer(generator: TokenGenerator): UpdateTokenServer {
  return new UpdateTokenServer(generator);
}
