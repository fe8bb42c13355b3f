/**
 * `updatepath`: keeps a connection's path in step with the hop it is passing through. Every hop (client,
 * manager, forwarder, endpoint) owns one path segment, and its chain starts with this element, named after
 * the hop, so that the rest of the chain sees the connection from this hop's point of view:
 * `path.index` points at this hop's segment and `connection.id` is this hop's id for the connection.
 *
 * On Request the element moves the connection onto this hop's segment (adding it on a first request,
 * reusing it on a refresh; see {@link updatePath}), calls `next`, then turns the returned connection back
 * into the caller's view: the id and index of the segment the request arrived with. The caller thus keeps
 * the invariant `connection.id == path.pathSegments[path.index].id` it needs for its next refresh or Close.
 * Close makes the same move before `next`, so the rest of the chain closes this hop's connection.
 *
 * A request whose id does not belong to its current segment, or whose index is past the end of its path,
 * is rejected with INVALID_ARGUMENT: the hops would otherwise disagree on which connection is meant.
 * @module
 */
export { updatePath } from './common.js';
export { UpdatePathServer, updatePathServer } from './server.js';
export { UpdatePathClient, updatePathClient } from './client.js';
