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
  /** Index terms of an item; with them, a query with a `term` reads only the items that have it. */
  readonly terms?: (item: R) => readonly string[];
}

/** A {@link RegistryStore} in process memory. */
export class MemoryStore<R> implements RegistryStore<R> {
  readonly description = 'memory';
  private readonly items = new Map<string, R>();
  /** Item names by index term (only with `codec.terms`): a Find by service among 10,000 reads its 100. */
  private readonly index = new Map<string, Set<string>>();
  private readonly changes = new Subject<StoreEvent<R>>();

  constructor(private readonly codec: StoreCodec<R>) {}

  /** How many items the store holds. */
  get size(): number {
    return this.items.size;
  }

  /** How many index terms have items (for leak checks: it falls back to 0 when the store empties). */
  get indexedTerms(): number {
    return this.index.size;
  }

  /** How many watches are open (for leak checks). */
  get watchers(): number {
    return this.changes.observers.length;
  }

  put(item: R): Promise<void> {
    const copy = this.codec.clone(item);
    const name = this.codec.nameOf(copy);
    this.reindex(name, this.items.get(name), copy);
    this.items.set(name, copy);
    this.changes.next({ item: copy, deleted: false });
    return Promise.resolve();
  }

  delete(name: string): Promise<R | undefined> {
    const item = this.items.get(name);
    if (item === undefined) return Promise.resolve(undefined);
    this.reindex(name, item, undefined);
    this.items.delete(name);
    this.changes.next({ item, deleted: true });
    return Promise.resolve(this.codec.clone(item));
  }

  get(name: string): Promise<R | undefined> {
    const item = this.items.get(name);
    return Promise.resolve(item === undefined ? undefined : this.codec.clone(item));
  }

  private candidates(query: StoreQuery<R>): Iterable<R> {
    if (query.name !== undefined) {
      const item = this.items.get(query.name);
      return item === undefined ? [] : [item];
    }
    if (query.term === undefined || this.codec.terms === undefined) return this.items.values();
    const names = this.index.get(query.term);
    if (names === undefined) return [];
    const found: R[] = [];
    for (const name of names) {
      const item = this.items.get(name);
      if (item !== undefined) found.push(item);
    }
    return found;
  }

  /** Moves `name` from the terms of `before` to those of `after` (either may be absent). */
  private reindex(name: string, before: R | undefined, after: R | undefined): void {
    const termsOf = this.codec.terms;
    if (termsOf === undefined) return;
    const old = new Set(before === undefined ? [] : termsOf(before));
    const now = new Set(after === undefined ? [] : termsOf(after));
    for (const term of old) {
      if (now.has(term)) continue;
      const names = this.index.get(term);
      names?.delete(name);
      if (names?.size === 0) this.index.delete(term);
    }
    for (const term of now) {
      if (old.has(term)) continue;
      let names = this.index.get(term);
      if (names === undefined) this.index.set(term, (names = new Set()));
      names.add(name);
    }
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
