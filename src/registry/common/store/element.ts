/**
 * The `store` element: the end of a registry server chain that keeps items in a {@link RegistryStore}.
 * Register stores what the rest of the chain returned; Find emits the matching items, and with `watch`
 * then every later matching change (a delete as `deleted: true`); Unregister removes the item.
 * @module
 */
import { concat, defer, merge, mergeMap, type Observable } from 'rxjs';
import type { ChainContext } from '../../../networkservice/core/context.js';
import type { RegistryKind } from '../../core/kind.js';
import type { FindResult, RegistryElement, RegistryHandler } from '../../core/types.js';
import type { RegistryStore } from './types.js';

/** A registry element over a store. */
export class StoreElement<R, Q> implements RegistryElement<R, Q> {
  readonly name: string;

  constructor(
    private readonly kind: RegistryKind<R, Q, unknown>,
    /** The store the items are kept in. */
    readonly store: RegistryStore<R>,
  ) {
    this.name = `store(${store.description})`;
  }

  async register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    const response = await next.register(item, ctx);
    await this.store.put(response);
    return response;
  }

  find(query: Q, ctx: ChainContext, next: RegistryHandler<R, Q>): Observable<FindResult<R>> {
    const { filter: wanted, watch } = this.kind.readQuery(query);
    const name = this.kind.nameOf(wanted);
    const term = this.kind.queryTerm?.(wanted);
    const storeQuery = {
      match: (item: R): boolean => this.kind.matches(wanted, item),
      ...(name === '' ? {} : { name }),
      ...(term === undefined ? {} : { term }),
    };
    if (!watch) {
      const current = defer(() => this.store.list(storeQuery)).pipe(
        mergeMap((items) => items.map((item): FindResult<R> => ({ item, deleted: false }))),
      );
      return concat(current, next.find(query, ctx));
    }
    return merge(next.find(query, ctx), this.store.watch(storeQuery));
  }

  async unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    await this.store.delete(this.kind.nameOf(item));
    await next.unregister(item, ctx);
  }
}

/** A `store` element over `store`. */
export function storeElement<R, Q>(kind: RegistryKind<R, Q, unknown>, store: RegistryStore<R>): StoreElement<R, Q> {
  return new StoreElement(kind, store);
}
