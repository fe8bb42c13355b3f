/**
 * The endpoint chain: what a Network Service Endpoint serves. In upstream order: updatepath → begin →
 * updatetoken → metadata → trimpath → [your elements]; authorize, timeout and monitor join it as they are
 * built. It starts with `validate`, which rejects what no NSM peer sends before anything is stored.
 * @module
 */
export { endpointChain, type EndpointOptions } from './chain.js';
export { serveEndpoint, type ServedEndpoint } from './serve.js';
