import type { Connection } from '../../../api/gen/connection.js';
import { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { BeginServer } from './server.js';

type Field = 'mechanism' | 'context' | 'labels' | 'networkService' | 'networkServiceEndpointName' | 'payload' | 'state';
const USER_FIELDS: readonly Field[] = [
  'mechanism',
  'context',
  'labels',
  'networkService',
  'networkServiceEndpointName',
  'payload',
  'state',
];

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Builds the connection to send when the caller re-requests with a connection object: the latest
 * connection this chain holds (its path and tokens may have moved on through refresh or heal), with the
 * fields the caller changed since it was returned to them. So refresh with an old object still works.
 * Only the first hop (index 0) keeps the stored path: later hops take the path the previous hop sent.
 */
export function mergeConnection(requested: Connection, returned: Connection | undefined, latest: Connection | undefined): Connection {
  if (returned === undefined || latest === undefined) return requested;
  const merged = NetworkServiceRequest.fromPartial({ connection: latest }).connection ?? latest;
  const target = merged as unknown as Record<Field, unknown>;
  const source = requested as unknown as Record<Field, unknown>;
  const before = returned as unknown as Record<Field, unknown>;
  for (const field of USER_FIELDS) {
    if (!same(source[field], before[field])) target[field] = source[field];
  }
  // A hop after the first (a manager's or forwarder's client) gets its path from the previous hop, which
  // has just renewed the earlier segments' tokens; the stored path would send those tokens back expired.
  if (requested.path !== undefined && requested.path.index > 0) merged.path = requested.path;
  return merged;
}

/**
 * The client side of `begin`: the same one-at-a-time queue and event factory as the server, and a
 * re-request with an old connection object is merged with the latest connection (see
 * {@link mergeConnection}). The client does not touch the state the endpoint returned.
 */
export class BeginClient extends BeginServer {
  override readonly name: string = 'begin/client';

  protected override prepare(
    request: NetworkServiceRequest,
    returned?: Connection,
    latest?: Connection,
  ): NetworkServiceRequest {
    if (request.connection === undefined) return request;
    return { ...request, connection: mergeConnection(request.connection, returned, latest) };
  }

  protected override finish(): void {}
}

/** A client-side `begin` element. */
export function beginClient(): BeginClient {
  return new BeginClient();
}
