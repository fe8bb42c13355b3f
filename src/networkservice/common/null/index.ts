/**
 * `null`: does nothing but pass both events on. A placeholder where an optional element is switched off,
 * and the unit of the chain-overhead benchmark.
 * @module
 */
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';

export class NullElement implements NetworkServiceElement {
  readonly name = 'null';

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    return next.request(request, ctx);
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }
}

/** A `null` element (server or client). */
export function nullElement(): NullElement {
  return new NullElement();
}
