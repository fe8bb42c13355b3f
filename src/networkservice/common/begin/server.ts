import { type Connection, State } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { ConnectionStates } from './eventfactory.js';

/**
 * The server side of `begin`. Per connection id, events run one at a time in arrival order; a Request
 * that asks for reselection first closes the path it had; Close closes the last connection this chain
 * returned successfully (not whatever the peer sent); and elements after it get an event factory.
 */
export class BeginServer implements NetworkServiceElement {
  readonly name: string = 'begin/server';
  /** The state of every connection this element has seen and not yet forgotten, by id. */
  protected readonly states = new ConnectionStates(ChainContext.background());

  /** Connections with state; used by leak checks. */
  get size(): number {
    return this.states.size;
  }

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const id = request.connection?.id ?? '';
    const state = this.states.getOrCreate(id);
    return state.queue.run(async () => {
      // Closed and replaced while we waited: start again on the new state.
      if (!state.current) return this.request(request, ctx, next);
      if (state.phase === 'established' && request.connection?.state === State.RESELECT_REQUESTED) {
        await state.closeForReselect(ctx);
      }
      const prepared = this.prepare(request, state.returned, state.lastRequest?.connection);
      state.recordAsked(prepared);
      let conn: Connection;
      try {
        conn = await next.request(prepared, state.withFactory(ctx));
      } catch (error) {
        state.failed();
        throw error;
      }
      this.finish(conn);
      state.established(prepared, conn, ctx, next);
      return conn;
    });
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const state = this.states.get(connection.id);
    if (state === undefined) return Promise.resolve();
    return state.queue.run(async () => {
      const last = state.lastRequest?.connection;
      if (state.phase !== 'established' || !state.current || last === undefined) return;
      try {
        await next.close(last, state.withFactory(ctx));
      } finally {
        state.forget();
      }
    });
  }

  /** Hook for the client side, which merges a stale connection object with the latest one. */
  protected prepare(request: NetworkServiceRequest, _returned?: Connection, _latest?: Connection): NetworkServiceRequest {
    return request;
  }

  /** The server marks every connection it returns as UP. */
  protected finish(conn: Connection): void {
    conn.state = State.UP;
  }
}

/** A server-side `begin` element. */
export function beginServer(): BeginServer {
  return new BeginServer();
}
