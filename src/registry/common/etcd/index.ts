/**
 * `etcd`: a registry store in an etcd v3 cluster, shared by several registry processes.
 * @module
 */
import type { RegistryKind } from '../../core/kind.js';
import { StoreElement } from '../store/element.js';
import { createEtcdStore, type CreateEtcdStoreOptions, type EtcdStore } from './store.js';

export { EtcdStore, createEtcdStore, type EtcdCodec, type EtcdStoreOptions, type CreateEtcdStoreOptions } from './store.js';

/** An etcd store for `kind` under `prefix` (default `/nsm/registry/<resource>/`). */
export function etcdStore<R, Q>(
  kind: RegistryKind<R, Q, unknown>,
  endpoints: readonly string[],
  options: Partial<CreateEtcdStoreOptions> = {},
): EtcdStore<R> {
  return createEtcdStore(endpoints, kind, { ...options, prefix: options.prefix ?? `/nsm/registry/${kind.resource}/` });
}

/** A `store` element over a fresh etcd store. */
export function etcdServer<R, Q>(kind: RegistryKind<R, Q, unknown>, endpoints: readonly string[], options: Partial<CreateEtcdStoreOptions> = {}): StoreElement<R, Q> {
  return new StoreElement(kind, etcdStore(kind, endpoints, options));
}
