/**
 * `watchAtPeer`: one MonitorConnections stream per peer and own name, over a real MonitorConnection
 * server on a unix socket; events reach only the watcher of their segment; a stream opened for a
 * watcher that begins without its connection says so; events about an old path that are still on the
 * way when a watcher rejoins are left out; a broken stream tells everyone.
 */
import { expect } from 'chai';
import { Connection, ConnectionEventType, State } from '../../../../src/api/gen/connection.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import type { HeldChannel } from '../../../../src/networkservice/common/clientconn/index.js';
import { ChannelPool } from '../../../../src/networkservice/common/dial/index.js';
import {
  ConnectionMonitor,
  peerStreams,
  peerWatchers,
  serveMonitorConnection,
  watchAtPeer,
  type MonitorBinding,
  type PeerWatcher,
} from '../../../../src/networkservice/common/monitor/index.js';
import { GrpcServer } from '../../../../src/tools/grpc/server.js';
import { eventually } from '../../../helpers/eventually.js';
import { tempSocketDir } from '../../../helpers/servers.js';

/** A watcher that records what it is told. */
class Recorder implements PeerWatcher {
  readonly events: [string, ConnectionEventType, State][] = [];
  missed = 0;
  broke = 0;
  event(conn: Connection, type: ConnectionEventType): void {
    this.events.push([conn.id, type, conn.state]);
  }
  missing(): void {
    this.missed++;
  }
  broken(): void {
    this.broke++;
  }
}

/** The peer's copy of a connection that came through `self` with segment id `id`. */
const theirs = (id: string, state = State.UP): Connection =>
  Connection.fromPartial({ id: `peer-${id}`, state, path: { index: 1, pathSegments: [{ id, name: 'self' }, { id: `peer-${id}`, name: 'peer' }] } });

describe('monitor: one stream per peer (watchAtPeer)', function () {
  this.timeout(10_000);
  const sockets = tempSocketDir();
  const ctx = ChainContext.background();
  let hop: ConnectionMonitor;
  let server: GrpcServer;
  let binding: MonitorBinding;
  let pool: ChannelPool;
  let held: HeldChannel;
  let url: string;

  const serve = async (withMonitor = true): Promise<void> => {
    server = new GrpcServer({ drainTimeoutMs: 100 });
    if (withMonitor) binding = serveMonitorConnection(server, hop);
    await server.listen(url);
  };

  beforeEach(async () => {
    hop = new ConnectionMonitor();
    url = sockets.socket(`peer-${Math.random().toString(36).slice(2)}`);
    await serve();
    pool = new ChannelPool({ idleTimeoutMs: 0 });
    held = await pool.acquire(url, ctx, {});
  });
  afterEach(async () => {
    held.release?.();
    pool.closeAll();
    await server.stop();
  });
  after(() => sockets.cleanup());

  it('100 watchers share one stream; each sees only its own connection', async () => {
    for (let i = 0; i < 100; i++) hop.update(theirs(`c${i}`));
    const recorders = Array.from({ length: 100 }, () => new Recorder());
    const stops = recorders.map((r, i) => watchAtPeer(held, 'self', `c${i}`, r, ctx));
    await eventually(() => recorders[0]!.events.length > 0);
    expect(binding.openStreams, 'streams at the peer').to.equal(1);
    expect(peerStreams(held.client)).to.equal(1);
    expect(peerWatchers(held.client)).to.equal(100);
    hop.update(theirs('c7', State.DOWN));
    await eventually(() => recorders[7]!.events.length === 2);
    expect(recorders[7]!.events[1]).to.deep.equal(['peer-c7', ConnectionEventType.UPDATE, State.DOWN]);
    expect(recorders[8]!.events.map((e) => e[1]), 'the others saw their initial state only').to.deep.equal([ConnectionEventType.INITIAL_STATE_TRANSFER]);
    for (const stop of stops) stop();
    expect(peerWatchers(held.client)).to.equal(0);
  });

  it('selects by its own name: connections through other roles are not sent', async () => {
    hop.update(Connection.fromPartial({ id: 'other', path: { index: 1, pathSegments: [{ id: 'o', name: 'someone-else' }, { id: 'other', name: 'peer' }] } }));
    hop.update(theirs('mine'));
    const r = new Recorder();
    const stop = watchAtPeer(held, 'self', 'o', r, ctx);
    await eventually(() => r.missed === 1);
    expect(r.events, 'nothing about a connection of another role').to.deep.equal([]);
    stop();
  });

  it('the watcher that opens a stream learns when the peer does not hold its connection; one that joins later does not', async () => {
    const opener = new Recorder();
    const stopOpener = watchAtPeer(held, 'self', 'lost', opener, ctx);
    await eventually(() => opener.missed === 1);
    const joiner = new Recorder();
    const stopJoiner = watchAtPeer(held, 'self', 'not-yet', joiner, ctx);
    hop.update(theirs('not-yet'));
    await eventually(() => joiner.events.length === 1);
    expect(joiner.missed).to.equal(0);
    stopOpener();
    stopJoiner();
  });

  it('a watcher that rejoins ignores the DELETE of the old path still on the way, and sees a later one', async () => {
    hop.update(theirs('x'));
    const first = new Recorder();
    const stop = watchAtPeer(held, 'self', 'x', first, ctx);
    await eventually(() => first.events.length === 1);
    stop();
    // A reselect: the old path is closed and the new one made at the peer, then the watcher is back,
    // before the peer's events about either have arrived.
    hop.delete(theirs('x'));
    hop.update(theirs('x'));
    const again = new Recorder();
    const stopAgain = watchAtPeer(held, 'self', 'x', again, ctx);
    await eventually(() => again.events.length === 1);
    expect(again.events).to.deep.equal([['peer-x', ConnectionEventType.UPDATE, State.UP]]);
    hop.delete(theirs('x'));
    await eventually(() => again.events.length === 2);
    expect(again.events[1]?.[1]).to.equal(ConnectionEventType.DELETE);
    stopAgain();
  });

  it('a new watcher (not a rejoin) sees a DELETE at once', async () => {
    hop.update(theirs('y'));
    const opener = new Recorder();
    const stopOpener = watchAtPeer(held, 'self', 'other', opener, ctx);
    await eventually(() => opener.missed === 1);
    const r = new Recorder();
    const stop = watchAtPeer(held, 'self', 'y', r, ctx);
    hop.delete(theirs('y'));
    await eventually(() => r.events.length === 1);
    expect(r.events[0]?.[1]).to.equal(ConnectionEventType.DELETE);
    stop();
    stopOpener();
  });

  it('a broken stream tells every watcher; the next watcher opens a new one', async () => {
    hop.update(theirs('a'));
    hop.update(theirs('b'));
    const a = new Recorder();
    const b = new Recorder();
    const stops = [watchAtPeer(held, 'self', 'a', a, ctx), watchAtPeer(held, 'self', 'b', b, ctx)];
    await eventually(() => a.events.length === 1 && b.events.length === 1);
    await server.kill();
    await eventually(() => a.broke === 1 && b.broke === 1);
    expect(peerStreams(held.client)).to.equal(0);
    for (const stop of stops) stop();
    await serve();
    // The old channel backs off; a fresh lease reaches the restarted peer.
    held.release?.();
    held = await pool.acquire(url, ctx, {});
    const c = new Recorder();
    const stop = watchAtPeer(held, 'self', 'a', c, ctx);
    await eventually(() => c.events.length === 1);
    expect(binding.openStreams).to.equal(1);
    stop();
  });

  it('a peer without MonitorConnection (UNIMPLEMENTED) tells nothing and is not asked again', async () => {
    await server.stop();
    await serve(false);
    held.release?.();
    held = await pool.acquire(url, ctx, {});
    const r = new Recorder();
    watchAtPeer(held, 'self', 'q', r, ctx);
    await eventually(() => peerStreams(held.client) === 0);
    const later = new Recorder();
    watchAtPeer(held, 'self', 'q2', later, ctx);
    expect(peerStreams(held.client), 'no second call to a peer that has no monitor').to.equal(0);
    expect([r.broke, r.missed, later.broke, later.missed]).to.deep.equal([0, 0, 0, 0]);
  });

  it('the stream ends with its channel, without telling watchers that anything broke', async () => {
    hop.update(theirs('z'));
    const r = new Recorder();
    watchAtPeer(held, 'self', 'z', r, ctx);
    await eventually(() => r.events.length === 1);
    pool.closeAll();
    await eventually(() => binding.openStreams === 0);
    expect(r.broke).to.equal(0);
    expect(peerStreams(held.client)).to.equal(0);
  });
});
