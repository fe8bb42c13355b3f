/**
 * The chain machinery of the Network Service API: element interfaces, chains, adapters, context, tracing.
 * @module
 */
export * from './types.js';
export * from './context.js';
export * from './chain.js';
export * from './adapters.js';
export * from './tail.js';
export { attributeError, raisedBy, RAISED_BY } from './trace.js';
export { diff, type Change } from './diff.js';
