/**
 * `memory`: the embedded registry store. A registry server chain ends in `memoryServer(kind)` unless it
 * is configured with another store (etcd).
 * @module
 */
import type { RegistryKind } from '../../core/kind.js';
import { StoreElement } from '../store/element.js';
import { MemoryStore } from './store.js';

export { MemoryStore, type StoreCodec } from './store.js';

/** A memory store for `kind`. */
export function memoryStore<R, Q>(kind: RegistryKind<R, Q, unknown>): MemoryStore<R> {
  const terms = kind.terms;
  return new MemoryStore({
    nameOf: (item) => kind.nameOf(item),
    clone: (item) => kind.clone(item),
    ...(terms === undefined ? {} : { terms: (item: R) => terms(item) }),
  });
}

/** A `store` element over a fresh memory store. */
export function memoryServer<R, Q>(kind: RegistryKind<R, Q, unknown>): StoreElement<R, Q> {
  return new StoreElement(kind, memoryStore(kind));
}
