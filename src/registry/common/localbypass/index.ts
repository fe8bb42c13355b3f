/**
 * `localbypass` for a manager's endpoint registry (server). An endpoint that registers through its local
 * manager is published to the registry with the manager's URL, so that remote clients reach it through
 * the manager; the manager itself keeps the endpoint's real URL and hands it back to whoever finds the
 * endpoint through this chain, so local clients connect to the endpoint directly.
 *
 * Find, result by result (as upstream does):
 * - an endpoint whose name this element knows gets its real URL back;
 * - then a result that is not a deletion and whose URL is still the manager URL is dropped: it claims to
 *   live behind this manager, but no endpoint of that name registered here (for instance it was registered
 *   through an earlier instance of this manager, whose memory is gone), so its real URL is unknown and the
 *   manager URL would only send the client back to this manager;
 * - deletions pass through even with the manager URL, so watchers still learn the endpoint is gone.
 * @module
 */
import { filter, map, type Observable } from 'rxjs';
import type { NetworkServiceEndpoint, NetworkServiceEndpointQuery } from '../../../api/gen/registry.js';
import type { ChainContext } from '../../../networkservice/core/context.js';
import { status, statusError } from '../../../tools/grpc/status.js';
import { NSE_KIND } from '../../core/kind.js';
import type { FindResult, NSERegistryHandler } from '../../core/types.js';
import { NullRegistry } from '../null/index.js';

/** The `localbypass` NetworkServiceEndpoint registry server element of a manager. */
export class LocalBypassServer extends NullRegistry<NetworkServiceEndpoint, NetworkServiceEndpointQuery> {
  override readonly name = 'localbypass';
  /** Real endpoint URLs by endpoint name. */
  private readonly urls = new Map<string, string>();

  /** @param managerURL the URL the manager is reachable on, published for its local endpoints. */
  constructor(readonly managerURL: string) {
    super();
  }

  /** How many endpoint names are remembered (for leak checks). */
  get size(): number {
    return this.urls.size;
  }

  override async register(
    item: NetworkServiceEndpoint,
    ctx: ChainContext,
    next: NSERegistryHandler,
  ): Promise<NetworkServiceEndpoint> {
    if (item.url === '') {
      throw statusError(status.INVALID_ARGUMENT, `cannot register endpoint ${JSON.stringify(item.name)} without a URL`);
    }
    const known = this.urls.has(item.name);
    // Stored before the call, so a find racing with the registration already sees the real URL.
    this.urls.set(item.name, item.url);
    const outgoing = NSE_KIND.clone(item);
    outgoing.url = this.managerURL;
    let response: NetworkServiceEndpoint;
    try {
      response = await next.register(outgoing, ctx);
    } catch (error) {
      // A failed re-registration keeps the newest URL, as upstream: the endpoint is still registered
      // and has just told us where it lives now.
      if (!known) this.urls.delete(item.name);
      throw error;
    }
    // The registry may have named an endpoint that came without a name: remember it by its final name.
    if (response.name !== item.name && !known) this.urls.delete(item.name);
    this.urls.set(response.name, item.url);
    const restored = NSE_KIND.clone(response);
    restored.url = item.url;
    return restored;
  }

  override find(
    query: NetworkServiceEndpointQuery,
    ctx: ChainContext,
    next: NSERegistryHandler,
  ): Observable<FindResult<NetworkServiceEndpoint>> {
    return next.find(query, ctx).pipe(
      map((result) => {
        const url = this.urls.get(result.item.name);
        if (url === undefined || url === result.item.url) return result;
        // A copy: the source may share its items with other subscribers.
        const item = NSE_KIND.clone(result.item);
        item.url = url;
        return { item, deleted: result.deleted };
      }),
      filter((result) => result.deleted || result.item.url !== this.managerURL),
    );
  }

  override async unregister(item: NetworkServiceEndpoint, ctx: ChainContext, next: NSERegistryHandler): Promise<void> {
    // As upstream: an endpoint this manager does not know was not registered through it, so it is not
    // this manager's to remove.
    if (!this.urls.has(item.name)) return;
    const outgoing = NSE_KIND.clone(item);
    outgoing.url = this.managerURL;
    await next.unregister(outgoing, ctx);
    this.urls.delete(item.name);
  }
}

/** A `localbypass` element for a manager reachable on `managerURL`. */
export function localBypassServer(managerURL: string): LocalBypassServer {
  return new LocalBypassServer(managerURL);
}
