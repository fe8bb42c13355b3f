import { Metadata } from '@grpc/grpc-js';
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { OUTGOING_METADATA } from '../../../tools/grpc/keys.js';
import { statusError, status } from '../../../tools/grpc/status.js';
import { writeTokenMetadata, type TokenGenerator } from '../../../tools/token/index.js';
import { updateOwnToken } from './common.js';
import { nextHopPeer } from '../clientconn/index.js';

/**
 * Signs our segment and sends the same token in the call's metadata, which is where the next hop's
 * `updatetoken` server reads it from. Metadata rather than call credentials, because grpc-js sends call
 * credentials only over TLS and NSM also runs over plain unix sockets.
 */
export class UpdateTokenClient implements NetworkServiceElement {
  readonly name = 'updatetoken/client';

  constructor(private readonly generator: TokenGenerator) {}

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    if (conn === undefined) throw statusError(status.INVALID_ARGUMENT, 'request has no connection');
    return next.request(request, await this.update(conn, ctx));
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, await this.update(connection, ctx));
  }

  /** Signs `conn` and returns the context whose outgoing metadata carries the token. */
  private async update(conn: Connection, ctx: ChainContext): Promise<ChainContext> {
    // `dial` ran before us: over mTLS its channel knows the next hop, the token's audience.
    const { token, expires } = await updateOwnToken(conn, nextHopPeer(ctx), this.generator);
    const existing = ctx.value(OUTGOING_METADATA);
    if (existing !== undefined) {
      writeTokenMetadata(existing, token, expires);
      return ctx;
    }
    const metadata = new Metadata();
    writeTokenMetadata(metadata, token, expires);
    return ctx.withValue(OUTGOING_METADATA, metadata);
  }
}

/** An `updatetoken` client element that signs our segments with `generator`. */
export function updateTokenClient(generator: TokenGenerator): UpdateTokenClient {
  return new UpdateTokenClient(generator);
}
