/**
 * Chains: an element made of elements. The last element's `next` is the `next` the chain itself was
 * given, so chains nest (a manager chain holds a client chain inside `connect`).
 *
 * The links between elements are built once per distinct `next` and cached (weakly), so a request
 * through a chain allocates no per-element objects in steady state: an outer chain always passes the
 * same link object as `next` to an inner one.
 * @module
 */
import type { Connection } from '../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../api/gen/networkservice.js';
import type { ChainContext } from './context.js';
import { tail } from './tail.js';
import { tracedClose, tracedRequest } from './trace.js';
import type { NetworkServiceElement, NetworkServiceHandler } from './types.js';

/** The display name of an element (of any chain, Network Service or registry): its `name`, else its class name. */
export function elementName(element: { readonly name?: string }): string {
  if (typeof element.name === 'string' && element.name !== '') return element.name;
  const ctor = (element as { constructor?: { name?: string } }).constructor?.name;
  return ctor !== undefined && ctor !== 'Object' ? ctor : 'anonymous';
}

class Link implements NetworkServiceHandler {
  constructor(
    private readonly element: NetworkServiceElement,
    private readonly label: string,
    private readonly next: NetworkServiceHandler,
  ) {}

  request(request: NetworkServiceRequest, ctx: ChainContext): Promise<Connection> {
    return tracedRequest(this.element, this.label, request, ctx, this.next);
  }

  close(connection: Connection, ctx: ChainContext): Promise<void> {
    return tracedClose(this.element, this.label, connection, ctx, this.next);
  }
}

/** A chain: an element whose `next` may be left out, to end in the {@link tail}. */
export interface NetworkServiceChain extends NetworkServiceElement {
  request(request: NetworkServiceRequest, ctx: ChainContext, next?: NetworkServiceHandler): Promise<Connection>;
  close(connection: Connection, ctx: ChainContext, next?: NetworkServiceHandler): Promise<void>;
}

class Chain implements NetworkServiceChain {
  private readonly heads = new WeakMap<NetworkServiceHandler, NetworkServiceHandler>();
  private readonly labels: readonly string[];

  constructor(
    readonly name: string,
    private readonly elements: readonly NetworkServiceElement[],
  ) {
    this.labels = elements.map(elementName);
  }

  private head(next: NetworkServiceHandler): NetworkServiceHandler {
    let head = this.heads.get(next);
    if (head === undefined) {
      head = next;
      for (let i = this.elements.length - 1; i >= 0; i--) {
        head = new Link(this.elements[i] as NetworkServiceElement, this.labels[i] as string, head);
      }
      this.heads.set(next, head);
    }
    return head;
  }

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler = tail): Promise<Connection> {
    return this.head(next).request(request, ctx);
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler = tail): Promise<void> {
    return this.head(next).close(connection, ctx);
  }
}

/** The elements of a chain; falsy entries are skipped. */
export type ChainElementList = readonly (NetworkServiceElement | undefined | null | false)[];

/**
 * Composes elements into one element. Falsy entries are skipped, so optional elements read naturally:
 * `chain(a, options.extra, b)`.
 */
export function chain(...elements: ChainElementList): NetworkServiceChain {
  return namedChain('chain', elements);
}

/** Like {@link chain}, with a name for spans and error messages of the chain as a whole. */
export function namedChain(name: string, elements: ChainElementList): NetworkServiceChain {
  return new Chain(
    name,
    elements.filter((e): e is NetworkServiceElement => e !== undefined && e !== null && e !== false),
  );
}

/** Binds an element to a `next` (the tail by default), giving a handler that can be called directly. */
export function toHandler(element: NetworkServiceElement, next: NetworkServiceHandler = tail): NetworkServiceHandler {
  return {
    request: (request, ctx) => element.request(request, ctx, next),
    close: (connection, ctx) => element.close(connection, ctx, next),
  };
}
