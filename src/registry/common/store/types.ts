/**
 * The store contract: what a registry keeps its items in. The in-memory store is the embedded default;
 * the etcd store shares one registry between several registry processes. Both pass the same conformance
 * suite, and the `store` element turns either into the end of a registry chain.
 * @module
 */
import type { Observable } from 'rxjs';

/** A change in a store: an item added or updated, or deleted (then `item` is its last value). */
export interface StoreEvent<R> {
  /** The item as stored, or its last value when deleted. */
  readonly item: R;
  /** True when the item was deleted. */
  readonly deleted: boolean;
}

/** What a list or watch is about: all items, or those `match` accepts; `name` narrows it to one key. */
export interface StoreQuery<R> {
  /** Accepts the items the query is about; all items when unset. */
  readonly match?: (item: R) => boolean;
  /** When set, only the item of that name can match: a store reads (and watches) just that key. */
  readonly name?: string;
  /**
   * When set, only items with this index term (see `RegistryKind.terms`) can match: a store with an
   * index reads just those. `match` still decides.
   */
  readonly term?: string;
}

/** Items keyed by name, with a watch. Items handed in and out are copies: callers may mutate them. */
export interface RegistryStore<R> {
  /** A short description for logs, e.g. `memory` or `etcd(http://127.0.0.1:2379)`. */
  readonly description: string;
  /** Stores `item` under its name, replacing an earlier one; watchers see it (not deleted). */
  put(item: R): Promise<void>;
  /** Removes the item named `name` and returns it; undefined (and no event) when there was none. */
  delete(name: string): Promise<R | undefined>;
  /** The item named `name`, if any. */
  get(name: string): Promise<R | undefined>;
  /** Every item the query accepts (all by default), in no particular order. */
  list(query?: StoreQuery<R>): Promise<R[]>;
  /**
   * Every current item (as not deleted), then every later change in the order the store applied them,
   * until unsubscribed. Nothing is missed between the two parts. A store that loses its backend errors the
   * Observable. Only items the query accepts are emitted (a store uses it to avoid copying, decoding or
   * even reading what nobody wants).
   */
  watch(query?: StoreQuery<R>): Observable<StoreEvent<R>>;
  /** Releases what the store holds; open watches complete. */
  close(): Promise<void>;
}
