/**
 * `authorize` for registries. The server side checks the caller's side of the registry path (the same
 * token policies as a connection's: signed, unexpired, chained, the caller's own segment signed by its
 * TLS certificate) and who may touch a name (only the workload that registered it may register it again
 * or unregister it: upstream's `registry_client_allowed`). The client side checks the path the registry
 * sent back, from this hop on, and takes a refused registration back. Finds are not judged: what the
 * registry holds is readable by every workload of the trust domain, as upstream's.
 *
 * Place the server after `updatepath` (which put the caller's token into its segment) and the client
 * after `dial` (which knows the registry's TLS identity). In insecure mode the policy lists are empty.
 * @module
 */
export { AuthorizeRegistryServer, authorizeRegistryServer, type AuthorizeRegistryServerOptions } from './server.js';
export { AuthorizeRegistryClient, authorizeRegistryClient } from './client.js';
export { nseExpiresMs } from './common.js';
