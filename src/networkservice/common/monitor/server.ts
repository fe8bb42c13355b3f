import type { Client, ServiceError } from '@grpc/grpc-js';
import type { Subscription } from 'rxjs';
import { type Connection, type ConnectionEvent, ConnectionEventType, State } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { cloneConnection, getNextPathSegment } from '../../../api/path.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { status } from '../../../tools/grpc/status.js';
import { isReselectClose } from '../begin/index.js';
import { loadChannel } from '../clientconn/index.js';
import { connectionMetadata, MetadataKey } from '../metadata/index.js';
import type { ConnectionMonitor } from './hub.js';
import { watchConnections } from './serve.js';

interface DownstreamWatch {
  readonly channel: Client;
  readonly segmentId: string;
  readonly subscription: Subscription;
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
    metadata.get(WATCH)?.subscription.unsubscribe();
    metadata.delete(WATCH);
  }

  private watchDownstream(conn: Connection, ctx: ChainContext): void {
    const metadata = connectionMetadata(ctx, 'server');
    const channel = loadChannel(ctx)?.client;
    const nextSegment = getNextPathSegment(conn);
    const current = metadata.get(WATCH);
    // A refresh over the same channel to the same hop keeps its stream: no new call per refresh.
    if (current !== undefined && !current.subscription.closed && current.channel === channel && current.segmentId === nextSegment?.id) return;
    this.stopWatch(ctx);
    if (channel === undefined || nextSegment === undefined || nextSegment.id === '') return;
    const id = conn.id;
    const downstreamId = nextSegment.id;
    let initial = true;
    const subscription = watchConnections(channel, { pathSegments: [{ id: downstreamId }] }, ctx.detach()).subscribe({
      next: (event) => {
        this.onDownstreamEvent(id, downstreamId, event, initial);
        initial = false;
      },
      error: (error: unknown) => {
        // A peer without a monitor (UNIMPLEMENTED) tells nothing: that is not a failure of the connection.
        if ((error as Partial<ServiceError>).code !== status.UNIMPLEMENTED) this.markDown(id, ctx, 'the stream broke');
      },
      complete: () => this.markDown(id, ctx, 'the stream ended'),
    });
    if (!subscription.closed) metadata.set(WATCH, { channel, segmentId: downstreamId, subscription });
  }

  private onDownstreamEvent(id: string, downstreamId: string, event: ConnectionEvent, initial: boolean): void {
    const mine = this.monitor.get(id);
    if (mine === undefined) return;
    // The next hop holds the connection under its own id: the next segment's, or (past a passthrough's
    // own client segment) a later one. Either way its path contains the next segment.
    const theirs = Object.values(event.connections).find((c) => c.path?.pathSegments.some((s) => s.id === downstreamId) === true);
    if (theirs === undefined) {
      // The next hop does not hold the connection we were just given: it restarted and forgot it.
      if (initial) this.monitor.update({ ...mine, state: State.DOWN });
      return;
    }
    const out = cloneConnection(mine);
    out.path = { index: mine.path?.index ?? 0, pathSegments: theirs.path?.pathSegments ?? [] };
    out.context = theirs.context;
    out.state = event.type === ConnectionEventType.DELETE ? State.DOWN : theirs.state;
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
