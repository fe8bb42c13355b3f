/**
 * The forwarder: chain, data planes and a server.
 * @module
 */
export * from './chain.js';
export * from './serve.js';
