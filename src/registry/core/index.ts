/**
 * The chain machinery of the Registry API: element interfaces, chains, adapters, the resource kinds and
 * serving.
 * @module
 */
export * from './types.js';
export * from './find.js';
export * from './kind.js';
export * from './chain.js';
export * from './adapters.js';
export * from './tail.js';
export * from './serve.js';
