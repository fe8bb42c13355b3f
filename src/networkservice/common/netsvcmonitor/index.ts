/**
 * `netsvcmonitor` (server, in managers): closes a connection whose endpoint the NetworkService no longer
 * allows. Discovery checks a service's `matches` only when a connection is made; when an operator edits
 * the service later (say, moving a client group to other endpoints), existing connections would keep
 * going to endpoints the service now rules out. This element watches the service of each connection in
 * the registry and, on every change, checks again whether the connection's endpoint is still one the
 * matches select for the connection's labels; if not, it closes the connection through `begin`, so the
 * whole chain releases it as if the client had closed.
 *
 * A deleted service closes nothing: a service removed while in use is an operator's business, and its
 * endpoints still serve. An endpoint the registry no longer knows is left to healing, not handled here.
 * The watch lives from the first successful Request to Close, outside any one request's context.
 * @module
 */
import { concatMap, defer, filter, Subscription } from 'rxjs';
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { NetworkService, NetworkServiceEndpoint } from '../../../api/gen/registry.js';
import type { NSERegistryHandler, NSRegistryHandler } from '../../../registry/core/types.js';
import { findAll } from '../../../registry/core/find.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import { matchEndpoints } from '../../../tools/matchutils/endpoints.js';
import type { CancelFunc, ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { eventFactoryFrom, type EventFactory } from '../begin/eventfactory.js';

/** Options of {@link NetsvcMonitorServer}. */
export interface NetsvcMonitorOptions {
  /** Where NetworkServices are watched. */
  readonly nsRegistry: NSRegistryHandler;
  /** Where a connection's endpoint is looked up when its service changes. */
  readonly nseRegistry: NSERegistryHandler;
}

/** One connection's watch. */
interface Watch {
  /** The connection id at this hop, as when the watch started. */
  readonly id: string;
  /**
   * What a change is checked against, as last returned: the endpoint and the client's labels. Kept as
   * values, because elements before this one rewrite the returned connection object (its id, its path).
   */
  endpoint: string;
  labels: Connection['labels'];
  readonly subscription: Subscription;
  readonly cancel: CancelFunc;
  /** Set once a close was started, so a burst of changes closes only once. */
  closing: boolean;
}

/** Watches the NetworkService of each connection and closes connections its matches no longer allow. */
export class NetsvcMonitorServer implements NetworkServiceElement {
  readonly name = 'netsvcmonitor/server';
  private readonly nsRegistry: NSRegistryHandler;
  private readonly nseRegistry: NSERegistryHandler;
  private readonly watches = new Map<string, Watch>();

  constructor(options: NetsvcMonitorOptions) {
    this.nsRegistry = options.nsRegistry;
    this.nseRegistry = options.nseRegistry;
  }

  /** Connections being watched; used by leak checks. */
  get size(): number {
    return this.watches.size;
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = await next.request(request, ctx);
    const existing = this.watches.get(conn.id);
    if (existing !== undefined) {
      // A refresh keeps its watch; only the labels and endpoint to check against may have moved on.
      existing.endpoint = conn.networkServiceEndpointName;
      existing.labels = conn.labels;
      return conn;
    }
    const factory = eventFactoryFrom(ctx);
    if (factory === undefined) {
      ctx.logger.warn('netsvcmonitor: no event factory in context (put begin before this element); not watching', {
        id: conn.id,
      });
      return conn;
    }
    this.watch(conn, ctx, factory);
    return conn;
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    this.stop(connection.id);
    return next.close(connection, ctx);
  }

  private watch(conn: Connection, ctx: ChainContext, factory: EventFactory): void {
    const id = conn.id;
    const [watchCtx, cancel] = ctx.detach().withCancel();
    // Registered before subscribing: a find may emit, or fail, while subscribe() is still running.
    const watch: Watch = {
      id,
      endpoint: conn.networkServiceEndpointName,
      labels: conn.labels,
      subscription: new Subscription(),
      cancel,
      closing: false,
    };
    this.watches.set(id, watch);
    const query = { networkService: NetworkService.create({ name: conn.networkService }), watch: true };
    const inner = this.nsRegistry
      .find(query, watchCtx)
      .pipe(
        filter((result) => !result.deleted),
        // One check at a time, in order: a later change is judged after the earlier one's verdict.
        concatMap((result) => defer(() => this.check(watch, result.item, watchCtx, factory))),
      )
      .subscribe({
        error: (error: unknown) => {
          watchCtx.logger.warn('netsvcmonitor: watch of the network service failed', {
            id,
            networkService: conn.networkService,
            error: errorMessage(error),
          });
          // Forgotten, so that the next refresh starts a new watch.
          if (this.watches.get(id) === watch) this.stop(id);
        },
      });
    // Added to a subscription that a synchronous failure already closed, `inner` is torn down at once.
    watch.subscription.add(inner);
  }

  private async check(watch: Watch, ns: NetworkService, ctx: ChainContext, factory: EventFactory): Promise<void> {
    if (watch.closing) return;
    const { id, endpoint, labels } = watch;
    try {
      const nses = await findAll(
        this.nseRegistry.find(
          { networkServiceEndpoint: NetworkServiceEndpoint.create({ name: endpoint }), watch: false },
          ctx,
        ),
      );
      const nse = nses.find((item) => item.name === endpoint);
      if (nse === undefined || watch.closing || this.watches.get(watch.id) !== watch) return;
      if (matchEndpoints(labels, ns, [nse]).length > 0) return;
      watch.closing = true;
      ctx.logger.info('netsvcmonitor: the network service no longer selects the endpoint; closing', {
        id,
        networkService: ns.name,
        endpoint: nse.name,
      });
      await factory.close();
    } catch (error) {
      ctx.logger.warn('netsvcmonitor: checking a network service change failed', { id, error: errorMessage(error) });
    }
  }

  private stop(id: string): void {
    const watch = this.watches.get(id);
    if (watch === undefined) return;
    this.watches.delete(id);
    watch.subscription.unsubscribe();
    watch.cancel();
  }
}

/** A `netsvcmonitor` server element watching services in `nsRegistry` and endpoints in `nseRegistry`. */
export function netsvcMonitorServer(options: NetsvcMonitorOptions): NetsvcMonitorServer {
  return new NetsvcMonitorServer(options);
}
