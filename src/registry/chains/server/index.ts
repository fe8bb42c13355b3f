/**
 * The registry server: chains for both registries and a server that serves them on one listener.
 * @module
 */
export * from './chain.js';
export * from './serve.js';
