/**
 * The shape of a chain element. An element sees one connection's two events, Request and Close, and
 * the rest of the chain as `next`, which it may call zero, one or several times, now or later.
 * @module
 */
import type { Connection } from '../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../api/gen/networkservice.js';
import type { ChainContext } from './context.js';

/** "The rest of the chain": stable, and safe to call again later (refresh, heal, retry). */
export interface NetworkServiceHandler {
  /** Sends the Request through the rest of the chain and resolves to the connection it ends up with. */
  request(request: NetworkServiceRequest, ctx: ChainContext): Promise<Connection>;
  /** Sends the Close through the rest of the chain. */
  close(connection: Connection, ctx: ChainContext): Promise<void>;
}

/**
 * A chain element. Work before `next` is pre-processing, work after it post-processing; an element
 * that allocated something before `next` releases it when `next` fails.
 */
export interface NetworkServiceElement {
  /** Shown in spans, logs and error messages; defaults to the class name. */
  readonly name?: string;
  /** Handles a Request (a new connection or a refresh of one), normally by calling `next.request`. */
  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection>;
  /** Handles a Close, normally by calling `next.close`, and releases what the connection held here. */
  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void>;
}

/**
 * A server-side element: it receives requests from a peer that is closer to the client.
 * Server and client elements share one shape, because `next` is an argument rather than something
 * looked up from the context; the two names say where an element belongs.
 */
export type NetworkServiceServer = NetworkServiceElement;

/** A client-side element: it sits on the way to a peer closer to the endpoint, ending in `connect`. */
export type NetworkServiceClient = NetworkServiceElement;
