import { createHash } from 'node:crypto';
import { concat, defer, filter, map, of, Subject, type Observable } from 'rxjs';
import { Connection, type ConnectionEvent, ConnectionEventType, type MonitorScopeSelector } from '../../../api/gen/connection.js';
import { cloneConnection, matchesMonitorScopeSelector } from '../../../api/path.js';

function eventOf(type: ConnectionEventType, connections: readonly Connection[]): ConnectionEvent {
  return { type, connections: Object.fromEntries(connections.map((c) => [c.id, c])) };
}

/**
 * The connections one role holds, and the events about them that its MonitorConnection service streams:
 * a watcher first gets every matching connection (INITIAL_STATE_TRANSFER), then an UPDATE whenever one
 * changes (a request, a refresh, a state reported from downstream) and a DELETE when it is closed, each
 * filtered by the watcher's scope selector. Connections are copied in and out, so nobody can change the
 * stored state by accident.
 */
export class ConnectionMonitor {
  private readonly connections = new Map<string, Connection>();
  /**
   * A digest of each stored connection's encoding: a real change is told from a refresh that changed
   * nothing with one encode, not two, and without keeping the bytes (28 characters a connection, not 1–2 KB).
   */
  private readonly digests = new Map<string, string>();
  private readonly changes = new Subject<ConnectionEvent>();

  /** Connections held. */
  get size(): number {
    return this.connections.size;
  }

  /** Watchers subscribed now (for leak checks). */
  get watchers(): number {
    return this.changes.observers.length;
  }

  /** A copy of the connection with this id, if held. */
  get(id: string): Connection | undefined {
    const conn = this.connections.get(id);
    return conn === undefined ? undefined : cloneConnection(conn);
  }

  /** Copies of every connection held. */
  list(): Connection[] {
    return [...this.connections.values()].map(cloneConnection);
  }

  /** Stores `conn` and tells watchers (UPDATE), unless nothing changed. */
  update(conn: Connection): void {
    const bytes = Connection.encode(conn).finish();
    const digest = createHash('sha1').update(bytes).digest('base64');
    if (this.digests.get(conn.id) === digest) return;
    // A copy, not Connection.decode(bytes): decoded strings keep about 2 KB more per connection alive.
    const stored = cloneConnection(conn);
    this.connections.set(conn.id, stored);
    this.digests.set(conn.id, digest);
    // Most connections are watched by nobody at this hop: no event is built for nobody.
    if (this.changes.observed) this.changes.next(eventOf(ConnectionEventType.UPDATE, [stored]));
  }

  /** Forgets `conn` and tells watchers (DELETE). */
  delete(conn: Connection): void {
    const stored = this.connections.get(conn.id);
    if (stored === undefined) return;
    this.connections.delete(conn.id);
    this.digests.delete(conn.id);
    if (this.changes.observed) this.changes.next(eventOf(ConnectionEventType.DELETE, [stored]));
  }

  /**
   * The events a watcher with `selector` sees: the matching connections now, then every change to a
   * matching one. Events without a matching connection are left out; each subscriber gets its own copies.
   */
  events(selector: MonitorScopeSelector | undefined = undefined): Observable<ConnectionEvent> {
    const copy = (conns: Iterable<Connection>): Connection[] =>
      [...conns].filter((c) => matchesMonitorScopeSelector(c, selector)).map(cloneConnection);
    return defer(() =>
      concat(
        // Built at subscription and followed synchronously by the subscription to changes: nothing can slip between.
        of(eventOf(ConnectionEventType.INITIAL_STATE_TRANSFER, copy(this.connections.values()))),
        this.changes.pipe(
          map((event) => eventOf(event.type, copy(Object.values(event.connections)))),
          filter((event) => Object.keys(event.connections).length > 0),
        ),
      ),
    );
  }
}
