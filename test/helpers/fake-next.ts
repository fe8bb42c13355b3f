import { Connection } from '../../src/api/gen/connection.js';
import type { NetworkServiceRequest } from '../../src/api/gen/networkservice.js';
import type { ChainContext } from '../../src/networkservice/core/context.js';
import type { NetworkServiceHandler } from '../../src/networkservice/core/types.js';

/** A recording `next` for element unit tests. */
export class FakeNext implements NetworkServiceHandler {
  readonly requests: { request: NetworkServiceRequest; ctx: ChainContext }[] = [];
  readonly closes: { connection: Connection; ctx: ChainContext }[] = [];
  /** Set to make the next calls fail (or to run custom logic). */
  onRequest: ((request: NetworkServiceRequest, ctx: ChainContext) => Promise<Connection>) | undefined;
  onClose: ((connection: Connection, ctx: ChainContext) => Promise<void>) | undefined;

  async request(request: NetworkServiceRequest, ctx: ChainContext): Promise<Connection> {
    this.requests.push({ request, ctx });
    if (this.onRequest !== undefined) return this.onRequest(request, ctx);
    return Connection.fromPartial(request.connection ?? {});
  }

  async close(connection: Connection, ctx: ChainContext): Promise<void> {
    this.closes.push({ connection, ctx });
    if (this.onClose !== undefined) await this.onClose(connection, ctx);
  }
}

/** Resolves after the current macrotask queue drains, letting pending promise chains run. */
export function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
