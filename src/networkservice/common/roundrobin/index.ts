/**
 * `roundrobin` (server, after `discover`): tries the discovered endpoints one after the other, starting
 * with the next one in turn for the network service, so that new connections spread over the endpoints;
 * the first that accepts wins. The chosen endpoint's name goes into the connection and its URL into the
 * context for `dial` (or for `discoverforwarder`, which sends the request through a forwarder).
 *
 * The URL is remembered per connection, so a Close reaches the same endpoint without the registry.
 * A reselect (state RESELECT_REQUESTED, sent by a client's heal) tries the endpoints on the old path last:
 * the old endpoint is most likely the one that died, and a dead endpoint may cost a whole dial timeout.
 * Each candidate is tried once, with an equal share of the time left (the last one gets all of it), so a
 * hanging endpoint leaves time for the others. When every candidate fails, the error names each of them
 * with its reason; its code is UNAVAILABLE, or the code all the failures share when that is not a
 * transient one (a policy's PERMISSION_DENIED).
 * @module
 */
import { type Connection, State } from '../../../api/gen/connection.js';
import { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { NetworkServiceEndpoint } from '../../../api/gen/registry.js';
import { errorMessage, status, statusError } from '../../../tools/grpc/status.js';
import { tryCandidates } from '../../../tools/candidates/index.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { withClientURL } from '../clienturl/index.js';
import { discoveredFrom } from '../discover/index.js';
import { connectionMetadata, MetadataKey } from '../metadata/index.js';

const CHOSEN_URL = new MetadataKey<string>('roundrobin.url');

/** The `roundrobin` server element. */
export class RoundRobinServer implements NetworkServiceElement {
  readonly name = 'roundrobin';
  /** Per network service, where the next new connection starts. */
  private readonly turns = new Map<string, number>();

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    if (conn === undefined) throw statusError(status.INVALID_ARGUMENT, 'request has no connection');
    const candidates = discoveredFrom(ctx)?.endpoints ?? [];
    if (candidates.length === 0) {
      throw statusError(status.FAILED_PRECONDITION, 'roundrobin: no candidate endpoints (put discover before roundrobin)');
    }
    const metadata = connectionMetadata(ctx, 'server');
    return tryCandidates(this.order(conn, candidates), ctx, { what: 'candidates' }, async (candidate, candidateCtx) => {
      // Each try gets a copy: the rest of the chain may have changed the request before failing.
      const attempt = NetworkServiceRequest.fromPartial(request);
      (attempt.connection as Connection).networkServiceEndpointName = candidate.name;
      try {
        const result = await next.request(attempt, withClientURL(candidateCtx, candidate.url));
        metadata.set(CHOSEN_URL, candidate.url);
        return result;
      } catch (error) {
        ctx.logger.info(`roundrobin: endpoint ${candidate.name} failed for connection ${conn.id}: ${errorMessage(error)}`);
        throw error;
      }
    });
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const url = connectionMetadata(ctx, 'server').get(CHOSEN_URL);
    return next.close(connection, url === undefined ? ctx : withClientURL(ctx, url));
  }

  /** The candidates in the order to try them: from this service's turn, endpoints of a reselected path last. */
  private order(conn: Connection, candidates: readonly NetworkServiceEndpoint[]): NetworkServiceEndpoint[] {
    const start = this.turn(conn.networkService, candidates.length);
    const ordered = candidates.map((_, i) => candidates[(start + i) % candidates.length] as NetworkServiceEndpoint);
    if (conn.state !== State.RESELECT_REQUESTED) return ordered;
    const onOldPath = new Set((conn.path?.pathSegments ?? []).map((s) => s.name));
    return [...ordered.filter((c) => !onOldPath.has(c.name)), ...ordered.filter((c) => onOldPath.has(c.name))];
  }

  /** The index to start at for `service`, advancing the turn for the next connection. */
  private turn(service: string, count: number): number {
    const current = this.turns.get(service) ?? 0;
    this.turns.set(service, (current + 1) % count);
    return current % count;
  }
}

/** A `roundrobin` element. */
export function roundRobinServer(): RoundRobinServer {
  return new RoundRobinServer();
}
