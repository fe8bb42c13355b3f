import type { Connection } from '../../../api/gen/connection.js';
import { NetworkServiceService, type NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement } from '../../core/types.js';
import { unaryCall } from '../../../tools/grpc/call.js';
import { statusError, status } from '../../../tools/grpc/status.js';
import { loadChannel, type HeldChannel } from '../clientconn/index.js';

function channel(ctx: ChainContext): HeldChannel {
  const held = loadChannel(ctx);
  if (held === undefined) {
    throw statusError(status.FAILED_PRECONDITION, 'no gRPC channel for this connection: put dial or clientconn before connect');
  }
  return held;
}

/** Sends Request and Close to the next hop; the end of a client chain (it never calls `next`). */
export class ConnectClient implements NetworkServiceElement {
  readonly name = 'connect/client';

  request(request: NetworkServiceRequest, ctx: ChainContext): Promise<Connection> {
    return unaryCall(channel(ctx).client, NetworkServiceService.request, request, ctx);
  }

  async close(connection: Connection, ctx: ChainContext): Promise<void> {
    await unaryCall(channel(ctx).client, NetworkServiceService.close, connection, ctx);
  }
}

/** A `connect` client element. */
export function connectClient(): ConnectClient {
  return new ConnectClient();
}
