/**
 * The in-memory store: a map and a subject, all synchronous, so a watch sees the current items and every
 * later change with nothing missed or reordered. Items are kept as copies.
 * @module
 */
import { Observable, Subject } from 'rxjs';
import type { RegistryStore, StoreEvent, StoreQuery } from '../store/types.js';

/** How a store copies and names its items. */
export interface StoreCodec<R> {
  /** The name an item is stored under. */
  nameOf(item: R): string;
  /** A deep copy, so callers never share an item with the store. */
  clone(item: R): R;
}

/** A {@link RegistryStore} in process memory. */
export class MemoryStore<R> implements RegistryStore<R> {
  readonly description = 'memory';
  private readonly items = new Map<string, R>();
  private readonly changes = new Subject<StoreEvent<R>>();

  constructor(private readonly codec: StoreCodec<R>) {}

  /** How many items the store holds. */
  get size(): number {
    return this.items.size;
  }

  /** How many watches are open (for leak checks). */
  get watchers(): number {
    return this.changes.observers.length;
  }

  put(item: R): Promise<void> {
    const copy = this.codec.clone(item);
    this.items.set(this.codec.nameOf(copy), copy);
    this.changes.next({ item: copy, deleted: false });
    return Promise.resolve();
  }

  delete(name: string): Promise<R | undefined> {
    const item = this.items.get(name);
    if (item === undefined) return Promise.resolve(undefined);
    this.items.delete(name);
    this.changes.next({ item, deleted: true });
    return Promise.resolve(this.codec.clone(item));
  }

  get(name: string): Promise<R | undefined> {
    const item = this.items.get(name);
    return Promise.resolve(item === undefined ? undefined : this.codec.clone(item));
  }

  private candidates(query: StoreQuery<R>): Iterable<R> {
    if (query.name === undefined) return this.items.values();
    const item = this.items.get(query.name);
    return item === undefined ? [] : [item];
  }

  private accepts(query: StoreQuery<R>, item: R): boolean {
    return (query.name === undefined || this.codec.nameOf(item) === query.name) && (query.match?.(item) ?? true);
  }

  list(query: StoreQuery<R> = {}): Promise<R[]> {
    const found: R[] = [];
    for (const item of this.candidates(query)) if (this.accepts(query, item)) found.push(this.codec.clone(item));
    return Promise.resolve(found);
  }

  watch(query: StoreQuery<R> = {}): Observable<StoreEvent<R>> {
    return new Observable<StoreEvent<R>>((subscriber) => {
      for (const item of this.candidates(query)) {
        if (this.accepts(query, item)) subscriber.next({ item: this.codec.clone(item), deleted: false });
      }
      // Each watcher gets its own copies: consumers may rewrite what they receive.
      const subscription = this.changes.subscribe({
        next: (event) => {
          if (this.accepts(query, event.item)) subscriber.next({ item: this.codec.clone(event.item), deleted: event.deleted });
        },
        complete: () => subscriber.complete(),
      });
      return () => subscription.unsubscribe();
    });
  }

  close(): Promise<void> {
    this.changes.complete();
    return Promise.resolve();
  }
}
