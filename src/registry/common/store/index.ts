/**
 * The registry store contract and the element that ends a registry server chain in a store.
 * @module
 */
export type { RegistryStore, StoreEvent, StoreQuery } from './types.js';
export { StoreElement, storeElement } from './element.js';
