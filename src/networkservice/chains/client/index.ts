/**
 * The client chain: what an application (an NSC) or a manager uses to request a network service from the
 * next hop. In upstream order: updatepath → begin → metadata → clienturl → clientconn → dial → [extra] →
 * trimpath → updatetoken → connect. Refresh, heal and authorize join it as they are built.
 *
 * `updatetoken` sits just before `connect` (upstream puts the token into per-RPC credentials instead): the
 * token must be minted for each call, after every element that may change the path.
 * @module
 */
export { clientChain, type ClientOptions } from './chain.js';
export { NsmClient, createClient, type RequestOptions } from './client.js';
