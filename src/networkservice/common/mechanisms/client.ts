import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { mechanismType, wrapMechanismElements, type MechanismElements } from './common.js';

/** Options of {@link MechanismsClient}. */
export interface MechanismsClientOptions {
  /** How long closing a connection whose setup failed may take, in milliseconds (default 5000). */
  readonly cleanupTimeoutMs?: number;
}

/**
 * The client-side counterpart of {@link MechanismsServer}: the server picks the mechanism, so the client
 * learns it only from the connection that comes back. This element therefore calls `next` first and then
 * runs the sub-element for the returned connection's mechanism type, on a request carrying that connection.
 * The sub-element's `next` answers at once with the connection already obtained, so its work after `next`
 * (setting up its end of the data plane) is what counts. A connection whose type has no sub-element passes
 * through.
 */
export class MechanismsClient implements NetworkServiceElement {
  readonly name = 'mechanisms/client';
  private readonly elements: Map<string, NetworkServiceElement>;

  private readonly cleanupTimeoutMs: number;

  /**
   * @param mechanisms one element per mechanism type to handle, e.g. `{ KERNEL: kernelSetup }`
   */
  constructor(mechanisms: MechanismElements, options: MechanismsClientOptions = {}) {
    this.elements = wrapMechanismElements('client', mechanisms);
    this.cleanupTimeoutMs = options.cleanupTimeoutMs ?? 5000;
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const established = mechanismType(request.connection?.mechanism) !== undefined;
    const conn = await next.request(request, ctx);
    const type = mechanismType(conn.mechanism);
    const element = type === undefined ? undefined : this.elements.get(type);
    if (element === undefined) return conn;

    // The server has answered already: what the sub-element passes on comes straight back, carrying both
    // the server's answer and the sub-element's own changes, as a round trip would.
    const answered: NetworkServiceHandler = {
      request: (req) => Promise.resolve(req.connection ?? conn),
      close: (c, cctx) => next.close(c, cctx),
    };
    const replay: NetworkServiceRequest = { connection: conn, mechanismPreferences: request.mechanismPreferences };
    try {
      return await element.request(replay, ctx, answered);
    } catch (error) {
      // A new connection our side could not complete must not stay open downstream; an established one is
      // left to refresh and heal.
      if (!established) {
        // The caller's context may be why it failed (deadline), so clean up in a fresh, bounded one.
        const [cleanupCtx, cancel] = ctx.detach().withCancel(this.cleanupTimeoutMs);
        try {
          await next.close(conn, cleanupCtx);
        } catch (closeError) {
          ctx.logger.warn('mechanisms/client: closing after a failed request failed', {
            error: errorMessage(closeError),
          });
        } finally {
          cancel();
        }
      }
      throw error;
    }
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const type = mechanismType(connection.mechanism);
    const element = type === undefined ? undefined : this.elements.get(type);
    if (element === undefined) return next.close(connection, ctx);
    return element.close(connection, ctx, next);
  }
}

/** A `mechanisms` client element dispatching to `mechanisms` by the returned connection's mechanism type. */
export function mechanismsClient(mechanisms: MechanismElements, options?: MechanismsClientOptions): MechanismsClient {
  return new MechanismsClient(mechanisms, options);
}
