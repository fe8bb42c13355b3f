/**
 * `authorize`: zero trust on every hop. The server side checks the caller's side of the path before
 * anything else runs (tokens signed by the SPIFFE IDs they name, unexpired, each for the next hop, the
 * caller's own one signed by its TLS certificate); the client side checks what came back from the next
 * hop (the same, with the next hop's token signed by its TLS certificate) and closes the connection it
 * will not use. A failure is PERMISSION_DENIED naming the policy and the segment.
 *
 * Place the server after `updatetoken` (it has put the caller's token into the caller's segment) and
 * the client before `trimpath`. Events a role runs itself (`begin`'s local events: a timeout's Close,
 * heal) are not judged again (upstream sdk#1512). In insecure mode the policy lists are empty and both
 * sides only pass calls on.
 * @module
 */
export { AuthorizeServer, authorizeServer } from './server.js';
export { AuthorizeClient, authorizeClient } from './client.js';
export { pathSide } from './common.js';
export { authorizeMonitorEvents } from './monitor.js';
