/**
 * `discoverforwarder` (server, in a manager, after `roundrobin`): sends the request through one of this
 * node's forwarders instead of straight to the endpoint. Forwarders are endpoints of the service
 * `forwarder` registered at this manager (the registry knows them under the manager's URL; the manager's
 * own registry chain hands back their real URLs).
 *
 * - Which forwarders: the first NetworkService match that applies to the client's labels and carries
 *   metadata labels picks the forwarders whose labels contain them (templates filled from the client's
 *   labels; a `fallthrough` match that picks none hands over to the next); without such a match,
 *   forwarders labelled `p2p=true`.
 * - The chosen forwarder is kept for the connection, so refreshes go through it while it works. After a
 *   manager restart (no memory), the forwarder named in the connection's path after this manager is
 *   preferred, so a restart does not move the data plane.
 * - New connections take the matching forwarders in turn; a forwarder that fails is skipped for the
 *   next one; RESELECT_REQUESTED forgets the kept one.
 * - Close goes to the forwarder the connection went through, without the registry when it is known.
 * @module
 */
import { State, type Connection } from '../../../api/gen/connection.js';
import { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { NetworkServiceEndpoint, type NetworkService } from '../../../api/gen/registry.js';
import { commonFailureCode, errorMessage, status, statusError } from '../../../tools/grpc/status.js';
import { formatLabels, isSubset, type Labels } from '../../../tools/matchutils/labels.js';
import type { NSERegistryHandler } from '../../../registry/core/types.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { withClientURL } from '../clienturl/index.js';
import { findAll } from '../../../registry/core/find.js';
import { discoveredFrom, waitFor } from '../discover/index.js';
import { connectionMetadata, MetadataKey } from '../metadata/index.js';

/** The network service name forwarders register under. */
export const FORWARDER_SERVICE_NAME = 'forwarder';

/** The forwarder labels asked for when no NetworkService match says otherwise. */
export const DEFAULT_FORWARDER_LABELS: Labels = { p2p: 'true' };

interface Chosen {
  readonly name: string;
  readonly url: string;
}

const CHOSEN = new MetadataKey<Chosen>('discoverforwarder.chosen');

/** Options of {@link DiscoverForwarderServer}. */
export interface DiscoverForwarderOptions {
  /** The service name forwarders register under; default `forwarder`. */
  readonly serviceName?: string;
  /** How long to wait for a forwarder to register (ms); default 15000, never past the request's deadline. */
  readonly waitMs?: number;
}

/**
 * The forwarders of `forwarders` that `service`'s matches ask for, for a client with `clientLabels`
 * (see the module comment for the rule).
 */
export function matchForwarders(
  clientLabels: Labels,
  service: NetworkService | undefined,
  forwarders: readonly NetworkServiceEndpoint[],
  serviceName = FORWARDER_SERVICE_NAME,
): NetworkServiceEndpoint[] {
  const labelled = (wanted: Labels): NetworkServiceEndpoint[] =>
    forwarders.filter((f) => isSubset(f.networkServiceLabels[serviceName]?.labels ?? {}, wanted, clientLabels));
  for (const match of service?.matches ?? []) {
    if (match.metadata === undefined) continue;
    if (!isSubset(clientLabels, match.sourceSelector, clientLabels)) continue;
    const picked = labelled(match.metadata.labels);
    if (picked.length > 0 || !match.fallthrough) return picked;
  }
  return labelled(DEFAULT_FORWARDER_LABELS);
}

/** The `discoverforwarder` server element of a manager. */
export class DiscoverForwarderServer implements NetworkServiceElement {
  readonly name = 'discoverforwarder';
  private readonly serviceName: string;
  private readonly waitMs: number;
  private turn = 0;

  /**
   * @param registry - the manager's own endpoint registry (it returns forwarders' real URLs).
   * @param managerURL - the URL this manager registers its forwarders under.
   */
  constructor(
    private readonly registry: NSERegistryHandler,
    private readonly managerURL: string,
    options: DiscoverForwarderOptions = {},
  ) {
    this.serviceName = options.serviceName ?? FORWARDER_SERVICE_NAME;
    this.waitMs = options.waitMs ?? 15_000;
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    if (conn === undefined) throw statusError(status.INVALID_ARGUMENT, 'request has no connection');
    const metadata = connectionMetadata(ctx, 'server');
    if (conn.state === State.RESELECT_REQUESTED) metadata.delete(CHOSEN);

    const kept = metadata.get(CHOSEN);
    if (kept !== undefined) {
      // The kept forwarder first; if it fails the others are tried (it may be gone for good).
      try {
        return await next.request(request, withClientURL(ctx, kept.url));
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        ctx.logger.warn('discoverforwarder: the kept forwarder failed, trying others', { forwarder: kept.name, error: errorMessage(error) });
        metadata.delete(CHOSEN);
      }
    }

    const candidates = await this.candidates(conn, ctx);
    const failures: string[] = [];
    const errors: unknown[] = [];
    for (const forwarder of candidates) {
      try {
        const result = await next.request(NetworkServiceRequest.fromPartial(request), withClientURL(ctx, forwarder.url));
        metadata.set(CHOSEN, { name: forwarder.name, url: forwarder.url });
        return result;
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        errors.push(error);
        failures.push(`${forwarder.name} (${errorMessage(error)})`);
      }
    }
    throw statusError(commonFailureCode(errors), `all forwarders have failed: ${failures.join('; ')}`);
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const metadata = connectionMetadata(ctx, 'server');
    let url = metadata.get(CHOSEN)?.url;
    if (url === undefined) {
      // A manager that restarted: the path still names the forwarder.
      const name = this.forwarderInPath(connection);
      if (name !== undefined) {
        url = (await this.findForwarders(ctx).catch(() => [])).find((f) => f.name === name)?.url;
      }
    }
    return next.close(connection, url === undefined ? ctx : withClientURL(ctx, url));
  }

  /** The forwarders to try, in order: the one in the path first (a manager restart), then the others. */
  private async candidates(conn: Connection, ctx: ChainContext): Promise<NetworkServiceEndpoint[]> {
    const service = discoveredFrom(ctx)?.service;
    const pick = (all: NetworkServiceEndpoint[]): NetworkServiceEndpoint[] | undefined => {
      const matching = matchForwarders(conn.labels, service, all, this.serviceName);
      return matching.length === 0 ? undefined : matching;
    };
    const matching =
      pick(await this.findForwarders(ctx)) ??
      (await waitFor(
        ctx,
        this.waitMs,
        `discoverforwarder: no forwarder at ${this.managerURL} matches ${describe(conn.labels, service)}`,
        (c) => this.registry.find(this.query(true), c),
        pick,
      ));
    const inPath = this.forwarderInPath(conn);
    const preferred = matching.filter((f) => f.name === inPath);
    // New connections take turns, so that forwarders share the load.
    const start = this.turn++ % matching.length;
    const rotated = [...matching.slice(start), ...matching.slice(0, start)];
    return [...preferred, ...rotated.filter((f) => f.name !== inPath)];
  }

  private findForwarders(ctx: ChainContext): Promise<NetworkServiceEndpoint[]> {
    return findAll(this.registry.find(this.query(false), ctx));
  }

  private query(watch: boolean): { networkServiceEndpoint: NetworkServiceEndpoint; watch: boolean } {
    const filter = NetworkServiceEndpoint.create({ networkServiceNames: [this.serviceName], url: this.managerURL });
    return { networkServiceEndpoint: filter, watch };
  }

  /** The name of the segment after this manager's in the path: the forwarder it used last time. */
  private forwarderInPath(conn: Connection): string | undefined {
    const path = conn.path;
    if (path === undefined) return undefined;
    return path.pathSegments[path.index + 1]?.name;
  }
}

function describe(labels: Labels, service: NetworkService | undefined): string {
  const asked = service?.matches.find((m) => m.metadata !== undefined && isSubset(labels, m.sourceSelector, labels));
  const wanted = asked?.metadata?.labels ?? DEFAULT_FORWARDER_LABELS;
  return `labels ${formatLabels(wanted)}`;
}

/** A `discoverforwarder` element for the manager reachable on `managerURL`. */
export function discoverForwarderServer(
  registry: NSERegistryHandler,
  managerURL: string,
  options?: DiscoverForwarderOptions,
): DiscoverForwarderServer {
  return new DiscoverForwarderServer(registry, managerURL, options);
}
