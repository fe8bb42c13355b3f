/**
 * `metadata`: per-connection state for the elements after it. Elements that must remember something about
 * a connection between its Request and its Close (a chosen forwarder, allocated addresses, a timer) keep
 * it here, keyed by this hop's connection id. The store is dropped on Close and when the first Request
 * fails, so nothing outlives its connection. Client and server elements of the same type get separate
 * halves, because both may sit in one process for the same connection.
 * @module
 */
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { ContextKey, type ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { statusError, status } from '../../../tools/grpc/status.js';

/** A typed key into a connection's metadata. */
export class MetadataKey<T> {
  /** Never set: it only ties the value type `T` to the key. */
  declare readonly __type?: T;
  constructor(
    /** A name for debugging; keys are told apart by identity, not by name. */
    readonly description: string,
  ) {}
}

/** One half (client or server) of a connection's metadata. */
export class ConnectionMetadata {
  private readonly values = new Map<MetadataKey<unknown>, unknown>();

  /** The value stored under `key`, or undefined. */
  get<T>(key: MetadataKey<T>): T | undefined {
    return this.values.get(key) as T | undefined;
  }

  /** Stores `value` under `key`, replacing any earlier value. */
  set<T>(key: MetadataKey<T>, value: T): void {
    this.values.set(key, value);
  }

  /** The stored value, or `create()`'s result stored and returned. */
  getOrCreate<T>(key: MetadataKey<T>, create: () => T): T {
    if (this.values.has(key)) return this.values.get(key) as T;
    const value = create();
    this.values.set(key, value);
    return value;
  }

  /** Removes the value under `key`; true when there was one. */
  delete(key: MetadataKey<unknown>): boolean {
    return this.values.delete(key);
  }

  /** True when a value is stored under `key` (even an undefined one). */
  has(key: MetadataKey<unknown>): boolean {
    return this.values.has(key);
  }
}

interface Halves {
  readonly client: ConnectionMetadata;
  readonly server: ConnectionMetadata;
}

const METADATA = new ContextKey<Halves>('metadata');

/** Which half of the metadata an element uses: `client` for client elements, `server` for server ones. */
export type MetadataSide = 'client' | 'server';

/**
 * The metadata of the current connection. Throws FAILED_PRECONDITION when no `metadata` element ran
 * before, which is a mistake in how the chain was built.
 */
export function connectionMetadata(ctx: ChainContext, side: MetadataSide): ConnectionMetadata {
  const halves = ctx.value(METADATA);
  if (halves === undefined) {
    throw statusError(status.FAILED_PRECONDITION, 'no metadata in context: put a metadata element before this one');
  }
  return halves[side];
}

/** The `metadata` element (same code on the server and the client side; `name` says which). */
export class MetadataElement implements NetworkServiceElement {
  readonly name: string;
  private readonly store = new Map<string, Halves>();

  constructor(side: MetadataSide) {
    this.name = `metadata/${side}`;
  }

  /** Connections with live metadata; used by leak checks. */
  get size(): number {
    return this.store.size;
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    // A chain nested in another (the client chain inside a manager's `connect`) shares the outer chain's
    // metadata: elements of the server chain after `connect` (monitor) can then see what the client chain
    // holds for the connection (its channel), as upstream's nested metadata does. The outer element owns it.
    if (ctx.value(METADATA) !== undefined) return next.request(request, ctx);
    const id = request.connection?.id ?? '';
    let halves = this.store.get(id);
    const created = halves === undefined;
    if (halves === undefined) {
      halves = { client: new ConnectionMetadata(), server: new ConnectionMetadata() };
      this.store.set(id, halves);
    }
    try {
      return await next.request(request, ctx.withValue(METADATA, halves));
    } catch (error) {
      if (created && this.store.get(id) === halves) this.store.delete(id);
      throw error;
    }
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    if (ctx.value(METADATA) !== undefined) return next.close(connection, ctx);
    const halves = this.store.get(connection.id) ?? { client: new ConnectionMetadata(), server: new ConnectionMetadata() };
    try {
      await next.close(connection, ctx.withValue(METADATA, halves));
    } finally {
      this.store.delete(connection.id);
    }
  }
}

/** A server-side `metadata` element. */
export function metadataServer(): MetadataElement {
  return new MetadataElement('server');
}

/** A client-side `metadata` element. */
export function metadataClient(): MetadataElement {
  return new MetadataElement('client');
}
