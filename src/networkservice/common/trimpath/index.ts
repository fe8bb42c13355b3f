/**
 * `trimpath`: makes the hop that ends a connection's path also end the path it returns. A client may send
 * a path longer than the hops that now serve it (segments left from an earlier route, or from an endpoint
 * that was since replaced); an endpoint must not hand those stale segments back, or every later refresh
 * would carry them along.
 *
 * - {@link TrimPathServer}: after `next` returns, cuts `path.pathSegments` down to end with the current
 *   segment (`path.index`), unless a trimpath client ran further down the same chain for this call.
 * - {@link TrimPathClient}: marks the call as passed through. A hop that forwards the connection (a manager,
 *   a forwarder) has a client chain below its server chain; the segments after its own then belong to the
 *   hops it reached, and must be kept.
 *
 * The mark travels in the call's context as a flag object that the server creates for each call, so it
 * concerns only that call and the nearest server above the client. Close passes through both untouched.
 * @module
 */
export { TrimPathServer, trimPathServer } from './server.js';
export { TrimPathClient, trimPathClient } from './client.js';
