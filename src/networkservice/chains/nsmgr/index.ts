/**
 * The Network Service Manager: chains and a server.
 * @module
 */
export * from './chain.js';
export * from './serve.js';
