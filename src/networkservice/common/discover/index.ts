/**
 * `discover` (server, in managers and forwarders): finds, in the registry, the endpoints a request may go
 * to, and leaves them in the context for `roundrobin` to try.
 *
 * - The NetworkService is looked up (the connection gets its payload, and later elements its matches).
 * - A request that names its endpoint (a refresh, a forwarder's request, a client that asks for one
 *   endpoint) gets that endpoint only, provided it offers the connection's network service: a client
 *   must not be able to name a forwarder (registered as an endpoint of the `forwarder` service) or any
 *   other registration as its endpoint; a manager would send the request to that forwarder as if to an
 *   endpoint, and it would come back to itself until the deadline.
 * - Otherwise the service's endpoints are found, and only those that its `matches` allow for the
 *   client's labels are kept.
 * - When nothing is there yet, it watches the registry until something suitable appears or the wait
 *   ends (the request's deadline, at most `waitMs`): an endpoint that registers a moment after the
 *   request is still found.
 *
 * Close needs no registry (it may be dead): the elements after `discover` remember where the connection
 * went.
 * @module
 */
import type { Observable, Subscription } from 'rxjs';
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { NetworkService, NetworkServiceEndpoint, type NetworkServiceEndpointQuery, type NetworkServiceQuery } from '../../../api/gen/registry.js';
import { matchEndpoints } from '../../../tools/matchutils/endpoints.js';
import { formatLabels, type Labels } from '../../../tools/matchutils/labels.js';
import { errorMessage, hasStatusCode, status, statusError } from '../../../tools/grpc/status.js';
import type { FindResult, NSERegistryHandler, NSRegistryHandler } from '../../../registry/core/types.js';
import { findAll } from '../../../registry/core/find.js';
import { ContextKey, type ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';

/** What `discover` found for the current request. */
export interface Discovered {
  /** The NetworkService of the connection. */
  readonly service: NetworkService;
  /** The endpoints to try, in registry order. */
  readonly endpoints: readonly NetworkServiceEndpoint[];
}

const DISCOVERED = new ContextKey<Discovered>('discover.candidates');

/** The candidates `discover` found for this request, if it ran. */
export function discoveredFrom(ctx: ChainContext): Discovered | undefined {
  return ctx.value(DISCOVERED);
}

/** Sets the candidates for the rest of the chain (for tests and custom discovery elements). */
export function withDiscovered(ctx: ChainContext, discovered: Discovered): ChainContext {
  return ctx.withValue(DISCOVERED, discovered);
}

/** Options of {@link DiscoverServer}. */
export interface DiscoverOptions {
  /** Longest wait for a service or endpoint that is not registered yet (ms); default 15000, and never past the request's deadline. */
  readonly waitMs?: number;
}

/**
 * Watches `results` (a watching find: a snapshot, then changes), keeping the current items by name, until
 * `pick` returns something for them; rejects when `ctx` ends.
 */
export function watchUntil<
  R extends {
    /** The item's name; results are kept by it. */
    name: string;
  },
  T,
>(
  results: Observable<FindResult<R>>,
  ctx: ChainContext,
  pick: (items: R[]) => T | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (ctx.signal.aborted) {
      reject(statusError(status.CANCELLED, 'cancelled before the watch started'));
      return;
    }
    const items = new Map<string, R>();
    // Callbacks may run during subscribe(), before it returns the subscription.
    const held: { subscription?: Subscription } = {};
    let done = false;
    const finish = (): void => {
      done = true;
      removeCancel();
      held.subscription?.unsubscribe();
    };
    const fail = (error: unknown): void => {
      if (done) return;
      finish();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const removeCancel = ctx.onCancel(() => fail(ctx.signal.reason));
    held.subscription = results.subscribe({
      next: (result) => {
        if (done) return;
        if (result.deleted) items.delete(result.item.name);
        else items.set(result.item.name, result.item);
        const picked = pick([...items.values()]);
        if (picked === undefined) return;
        finish();
        resolve(picked);
      },
      error: fail,
      complete: () => fail(statusError(status.UNAVAILABLE, 'the registry ended the watch')),
    });
    if (done) held.subscription.unsubscribe();
  });
}

/**
 * Watches a registry (`find(ctx)` opens a watching find) until `pick` returns something, for at most
 * `waitMs` and the deadline of `ctx`: NOT_FOUND with `what` when the time runs out, UNAVAILABLE when the
 * registry fails. `what` names the element and what it waited for.
 */
export async function waitFor<
  R extends {
    /** The item's name; results are kept by it. */
    name: string;
  },
  T,
>(
  ctx: ChainContext,
  waitMs: number,
  what: string,
  find: (ctx: ChainContext) => Observable<FindResult<R>>,
  pick: (items: R[]) => T | undefined,
): Promise<T> {
  // Answer NOT_FOUND a little before the caller's deadline, so the reason reaches it before its own
  // timer turns the call into a bare DEADLINE_EXCEEDED.
  const remaining = ctx.remaining();
  const margin = remaining === undefined ? 0 : Math.min(500, Math.max(20, remaining * 0.1));
  const [waitCtx, cancel] = ctx.withCancel(Math.max(0, Math.min(waitMs, (remaining ?? Number.POSITIVE_INFINITY) - margin)));
  try {
    return await watchUntil(find(waitCtx), waitCtx, pick);
  } catch (error) {
    // The gRPC deadline derived from the context may fire a moment before the context's own timer.
    const ranOut = waitCtx.signal.aborted || (hasStatusCode(error) && error.code === status.DEADLINE_EXCEEDED) || (waitCtx.remaining() ?? 1) <= 0;
    if (ranOut) throw statusError(status.NOT_FOUND, what);
    throw statusError(status.UNAVAILABLE, `${what} and the registry failed: ${errorMessage(error)}`, error);
  } finally {
    cancel();
  }
}

/** The `discover` server element. */
export class DiscoverServer implements NetworkServiceElement {
  readonly name = 'discover';
  private readonly waitMs: number;

  constructor(
    private readonly nsRegistry: NSRegistryHandler,
    private readonly nseRegistry: NSERegistryHandler,
    options: DiscoverOptions = {},
  ) {
    this.waitMs = options.waitMs ?? 15_000;
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    if (conn === undefined) throw statusError(status.INVALID_ARGUMENT, 'request has no connection');
    if (conn.networkService === '') throw statusError(status.INVALID_ARGUMENT, 'connection has no network service');
    const service = await this.serviceNamed(conn.networkService, ctx);
    if (conn.payload === '') conn.payload = service.payload;
    const endpoints =
      conn.networkServiceEndpointName !== ''
        ? [await this.endpointNamed(conn.networkServiceEndpointName, service.name, ctx)]
        : await this.endpointsFor(service, conn.labels, ctx);
    return next.request(request, withDiscovered(ctx, { service, endpoints }));
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }

  private async endpointNamed(name: string, service: string, ctx: ChainContext): Promise<NetworkServiceEndpoint> {
    const filter = NetworkServiceEndpoint.create({ name });
    const offering = (items: readonly NetworkServiceEndpoint[]): NetworkServiceEndpoint | undefined =>
      items.find((n) => n.name === name && n.networkServiceNames.includes(service));
    const now = await findAll(this.nseRegistry.find(nseQuery(filter, false), ctx));
    const found = offering(now);
    if (found !== undefined) return found;
    // Registered for other services only: it may yet register again with this one, as a new endpoint may.
    const what = now.some((n) => n.name === name)
      ? `endpoint ${JSON.stringify(name)} does not offer network service ${JSON.stringify(service)}`
      : `endpoint ${JSON.stringify(name)} is not registered`;
    return this.wait(ctx, what, (c) => this.nseRegistry.find(nseQuery(filter, true), c), offering);
  }

  private async endpointsFor(service: NetworkService, labels: Labels, ctx: ChainContext): Promise<NetworkServiceEndpoint[]> {
    const filter = NetworkServiceEndpoint.create({ networkServiceNames: [service.name] });
    const usable = (nses: readonly NetworkServiceEndpoint[]): NetworkServiceEndpoint[] | undefined => {
      const matching = matchEndpoints(labels, service, nses);
      return matching.length === 0 ? undefined : matching;
    };
    const now = usable(await findAll(this.nseRegistry.find(nseQuery(filter, false), ctx)));
    if (now !== undefined) return now;
    return this.wait(ctx, describeMissing(service, labels), (c) => this.nseRegistry.find(nseQuery(filter, true), c), usable);
  }

  private async serviceNamed(name: string, ctx: ChainContext): Promise<NetworkService> {
    const filter = NetworkService.create({ name });
    const now = await findAll(this.nsRegistry.find(nsQuery(filter, false), ctx));
    const found = now.find((s) => s.name === name);
    if (found !== undefined) return found;
    return this.wait(ctx, `network service ${JSON.stringify(name)} is not registered`, (c) => this.nsRegistry.find(nsQuery(filter, true), c), (items) =>
      items.find((s) => s.name === name),
    );
  }

  private wait<R extends { name: string }, T>(
    ctx: ChainContext,
    what: string,
    find: (ctx: ChainContext) => Observable<FindResult<R>>,
    pick: (items: R[]) => T | undefined,
  ): Promise<T> {
    return waitFor(ctx, this.waitMs, what, find, pick);
  }

}

function nseQuery(filter: NetworkServiceEndpoint, watch: boolean): NetworkServiceEndpointQuery {
  return { networkServiceEndpoint: filter, watch };
}

function nsQuery(filter: NetworkService, watch: boolean): NetworkServiceQuery {
  return { networkService: filter, watch };
}

function describeMissing(service: NetworkService, labels: Labels): string {
  return service.matches.length === 0
    ? `no endpoint of network service ${JSON.stringify(service.name)} is registered`
    : `no endpoint of network service ${JSON.stringify(service.name)} matches the client's labels ${formatLabels(labels)}`;
}

/** A `discover` element over the given registry handlers (in a manager: its own registry chain). */
export function discoverServer(nsRegistry: NSRegistryHandler, nseRegistry: NSERegistryHandler, options?: DiscoverOptions): DiscoverServer {
  return new DiscoverServer(nsRegistry, nseRegistry, options);
}
