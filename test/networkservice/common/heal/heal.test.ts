/**
 * `heal` on its own: a client chain ending in a fake next, whose "next hop" monitor is a real
 * MonitorConnection server on a unix socket, so the test controls what heal sees.
 */
import { expect } from 'chai';
import { Client, credentials } from '@grpc/grpc-js';
import { Connection, State } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { beginClient } from '../../../../src/networkservice/common/begin/index.js';
import { metadataClient } from '../../../../src/networkservice/common/metadata/index.js';
import { clientConnClient } from '../../../../src/networkservice/common/clientconn/index.js';
import { healClient, type HealOptions } from '../../../../src/networkservice/common/heal/index.js';
import { ConnectionMonitor, serveMonitorConnection } from '../../../../src/networkservice/common/monitor/index.js';
import { GrpcServer } from '../../../../src/tools/grpc/server.js';
import { grpcTarget, parseAddress } from '../../../../src/tools/grpc/address.js';
import { eventually } from '../../../helpers/eventually.js';
import { FakeNext } from '../../../helpers/fake-next.js';
import { tempSocketDir } from '../../../helpers/servers.js';

interface Rig {
  readonly next: FakeNext;
  readonly hop: ConnectionMonitor;
  readonly run: (options: HealOptions) => Promise<Connection>;
  readonly close: (conn: Connection) => Promise<void>;
  readonly killHop: () => Promise<void>;
  readonly dispose: () => Promise<void>;
}

/** A next hop whose monitor holds what the fake next returned, as a manager's would. */
async function rig(url: string): Promise<Rig> {
  const hop = new ConnectionMonitor();
  let server = new GrpcServer({ drainTimeoutMs: 100 });
  serveMonitorConnection(server, hop);
  await server.listen(url);
  const channel = new Client(grpcTarget(parseAddress(url)), credentials.createInsecure(), { 'grpc.default_authority': 'localhost' });
  const next = new FakeNext();
  next.onRequest = async (request) => {
    const conn = Connection.fromPartial({ ...request.connection, state: State.UP, networkServiceEndpointName: request.connection?.networkServiceEndpointName || 'nse-new' });
    // The next hop's copy: its own id, our segment first in its path.
    hop.update(Connection.fromPartial({ ...conn, id: 'hop-id', path: { index: 1, pathSegments: [...(conn.path?.pathSegments ?? []), { id: 'hop-id', name: 'hop' }] } }));
    return conn;
  };
  next.onClose = async () => hop.delete(Connection.fromPartial({ id: 'hop-id' }));
  const lifetime = new AbortController();
  let c: ReturnType<typeof chain> | undefined;
  const ctx = ChainContext.background();
  return {
    next,
    hop,
    run: (options) => {
      c = chain(beginClient(), metadataClient(), clientConnClient(channel), healClient({ ...options, signal: lifetime.signal }));
      return c.request(
        NetworkServiceRequest.fromPartial({
          connection: { id: 'nsc-id', networkService: 'svc', networkServiceEndpointName: 'nse-old', path: { index: 0, pathSegments: [{ id: 'nsc-id', name: 'nsc' }] } },
        }),
        ctx,
        next,
      );
    },
    close: (conn) => (c as ReturnType<typeof chain>).close(conn, ctx, next),
    killHop: async () => {
      await server.kill();
      server = new GrpcServer({ drainTimeoutMs: 100 });
      serveMonitorConnection(server, hop);
      await server.listen(url);
    },
    dispose: async () => {
      lifetime.abort();
      channel.close();
      await server.stop();
    },
  };
}

describe('heal', function () {
  this.timeout(10_000);
  const sockets = tempSocketDir();
  let r: Rig;
  beforeEach(async () => {
    r = await rig(sockets.socket(`hop-${Math.random().toString(36).slice(2)}`));
  });
  afterEach(async () => r.dispose());
  after(() => sockets.cleanup());

  it('the next hop reports the connection DOWN: reselect (old path closed, endpoint cleared, RESELECT_REQUESTED)', async () => {
    const conn = await r.run({});
    r.hop.update({ ...(r.hop.get('hop-id') as Connection), state: State.DOWN });
    await eventually(() => r.next.requests.length >= 2);
    const again = r.next.requests[1]!.request.connection;
    expect(again?.state).to.equal(State.RESELECT_REQUESTED);
    expect(again?.networkServiceEndpointName).to.equal('');
    expect(r.next.closes).to.have.length(1);
    await r.close(conn);
    expect(r.next.closes).to.have.length(2);
  });

  it('the next hop deletes the connection: reselect', async () => {
    await r.run({});
    r.hop.delete(Connection.fromPartial({ id: 'hop-id' }));
    await eventually(() => r.next.requests.length >= 2);
    expect(r.next.requests[1]!.request.connection?.state).to.equal(State.RESELECT_REQUESTED);
  });

  it('the stream breaks and the liveness check passes: restore on the same endpoint, nothing closed', async () => {
    await r.run({ livenessCheck: () => true, livenessCheckIntervalMs: 60_000 });
    await r.killHop();
    await eventually(() => r.next.requests.length >= 2);
    const again = r.next.requests[1]!.request.connection;
    expect(again?.state).to.not.equal(State.RESELECT_REQUESTED);
    expect(again?.networkServiceEndpointName).to.equal('nse-old');
    expect(r.next.closes).to.have.length(0);
  });

  it('the stream breaks without a liveness check: reselect', async () => {
    await r.run({});
    await r.killHop();
    await eventually(() => r.next.requests.length >= 2);
    expect(r.next.requests[1]!.request.connection?.state).to.equal(State.RESELECT_REQUESTED);
  });

  it('a failing liveness check with a healthy control plane: reselect', async () => {
    let alive = true;
    await r.run({ livenessCheck: () => alive, livenessCheckIntervalMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(r.next.requests).to.have.length(1);
    alive = false;
    await eventually(() => r.next.requests.length >= 2);
    alive = true;
    expect(r.next.requests[1]!.request.connection?.state).to.equal(State.RESELECT_REQUESTED);
  });

  it('keeps trying until an attempt works, and a custom reselect function is used', async () => {
    let failures = 2;
    const calls: number[] = [];
    await r.run({
      retryDelayMs: 10,
      reselect: async (factory, _conn, attempt, signal) => {
        calls.push(attempt);
        if (failures-- > 0) throw new Error('not yet');
        return factory.request({ reselect: true, signal });
      },
    });
    r.hop.update({ ...(r.hop.get('hop-id') as Connection), state: State.DOWN });
    await eventually(() => r.next.requests.length >= 2);
    expect(calls).to.deep.equal([1, 2, 3]);
  });

  it('Close stops healing: no more attempts', async () => {
    const conn = await r.run({ retryDelayMs: 10 });
    r.next.onRequest = () => Promise.reject(new Error('nothing works'));
    r.hop.update({ ...(r.hop.get('hop-id') as Connection), state: State.DOWN });
    await eventually(() => r.next.requests.length >= 3);
    await r.close(conn);
    const attempts = r.next.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(r.next.requests.length).to.equal(attempts);
  });
});
