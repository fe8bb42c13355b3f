/**
 * The in-memory store: a map and a subject, all synchronous, so a watch sees the current items and every
 * later change with nothing missed or reordered. Items are kept as copies.
 * @module
 */
import { Observable, Subject } from 'rxjs';
import type { RegistryStore, StoreEvent } from '../store/types.js';

/** How a store copies and names its items. */
export interface StoreCodec<R> {
  nameOf(item: R): string;
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

  list(match: (item: R) => boolean = () => true): Promise<R[]> {
    const found: R[] = [];
    for (const item of this.items.values()) if (match(item)) found.push(this.codec.clone(item));
    return Promise.resolve(found);
  }

  watch(match: (item: R) => boolean = () => true): Observable<StoreEvent<R>> {
    return new Observable<StoreEvent<R>>((subscriber) => {
      for (const item of this.items.values()) {
        if (match(item)) subscriber.next({ item: this.codec.clone(item), deleted: false });
      }
      // Each watcher gets its own copies: consumers may rewrite what they receive.
      const subscription = this.changes.subscribe({
        next: (event) => {
          if (match(event.item)) subscriber.next({ item: this.codec.clone(event.item), deleted: event.deleted });
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
