/**
 * `clienturl`: tells the elements after it where to connect. `dial` reads the URL from the context;
 * a fixed-URL client (an NSC talking to its manager) uses this element, while a manager or forwarder gets
 * the URL from discovery instead.
 * @module
 */
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { ContextKey, type ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { parseAddress } from '../../../tools/grpc/address.js';

/** The URL of the next hop (`unix:///...` or `tcp://host:port`). */
export const CLIENT_URL = new ContextKey<string>('clienturl');

/** The URL of the next hop, if an element before set one. */
export function clientURLFrom(ctx: ChainContext): string | undefined {
  return ctx.value(CLIENT_URL);
}

/** Sets the URL of the next hop for the rest of the chain. */
export function withClientURL(ctx: ChainContext, url: string): ChainContext {
  return ctx.withValue(CLIENT_URL, url);
}

export class ClientURLClient implements NetworkServiceElement {
  readonly name = 'clienturl/client';
  private readonly url: string;

  /** Throws a clear error at construction on an unparsable URL. */
  constructor(url: string) {
    this.url = parseAddress(url).url;
  }

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    return next.request(request, withClientURL(ctx, this.url));
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, withClientURL(ctx, this.url));
  }
}

/** A `clienturl` element for a fixed next-hop URL. */
export function clientURLClient(url: string): ClientURLClient {
  return new ClientURLClient(url);
}
