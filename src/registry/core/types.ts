/**
 * The shape of a registry chain element. The Registry API has two resources (NetworkService and
 * NetworkServiceEndpoint) with the same three calls; one generic element shape serves both, with the
 * resource `R` and its query `Q` as type parameters. `find` is a stream: an rxjs `Observable` that
 * completes after the current matches, or stays open and emits every later change when the query
 * watches. Unsubscribing is how a caller stops a find.
 * @module
 */
import type { Observable } from 'rxjs';
import type {
  NetworkService,
  NetworkServiceEndpoint,
  NetworkServiceEndpointQuery,
  NetworkServiceQuery,
} from '../../api/gen/registry.js';
import type { ChainContext } from '../../networkservice/core/context.js';

/** One result of a find: an item, or the news that it was deleted. */
export interface FindResult<R> {
  /** The matching item (its last state, when deleted). */
  readonly item: R;
  /** True when the item was unregistered or expired rather than added or updated. */
  readonly deleted: boolean;
}

/** "The rest of the chain" of a registry chain. */
export interface RegistryHandler<R, Q> {
  /** Sends the registration through the rest of the chain and resolves to the stored item. */
  register(item: R, ctx: ChainContext): Promise<R>;
  /** Runs the query through the rest of the chain; nothing happens until the result is subscribed. */
  find(query: Q, ctx: ChainContext): Observable<FindResult<R>>;
  /** Sends the unregistration through the rest of the chain. */
  unregister(item: R, ctx: ChainContext): Promise<void>;
}

/**
 * A registry chain element. As on the Network Service side, `next` is an argument: an element may call it
 * zero, one or several times, now or later (refresh, heal, expire). `find` must not do work before it is
 * subscribed, and must release what it holds when unsubscribed.
 */
export interface RegistryElement<R, Q> {
  /** Shown in spans, logs and error messages; defaults to the class name. */
  readonly name?: string;
  /** Handles a Register (a new item or a refresh of one), normally by calling `next.register`. */
  register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R>;
  /** Handles a Find, normally by returning or transforming `next.find`. */
  find(query: Q, ctx: ChainContext, next: RegistryHandler<R, Q>): Observable<FindResult<R>>;
  /** Handles an Unregister, normally by calling `next.unregister`. */
  unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void>;
}

/** An element of a NetworkService registry chain. */
export type NSRegistryElement = RegistryElement<NetworkService, NetworkServiceQuery>;
/** An element of a NetworkServiceEndpoint registry chain. */
export type NSERegistryElement = RegistryElement<NetworkServiceEndpoint, NetworkServiceEndpointQuery>;
/** The rest of a NetworkService registry chain. */
export type NSRegistryHandler = RegistryHandler<NetworkService, NetworkServiceQuery>;
/** The rest of a NetworkServiceEndpoint registry chain. */
export type NSERegistryHandler = RegistryHandler<NetworkServiceEndpoint, NetworkServiceEndpointQuery>;
