/**
 * Registry client chains and the application-level {@link RegistryClient}.
 * @module
 */
export * from './chain.js';
export * from './client.js';
