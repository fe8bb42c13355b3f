import { Mechanism, type Connection } from '../../../api/gen/connection.js';
import { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { status, statusError } from '../../../tools/grpc/status.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { mechanismType, wrapMechanismElements, type MechanismElements } from './common.js';

/**
 * Chooses the connection's mechanism on the server side and hands the request to the sub-element for that
 * mechanism type. Sub-elements are ordinary elements: they receive this element's `next` and call it.
 */
export class MechanismsServer implements NetworkServiceElement {
  readonly name = 'mechanisms/server';
  private readonly elements: Map<string, NetworkServiceElement>;

  /** @param mechanisms one element per supported mechanism type, e.g. `{ KERNEL: kernelServer() }` */
  constructor(mechanisms: MechanismElements) {
    this.elements = wrapMechanismElements('server', mechanisms);
  }

  /** The supported mechanism types, in the order given. */
  get supported(): string[] {
    return [...this.elements.keys()];
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    if (conn === undefined) throw statusError(status.INVALID_ARGUMENT, 'request has no connection');

    // A connection that already has a mechanism (a refresh) keeps it: changing it would tear down the data plane.
    const current = mechanismType(conn.mechanism);
    if (current !== undefined) {
      const element = this.elements.get(current);
      if (element === undefined) {
        throw statusError(
          status.INVALID_ARGUMENT,
          `connection mechanism ${current} is not supported; supported: ${this.describeSupported()}`,
        );
      }
      return element.request(request, ctx, next);
    }

    for (const preference of request.mechanismPreferences) {
      const element = this.elements.get(preference.type);
      if (element === undefined) continue;
      // A copy: the sub-element fills the chosen mechanism's parameters, and neither the caller's request nor
      // the preference list should change with it.
      const chosen = NetworkServiceRequest.fromPartial(request);
      (chosen.connection as Connection).mechanism = Mechanism.fromPartial(preference);
      return element.request(chosen, ctx, next);
    }

    const offered = request.mechanismPreferences.map((m) => m.type || '(empty type)');
    throw statusError(
      status.INVALID_ARGUMENT,
      `none of the offered mechanisms is supported: offered ${offered.length === 0 ? 'none' : offered.join(', ')}; ` +
        `supported: ${this.describeSupported()}`,
    );
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const type = mechanismType(connection.mechanism);
    const element = type === undefined ? undefined : this.elements.get(type);
    // Nothing of ours was set up for an unknown mechanism, but the rest of the chain still must close.
    if (element === undefined) return next.close(connection, ctx);
    return element.close(connection, ctx, next);
  }

  private describeSupported(): string {
    return this.elements.size === 0 ? 'none' : this.supported.join(', ');
  }
}

/** A `mechanisms` server element dispatching to `mechanisms` by mechanism type. */
export function mechanismsServer(mechanisms: MechanismElements): MechanismsServer {
  return new MechanismsServer(mechanisms);
}
