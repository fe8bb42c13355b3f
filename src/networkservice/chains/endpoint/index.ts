/**
 * The endpoint chain: what a Network Service Endpoint serves. In upstream order: updatepath → begin →
 * updatetoken → metadata → trimpath → [your elements]; authorize, timeout and monitor join it as they are
 * built. It starts with `validate`, which rejects what no NSM peer sends before anything is stored, and
 * `endpointname` stamps the endpoint's name on connections that arrive without one (a client that dialed
 * the endpoint directly, with no manager to choose it).
 * @module
 */
export { endpointChain, type EndpointOptions } from './chain.js';
export { serveEndpoint, type ServedEndpoint } from './serve.js';
