/**
 * `mechanisms`: a shim that picks how a connection is plumbed (its mechanism: `KERNEL`, `MEMIF`, `VXLAN`, ...)
 * and hands the work to an element made for that mechanism, so the elements for each mechanism stay
 * ignorant of the others.
 *
 * - {@link MechanismsServer}: on a first request, takes the first of `request.mechanismPreferences` whose type
 *   it supports, sets it as `connection.mechanism` and passes the request to that type's element, which calls
 *   `next`. A refresh keeps the connection's mechanism. When nothing offered is supported, the request fails
 *   with INVALID_ARGUMENT listing what was offered and what is supported. Unlike upstream, a failure of the
 *   chosen mechanism's element (or of what follows it) is returned as is rather than retried with the next
 *   preference: retrying would repeat the whole rest of the chain, which the caller can do itself.
 * - {@link MechanismsClient}: the server chooses, so the client dispatches on the mechanism type of the
 *   connection that comes back and runs that type's element for its post-processing.
 *
 * On Close both dispatch by `connection.mechanism.type`; a connection without a known mechanism is simply
 * passed on to `next`.
 *
 * ```ts
 * mechanismsServer({ KERNEL: kernelMechanismServer() })
 * ```
 * @module
 */
export { type MechanismElements } from './common.js';
export { MechanismsServer, mechanismsServer } from './server.js';
export { MechanismsClient, mechanismsClient, type MechanismsClientOptions } from './client.js';
