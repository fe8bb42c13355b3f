/**
 * One MonitorConnections stream per peer, shared by every connection that watches that peer.
 *
 * Watching the next hop once per connection costs a stream per connection per hop, and each Close
 * cancels one (an RST_STREAM): with channels shared per peer, a busy peer would see a reset storm on one
 * HTTP/2 session, which servers treat as an attack (rapid reset) and answer with GOAWAY. Here a role
 * opens one stream per (channel, own path segment name), with the selector `{pathSegments: [{name}]}`:
 * by upstream's matching rules (a selector segment matches a path segment when its non-empty fields are
 * equal) the peer sends exactly the connections whose path passes through this role. Events are handed
 * to the watchers by path segment id, so each connection still sees only its own.
 *
 * A connection that heals leaves its stream and joins it again (a reselect closes the old path and
 * requests anew, and both reach the peer before the watcher is back). Events the peer sent about the old
 * path (its DELETE, a DOWN) may still be on the way when the watcher rejoins: unlike a stream of its own,
 * a shared stream cannot leave them behind. So the stream remembers, for a few seconds, the segments
 * whose watchers left and whether an UPDATE that is not DOWN came after; a watcher that rejoins before
 * such an UPDATE ignores DELETE and DOWN until one comes (the peer sends it when it answers the new
 * request, after anything about the old path).
 *
 * A stream opened for a watcher is checked against its first event: a peer whose initial state does not
 * hold the connection it has just returned has lost it (it restarted). A watcher that joins a stream
 * already open is not checked that way: its connection may have been made after the peer took the
 * snapshot. When the stream breaks or ends, every watcher is told and the stream is forgotten; the next
 * watcher opens a new one. A peer without the service (UNIMPLEMENTED) is remembered: later watchers of
 * that channel get nothing, as they would get nothing from it. A stream without watchers is kept for
 * `IDLE_MS` (a Close followed by a Request must not cancel and reopen it) and ends with its channel.
 * @module
 */
import type { Client, ServiceError } from '@grpc/grpc-js';
import type { Subscription } from 'rxjs';
import { type Connection, type ConnectionEvent, ConnectionEventType, State } from '../../../api/gen/connection.js';
import type { ChainContext } from '../../core/context.js';
import { status } from '../../../tools/grpc/status.js';
import type { HeldChannel } from '../clientconn/index.js';
import { watchConnections } from './serve.js';

/** What a watcher of one connection at a peer is told. */
export interface PeerWatcher {
  /** The peer's view of the connection changed (`type` UPDATE or DELETE, or INITIAL_STATE_TRANSFER). */
  event(conn: Connection, type: ConnectionEventType): void;
  /** The stream opened for this watcher began without the connection: the peer no longer holds it. */
  missing(): void;
  /** The stream broke or ended (a dead or restarted peer). */
  broken(error: unknown): void;
}

/** How long a stream without watchers stays open (ms). */
const IDLE_MS = 1000;
/** How long a segment whose watcher left is remembered (ms): far longer than an event is in flight. */
const LEFT_MS = 10_000;

/** A watcher and whether it acts on DELETE and DOWN yet (see the module comment). */
interface Entry {
  readonly watcher: PeerWatcher;
  armed: boolean;
}

/** A segment whose watchers left: since when, and whether a not-DOWN UPDATE came since. */
interface Left {
  readonly at: number;
  armed: boolean;
}

function isUp(conn: Connection, type: ConnectionEventType): boolean {
  return type !== ConnectionEventType.DELETE && conn.state !== State.DOWN;
}

class PeerStream {
  private readonly watchers = new Map<string, Set<Entry>>();
  private readonly left = new Map<string, Left>();
  private count = 0;
  private subscription: Subscription | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Watchers whose connection must be in the first event (those that opened the stream). */
  private checkFirst: Map<string, PeerWatcher> | undefined;

  constructor(
    private readonly client: Client,
    private readonly name: string,
    private readonly forget: (stream: PeerStream) => void,
  ) {}

  get watching(): number {
    return this.count;
  }

  add(segmentId: string, watcher: PeerWatcher, ctx: ChainContext): () => void {
    let set = this.watchers.get(segmentId);
    if (set === undefined) this.watchers.set(segmentId, (set = new Set()));
    const before = this.left.get(segmentId);
    this.left.delete(segmentId);
    const entry: Entry = { watcher, armed: before?.armed ?? true };
    set.add(entry);
    this.count++;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.subscription === undefined) {
      this.checkFirst = new Map([[segmentId, watcher]]);
      this.open(ctx);
    }
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      if (set.delete(entry)) this.count--;
      if (set.size === 0 && this.watchers.get(segmentId) === set) {
        this.watchers.delete(segmentId);
        this.remember(segmentId);
      }
      this.checkFirst?.delete(segmentId);
      if (this.count === 0 && this.subscription !== undefined) {
        this.idleTimer = setTimeout(() => this.end(), IDLE_MS);
        // An idle stream must not keep a process alive that has nothing else to do.
        this.idleTimer.unref();
      }
    };
  }

  /** Remembers that the watchers of `segmentId` left; forgets what is older than LEFT_MS. */
  private remember(segmentId: string): void {
    const now = Date.now();
    // Insertion order is time order: the oldest entries are first.
    for (const [id, left] of this.left) {
      if (now - left.at < LEFT_MS) break;
      this.left.delete(id);
    }
    this.left.set(segmentId, { at: now, armed: false });
  }

  /** Cancels the stream (its channel is closing, or nobody watched it for a while). */
  end(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.forget(this);
    const subscription = this.subscription;
    this.subscription = undefined;
    subscription?.unsubscribe();
  }

  private open(ctx: ChainContext): void {
    let broken = false;
    const subscription = watchConnections(this.client, { pathSegments: [{ name: this.name }] }, ctx.detach()).subscribe({
      next: (event) => this.dispatch(event),
      error: (error: unknown) => {
        broken = true;
        this.fail(error);
      },
      complete: () => {
        broken = true;
        this.fail(new Error('the monitor stream ended'));
      },
    });
    if (!broken) this.subscription = subscription;
  }

  private dispatch(event: ConnectionEvent): void {
    const seen = this.checkFirst === undefined ? undefined : new Set<string>();
    for (const conn of Object.values(event.connections)) {
      const up = isUp(conn, event.type);
      for (const segment of conn.path?.pathSegments ?? []) {
        seen?.add(segment.id);
        const left = this.left.get(segment.id);
        if (left !== undefined) left.armed = up;
        const set = this.watchers.get(segment.id);
        if (set === undefined) continue;
        for (const entry of [...set]) {
          if (up) entry.armed = true;
          else if (!entry.armed) continue; // about the old path: sent before the peer answered the new request
          entry.watcher.event(conn, event.type);
        }
      }
    }
    const check = this.checkFirst;
    this.checkFirst = undefined;
    if (check === undefined || seen === undefined) return;
    for (const [segmentId, watcher] of check) if (!seen.has(segmentId)) watcher.missing();
  }

  private fail(error: unknown): void {
    this.forget(this);
    this.subscription = undefined;
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if ((error as Partial<ServiceError>).code === status.UNIMPLEMENTED) {
      unimplemented.add(this.client);
      return;
    }
    const all = [...this.watchers.values()].flatMap((set) => [...set]);
    this.watchers.clear();
    this.left.clear();
    this.count = 0;
    for (const entry of all) entry.watcher.broken(error);
  }
}

const streams = new WeakMap<Client, Map<string, PeerStream>>();
const unimplemented = new WeakSet<Client>();

/**
 * Watches, at the peer behind `held`, the connection whose path holds the segment `segmentId`, through
 * the stream this role shares for that peer (`ownName`: this role's own path segment name). Returns the
 * function that stops watching.
 */
export function watchAtPeer(held: HeldChannel, ownName: string, segmentId: string, watcher: PeerWatcher, ctx: ChainContext): () => void {
  const client = held.client;
  if (unimplemented.has(client)) return () => undefined;
  let byName = streams.get(client);
  if (byName === undefined) streams.set(client, (byName = new Map<string, PeerStream>()));
  let stream = byName.get(ownName);
  if (stream === undefined) {
    const map = byName;
    const created: PeerStream = new PeerStream(client, ownName, (s) => {
      if (map.get(ownName) === s) map.delete(ownName);
    });
    stream = created;
    map.set(ownName, created);
    held.onClose?.(() => created.end());
  }
  return stream.add(segmentId, watcher, ctx);
}

/** Watchers over every shared stream of `client` (for tests and leak checks). */
export function peerWatchers(client: Client): number {
  let n = 0;
  for (const stream of streams.get(client)?.values() ?? []) n += stream.watching;
  return n;
}

/** Shared streams open on `client` (for tests: one per peer and own name). */
export function peerStreams(client: Client): number {
  return streams.get(client)?.size ?? 0;
}

/** This hop's own path segment name in a connection it holds (in its own view: `path.index` is its own). */
export function ownSegmentName(conn: Connection): string {
  return conn.path?.pathSegments[conn.path.index]?.name ?? '';
}
