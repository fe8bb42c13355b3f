/**
 * Adapters between registry client and server elements: the two sides share one shape, so an adapter only
 * renames the element to say where it now stands (a client chain inside a server's `connect`).
 * @module
 */
import { elementName } from '../../networkservice/core/chain.js';
import type { RegistryElement } from './types.js';

function adapt<R, Q>(element: RegistryElement<R, Q>, label: string): RegistryElement<R, Q> {
  return {
    name: `${label}(${elementName(element)})`,
    register: (item, ctx, next) => element.register(item, ctx, next),
    find: (query, ctx, next) => element.find(query, ctx, next),
    unregister: (item, ctx, next) => element.unregister(item, ctx, next),
  };
}

/** Uses a registry client element (or chain) as a server element. */
export function registryClientToServer<R, Q>(client: RegistryElement<R, Q>): RegistryElement<R, Q> {
  return adapt(client, 'clientToServer');
}

/** Uses a registry server element (or chain) as a client element. */
export function registryServerToClient<R, Q>(server: RegistryElement<R, Q>): RegistryElement<R, Q> {
  return adapt(server, 'serverToClient');
}
