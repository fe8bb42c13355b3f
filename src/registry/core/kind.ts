/**
 * What distinguishes the two registry resources, in one descriptor per resource. Generic elements (begin,
 * metadata, store, dial, connect, retry, ...) take a kind and so exist once for both registries.
 * @module
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import {
  NetworkService,
  NetworkServiceEndpoint,
  NetworkServiceEndpointQuery,
  NetworkServiceEndpointRegistryService,
  NetworkServiceEndpointResponse,
  NetworkServiceQuery,
  NetworkServiceRegistryService,
  NetworkServiceResponse,
} from '../../api/gen/registry.js';
import {
  matchNetworkService,
  matchNetworkServiceEndpoint,
  validateNetworkService,
  validateNetworkServiceEndpoint,
} from '../../tools/matchutils/index.js';
import type { Empty } from '../../api/gen/google/protobuf/empty.js';
import type { StreamMethod, UnaryMethod } from '../../tools/grpc/call.js';
import type { FindResult } from './types.js';

/** The three methods of a registry service. */
export interface RegistryMethods<R, Q, P> {
  /** `Register`: unary, returns the stored item. */
  readonly register: UnaryMethod<R, R>;
  /** `Find`: server-streaming, one response per match or change. */
  readonly find: StreamMethod<Q, P>;
  /** `Unregister`: unary, returns Empty. */
  readonly unregister: UnaryMethod<R, Empty>;
}

/** A descriptor of one registry resource: its messages, its gRPC service and its rules. */
export interface RegistryKind<R, Q, P> {
  /** `NetworkService` or `NetworkServiceEndpoint`, for messages. */
  readonly resource: string;
  /** The gRPC service name, e.g. `registry.NetworkServiceRegistry`. */
  readonly serviceName: string;
  /** The grpc-js service definition. */
  readonly service: ServiceDefinition;
  /** The typed method definitions, for calls through a plain grpc-js client. */
  readonly methods: RegistryMethods<R, Q, P>;
  /** Encodes and decodes the resource (stores keep it as protobuf bytes). */
  encode(item: R): Uint8Array;
  /** Decodes bytes written by `encode`. */
  decode(bytes: Uint8Array): R;
  /** The name that identifies an item. */
  nameOf(item: R): string;
  /** A deep copy. */
  clone(item: R): R;
  /** An empty item with just a name. */
  named(name: string): R;
  /** The item a query filters on, and whether it watches. */
  readQuery(query: Q): {
    /** The item the query matches against (an empty item when the query has none). */
    readonly filter: R;
    /** Whether the find stays open and streams later changes. */
    readonly watch: boolean;
  };
  /** A query for `filter`. */
  makeQuery(filter: R, watch: boolean): Q;
  /** The wire response for a find result, and back. */
  toResponse(result: FindResult<R>): P;
  /** The find result carried by a wire response. */
  fromResponse(response: P): FindResult<R>;
  /** Does `item` satisfy the query filter `filter`? */
  matches(filter: R, item: R): boolean;
  /**
   * Index terms of an item (an endpoint's network services), so that a store can find the items of a
   * term without looking at all of them. Absent: the resource has no index.
   */
  readonly terms?: (item: R) => readonly string[];
  /** A term every item matching `filter` has (one of the services a query asks for), or undefined. */
  readonly queryTerm?: (filter: R) => string | undefined;
  /** Why `item` may not be registered, or undefined. */
  validate(item: R): string | undefined;
  /** The path ids of an item (the SPIFFE ids of the hops it was registered through). */
  pathIds(item: R): string[];
  /** Sets the path ids. */
  setPathIds(item: R, ids: string[]): void;
  /** Forgets an item's expiration time, if the resource has one. */
  clearExpiration(item: R): void;
}

/** The NetworkService registry. */
export const NS_KIND: RegistryKind<NetworkService, NetworkServiceQuery, NetworkServiceResponse> = {
  resource: 'NetworkService',
  serviceName: 'registry.NetworkServiceRegistry',
  service: NetworkServiceRegistryService,
  methods: NetworkServiceRegistryService,
  encode: (item) => NetworkService.encode(item).finish(),
  decode: (bytes) => NetworkService.decode(bytes),
  nameOf: (item) => item.name,
  clone: (item) => NetworkService.fromPartial(item),
  named: (name) => NetworkService.create({ name }),
  readQuery: (query) => ({ filter: query.networkService ?? NetworkService.create(), watch: query.watch }),
  makeQuery: (filter, watch) => NetworkServiceQuery.create({ networkService: filter, watch }),
  toResponse: (result) => NetworkServiceResponse.create({ networkService: result.item, deleted: result.deleted }),
  fromResponse: (response) => ({ item: response.networkService ?? NetworkService.create(), deleted: response.deleted }),
  matches: matchNetworkService,
  validate: validateNetworkService,
  pathIds: (item) => item.pathIds,
  setPathIds: (item, ids) => {
    item.pathIds = ids;
  },
  clearExpiration: () => undefined,
};

/** The NetworkServiceEndpoint registry. */
export const NSE_KIND: RegistryKind<NetworkServiceEndpoint, NetworkServiceEndpointQuery, NetworkServiceEndpointResponse> = {
  resource: 'NetworkServiceEndpoint',
  serviceName: 'registry.NetworkServiceEndpointRegistry',
  service: NetworkServiceEndpointRegistryService,
  methods: NetworkServiceEndpointRegistryService,
  encode: (item) => NetworkServiceEndpoint.encode(item).finish(),
  decode: (bytes) => NetworkServiceEndpoint.decode(bytes),
  nameOf: (item) => item.name,
  clone: (item) => NetworkServiceEndpoint.fromPartial(item),
  named: (name) => NetworkServiceEndpoint.create({ name }),
  readQuery: (query) => ({ filter: query.networkServiceEndpoint ?? NetworkServiceEndpoint.create(), watch: query.watch }),
  makeQuery: (filter, watch) => NetworkServiceEndpointQuery.create({ networkServiceEndpoint: filter, watch }),
  toResponse: (result) =>
    NetworkServiceEndpointResponse.create({ networkServiceEndpoint: result.item, deleted: result.deleted }),
  fromResponse: (response) => ({
    item: response.networkServiceEndpoint ?? NetworkServiceEndpoint.create(),
    deleted: response.deleted,
  }),
  matches: matchNetworkServiceEndpoint,
  // A matching endpoint offers every service the query names, so any one of them narrows the search.
  terms: (item) => item.networkServiceNames,
  queryTerm: (filter) => filter.networkServiceNames[0],
  validate: validateNetworkServiceEndpoint,
  pathIds: (item) => item.pathIds,
  setPathIds: (item, ids) => {
    item.pathIds = ids;
  },
  clearExpiration: (item) => {
    item.expirationTime = undefined;
  },
};

