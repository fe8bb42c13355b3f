/**
 * `mechanismtranslation` (client, first in a forwarder's client chain): the two sides of a forwarder use
 * different mechanisms (a kernel interface towards the client, a VXLAN tunnel towards another node), so
 * the mechanism that arrived must not travel on. On Request it sends the next hop its own mechanism (the
 * one agreed earlier for this connection, or none, with the preferences the elements after it add) and
 * gives the caller back the connection with the incoming mechanism; on Close the same swap.
 * @module
 */
import type { Connection, Mechanism } from '../../../api/gen/connection.js';
import { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { connectionMetadata, MetadataKey } from '../metadata/index.js';

const OUTGOING = new MetadataKey<Mechanism>('mechanismtranslation.outgoing');

/** The `mechanismtranslation` client element. */
export class MechanismTranslationClient implements NetworkServiceElement {
  readonly name = 'mechanismtranslation';

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const incoming = request.connection?.mechanism;
    const metadata = connectionMetadata(ctx, 'client');
    const outgoing = NetworkServiceRequest.fromPartial({ ...request, mechanismPreferences: [] });
    if (outgoing.connection !== undefined) outgoing.connection.mechanism = metadata.get(OUTGOING);
    const conn = await next.request(outgoing, ctx);
    if (conn.mechanism !== undefined) metadata.set(OUTGOING, conn.mechanism);
    return { ...conn, mechanism: incoming };
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const outgoing = connectionMetadata(ctx, 'client').get(OUTGOING);
    return next.close({ ...connection, mechanism: outgoing }, ctx);
  }
}

/** A `mechanismtranslation` client element. */
export function mechanismTranslationClient(): MechanismTranslationClient {
  return new MechanismTranslationClient();
}
