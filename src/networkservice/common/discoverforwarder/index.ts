/**
 * `discoverforwarder` (server, in a manager, after `roundrobin`): sends the request through one of this
 * node's forwarders instead of straight to the endpoint. Forwarders are endpoints of the service
 * `forwarder` registered at this manager (the registry knows them under the manager's URL; the manager's
 * own registry chain hands back their real URLs).
 *
 * - Which forwarders (upstream's rule): a service without matches may use any of the node's forwarders.
 *   Otherwise the first match whose source selector applies to the client's labels decides: it picks the
 *   forwarders whose labels contain its metadata labels (templates filled from the client's labels), or
 *   `p2p=true` when it has none; a `fallthrough` match that picks none hands over to the next one. When no
 *   match applies, no forwarder fits.
 * - The chosen forwarder is kept for the connection, so refreshes go through it while it works. After a
 *   manager restart (no memory), the forwarder named in the connection's path after this manager is
 *   preferred, so a restart does not move the data plane.
 * - New connections take the matching forwarders in turn; a forwarder that fails is skipped for the
 *   next one and not tried again in the same request; each gets a fair share of the time left.
 *   RESELECT_REQUESTED (a client's heal found the path broken) forgets the kept one and tries the
 *   forwarder of the broken path last, not first.
 * - Close goes to the forwarder the connection went through, without the registry when it is known.
 * @module
 */
import { State, type Connection } from '../../../api/gen/connection.js';
import { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { NetworkServiceEndpoint, type NetworkService } from '../../../api/gen/registry.js';
import { errorMessage, status, statusError } from '../../../tools/grpc/status.js';
import { tryCandidates, type Failure } from '../../../tools/candidates/index.js';
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
  /**
   * How long a restarted manager waits for the forwarder named in the path to register again before it
   * moves the connection to another one (ms); default 3000. Forwarders register again as soon as they see
   * the manager back, but a TLS handshake or two later than the first refresh may arrive.
   */
  readonly pathForwarderWaitMs?: number;
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
  const matches = service?.matches ?? [];
  if (matches.length === 0) return [...forwarders];
  for (const match of matches) {
    if (!isSubset(clientLabels, match.sourceSelector, clientLabels)) continue;
    const labels = match.metadata?.labels ?? {};
    const wanted = Object.keys(labels).length === 0 ? DEFAULT_FORWARDER_LABELS : labels;
    const picked = forwarders.filter((f) => {
      const own = f.networkServiceLabels[serviceName]?.labels;
      return own !== undefined && isSubset(own, wanted, clientLabels);
    });
    if (picked.length > 0 || !match.fallthrough) return picked;
  }
  return [];
}

/** The `discoverforwarder` server element of a manager. */
export class DiscoverForwarderServer implements NetworkServiceElement {
  readonly name = 'discoverforwarder';
  private readonly serviceName: string;
  private readonly waitMs: number;
  private readonly pathForwarderWaitMs: number;
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
    this.pathForwarderWaitMs = options.pathForwarderWaitMs ?? 3_000;
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    if (conn === undefined) throw statusError(status.INVALID_ARGUMENT, 'request has no connection');
    const metadata = connectionMetadata(ctx, 'server');
    if (conn.state === State.RESELECT_REQUESTED) metadata.delete(CHOSEN);

    const kept = metadata.get(CHOSEN);
    const tried = new Set<string>();
    const failures: Failure[] = [];
    if (kept !== undefined) {
      // The kept forwarder first; if it fails the others are tried (it may be gone for good), not it again.
      tried.add(kept.name);
      try {
        return await next.request(request, withClientURL(ctx, kept.url));
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        ctx.logger.info(`discoverforwarder: forwarder ${kept.name} failed for connection ${conn.id}, trying others: ${errorMessage(error)}`);
        failures.push({ name: kept.name, error });
        metadata.delete(CHOSEN);
      }
    }

    const candidates = await this.candidates(conn, ctx);
    return tryCandidates(candidates, ctx, { what: 'forwarders', tried, failures }, async (forwarder, candidateCtx) => {
      try {
        const result = await next.request(NetworkServiceRequest.fromPartial(request), withClientURL(candidateCtx, forwarder.url));
        metadata.set(CHOSEN, { name: forwarder.name, url: forwarder.url });
        return result;
      } catch (error) {
        ctx.logger.info(`discoverforwarder: forwarder ${forwarder.name} failed for connection ${conn.id}: ${errorMessage(error)}`);
        throw error;
      }
    });
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
    let matching =
      pick(await this.findForwarders(ctx)) ??
      (await waitFor(
        ctx,
        this.waitMs,
        `no forwarder at ${this.managerURL} matches ${describe(conn.labels, service)}`,
        (c) => this.registry.find(this.query(true), c),
        pick,
      ));
    const inPath = this.forwarderInPath(conn);
    if (inPath !== undefined && conn.state !== State.RESELECT_REQUESTED && !matching.some((f) => f.name === inPath)) {
      // A manager that just restarted may ask before the path's forwarder has registered with it again:
      // wait a moment for it rather than move the data plane.
      const withPath = (all: NetworkServiceEndpoint[]): NetworkServiceEndpoint[] | undefined => {
        const found = pick(all);
        return found?.some((f) => f.name === inPath) === true ? found : undefined;
      };
      matching = await waitFor(ctx, this.pathForwarderWaitMs, `forwarder ${inPath} did not register again`, (c) => this.registry.find(this.query(true), c), withPath).catch(
        () => matching,
      );
    }
    const onPath = matching.filter((f) => f.name === inPath);
    // New connections take turns, so that forwarders share the load.
    const start = this.turn++ % matching.length;
    const rotated = [...matching.slice(start), ...matching.slice(0, start)].filter((f) => f.name !== inPath);
    // A restart (no memory) keeps the data plane where it is; a reselect moves away from the broken path.
    return conn.state === State.RESELECT_REQUESTED ? [...rotated, ...onPath] : [...onPath, ...rotated];
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
  const matches = service?.matches ?? [];
  if (matches.length === 0) return 'any labels (none is registered)';
  const applies = matches.find((m) => isSubset(labels, m.sourceSelector, labels));
  if (applies === undefined) return `no match of network service "${service?.name ?? ''}" applies to the client's labels ${formatLabels(labels)}`;
  const own = applies.metadata?.labels ?? {};
  return `labels ${formatLabels(Object.keys(own).length === 0 ? DEFAULT_FORWARDER_LABELS : own)}`;
}

/** A `discoverforwarder` element for the manager reachable on `managerURL`. */
export function discoverForwarderServer(
  registry: NSERegistryHandler,
  managerURL: string,
  options?: DiscoverForwarderOptions,
): DiscoverForwarderServer {
  return new DiscoverForwarderServer(registry, managerURL, options);
}
