import type { Client } from '@grpc/grpc-js';
import { type Connection, ConnectionEventType, State } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { cloneConnection, getNextPathSegment } from '../../../api/path.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { isReselectClose } from '../begin/index.js';
import { loadChannel } from '../clientconn/index.js';
import { connectionMetadata, MetadataKey } from '../metadata/index.js';
import type { ConnectionMonitor } from './hub.js';
import { ownSegmentName, watchAtPeer } from './peer.js';

interface DownstreamWatch {
  readonly channel: Client;
  readonly segmentId: string;
  readonly stop: () => void;
}

const WATCH = new MetadataKey<DownstreamWatch>('monitor.downstream');

/**
 * The server side of `monitor`: records each connection this role returns (UPDATE) and closes (DELETE) in
 * the role's {@link ConnectionMonitor}, and, when the connection goes on to a next hop over a channel the
 * chain holds (managers, forwarders, passthrough endpoints), watches that hop's monitor for it: what the
 * next hop reports (its path, context and state) is passed upstream, and a stream that breaks is reported
 * as state DOWN, so a client's heal learns that something beyond its manager died.
 */
export class MonitorServer implements NetworkServiceElement {
  readonly name: string = 'monitor/server';

  constructor(
    /** The role's monitor, where this element records the connections it sees. */
    readonly monitor: ConnectionMonitor,
  ) {}

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = await next.request(request, ctx);
    // A request that succeeded is UP, whatever state it asked for (RESELECT_REQUESTED, REFRESH_REQUESTED).
    this.monitor.update({ ...conn, state: State.UP });
    this.watchDownstream(conn, ctx);
    return conn;
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    this.stopWatch(ctx);
    try {
      await next.close(connection, ctx);
    } finally {
      this.monitor.delete(connection);
    }
  }

  private stopWatch(ctx: ChainContext): void {
    const metadata = connectionMetadata(ctx, 'server');
    metadata.get(WATCH)?.stop();
    metadata.delete(WATCH);
  }

  private watchDownstream(conn: Connection, ctx: ChainContext): void {
    const metadata = connectionMetadata(ctx, 'server');
    const held = loadChannel(ctx);
    const nextSegment = getNextPathSegment(conn);
    const current = metadata.get(WATCH);
    // A refresh over the same channel to the same hop keeps its watch.
    if (current !== undefined && current.channel === held?.client && current.segmentId === nextSegment?.id) return;
    this.stopWatch(ctx);
    if (held === undefined || nextSegment === undefined || nextSegment.id === '') return;
    const id = conn.id;
    const downstreamId = nextSegment.id;
    const watch: DownstreamWatch = {
      channel: held.client,
      segmentId: downstreamId,
      stop: watchAtPeer(held, ownSegmentName(conn), downstreamId, {
        event: (theirs, type) => this.onDownstreamEvent(id, theirs, type),
        // The next hop does not hold the connection we were just given: it restarted and forgot it.
        missing: () => this.markDown(id, ctx, 'the next hop no longer holds it'),
        broken: () => {
          if (metadata.get(WATCH) === watch) metadata.delete(WATCH);
          this.markDown(id, ctx, 'the stream broke');
        },
      }, ctx),
    };
    metadata.set(WATCH, watch);
  }

  /**
   * The next hop holds the connection under its own id: the next segment's, or (past a passthrough's own
   * client segment) a later one. What it reports (its path, context and state) is passed upstream.
   */
  private onDownstreamEvent(id: string, theirs: Connection, type: ConnectionEventType): void {
    const mine = this.monitor.get(id);
    if (mine === undefined) return;
    const out = cloneConnection(mine);
    out.path = { index: mine.path?.index ?? 0, pathSegments: theirs.path?.pathSegments ?? [] };
    out.context = theirs.context;
    out.state = type === ConnectionEventType.DELETE ? State.DOWN : theirs.state;
    this.monitor.update(out);
  }

  private markDown(id: string, ctx: ChainContext, why: string): void {
    const mine = this.monitor.get(id);
    if (mine === undefined || mine.state === State.DOWN) return;
    ctx.logger.info(`monitor: next hop of ${id} lost (${why}): reporting DOWN`);
    this.monitor.update({ ...mine, state: State.DOWN });
  }
}

/** A `monitor` server element recording into `monitor`. */
export function monitorServer(monitor: ConnectionMonitor): MonitorServer {
  return new MonitorServer(monitor);
}

/**
 * The client side of `monitor`: records the client's own connections (UPDATE on every request, refresh or
 * heal; DELETE on Close) so that an application can watch them; `heal`, given the same monitor, reports a
 * connection DOWN there while it repairs it.
 */
export class MonitorClient implements NetworkServiceElement {
  readonly name: string = 'monitor/client';

  constructor(
    /** The client's monitor, where this element records its connections. */
    readonly monitor: ConnectionMonitor,
  ) {}

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = await next.request(request, ctx);
    this.monitor.update(conn);
    return conn;
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    try {
      await next.close(connection, ctx);
    } finally {
      // A reselect releases the old path only: for the application the connection goes on.
      if (!isReselectClose(ctx)) this.monitor.delete(connection);
    }
  }
}

/** A `monitor` client element recording into `monitor`. */
export function monitorClient(monitor: ConnectionMonitor): MonitorClient {
  return new MonitorClient(monitor);
}
