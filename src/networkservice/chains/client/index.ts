/**
 * The client chain: what an application (an NSC) or a manager uses to request a network service from the
 * next hop. In upstream order: updatepath → begin → metadata → [monitor] → refresh → clienturl → clientconn →
 * [heal] → dial → [extra] → trimpath → updatetoken → connect. `monitor` records the client's connections
 * for applications to watch; `refresh` re-requests before tokens expire (on by default, off in the inner
 * clients of managers and forwarders); `heal` watches the next hop and restores or reselects (on in
 * {@link NsmClient}, off in {@link clientChain} unless asked for).
 *
 * `updatetoken` sits just before `connect` (upstream puts the token into per-RPC credentials instead): the
 * token must be minted for each call, after every element that may change the path.
 * @module
 */
export { clientChain, nextHopClientChain, type ClientOptions } from './chain.js';
export { NsmClient, createClient, type NsmClientOptions, type RequestOptions } from './client.js';
