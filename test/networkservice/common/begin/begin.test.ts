import { expect } from 'chai';
import { Connection, State } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import {
  beginClient,
  beginServer,
  eventFactoryFrom,
  mergeConnection,
  type EventFactory,
} from '../../../../src/networkservice/common/begin/index.js';
import { FakeNext, tick } from '../../../helpers/fake-next.js';

const ctx = ChainContext.background();

function req(id: string, extra: Partial<Connection> = {}): NetworkServiceRequest {
  return NetworkServiceRequest.fromPartial({ connection: { id, networkService: 'ns', ...extra } });
}

describe('begin', () => {
  it('runs 100 concurrent requests on one id one at a time, in arrival order', async () => {
    const begin = beginServer();
    const next = new FakeNext();
    let running = 0;
    let maxRunning = 0;
    const order: number[] = [];
    next.onRequest = async (request) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await tick(Math.random() < 0.5 ? 0 : 1);
      order.push(Number(request.connection?.labels['n']));
      running--;
      return Connection.fromPartial(request.connection ?? {});
    };
    const all = Array.from({ length: 100 }, (_, n) => begin.request(req('one', { labels: { n: String(n) } }), ctx, next));
    await Promise.all(all);
    expect(maxRunning).to.equal(1);
    expect(order).to.deep.equal(Array.from({ length: 100 }, (_, n) => n));
  });

  it('runs different ids in parallel', async () => {
    const begin = beginServer();
    const next = new FakeNext();
    let running = 0;
    let maxRunning = 0;
    const releases: (() => void)[] = [];
    next.onRequest = async (request) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
      return Connection.fromPartial(request.connection ?? {});
    };
    const all = Array.from({ length: 10 }, (_, n) => begin.request(req(`id-${n}`), ctx, next));
    await tick();
    expect(running).to.equal(10);
    releases.forEach((release) => release());
    await Promise.all(all);
    expect(maxRunning).to.equal(10);
  });

  it('closes the last good connection after a failed re-request', async () => {
    const begin = beginServer();
    const next = new FakeNext();
    next.onRequest = async (request) => Connection.fromPartial({ ...request.connection, labels: { gen: 'good' } });
    await begin.request(req('c'), ctx, next);
    next.onRequest = () => Promise.reject(new Error('endpoint gone'));
    let failed = false;
    await begin.request(req('c', { labels: { gen: 'bad' } }), ctx, next).catch(() => {
      failed = true;
    });
    expect(failed).to.equal(true);
    await begin.close(Connection.fromPartial({ id: 'c', labels: { gen: 'whatever the peer sent' } }), ctx, next);
    expect(next.closes).to.have.length(1);
    expect(next.closes[0]?.connection.labels['gen']).to.equal('good');
    expect(begin.size).to.equal(0);
  });

  it('forgets a connection whose first request failed, and ignores Close for unknown ids', async () => {
    const begin = beginServer();
    const next = new FakeNext();
    next.onRequest = () => Promise.reject(new Error('no'));
    await begin.request(req('x'), ctx, next).catch(() => undefined);
    expect(begin.size).to.equal(0);
    await begin.close(Connection.fromPartial({ id: 'x' }), ctx, next);
    expect(next.closes).to.have.length(0);
  });

  it('sets state UP on the server side', async () => {
    const begin = beginServer();
    const next = new FakeNext();
    next.onRequest = async (request) => Connection.fromPartial({ ...request.connection, state: State.DOWN });
    const conn = await begin.request(req('u'), ctx, next);
    expect(conn.state).to.equal(State.UP);
  });

  it('closes the old path before a RESELECT_REQUESTED request', async () => {
    const begin = beginServer();
    const next = new FakeNext();
    await begin.request(req('r', { networkServiceEndpointName: 'old' }), ctx, next);
    await begin.request(req('r', { state: State.RESELECT_REQUESTED }), ctx, next);
    expect(next.closes).to.have.length(1);
    expect(next.closes[0]?.connection.networkServiceEndpointName).to.equal('old');
    expect(next.requests).to.have.length(2);
  });

  it('gives later elements an event factory that re-requests and closes through the queue', async () => {
    const begin = beginServer();
    const next = new FakeNext();
    let factory: EventFactory | undefined;
    let calls = 0;
    next.onRequest = async (request, c) => {
      factory = eventFactoryFrom(c);
      calls++;
      return Connection.fromPartial({ ...request.connection, labels: { calls: String(calls) } });
    };
    await begin.request(req('e'), ctx, next);
    expect(factory).to.not.equal(undefined);
    const again = await factory?.request();
    expect(again?.labels['calls']).to.equal('2');
    // The event re-sent the stored request, which carried the connection returned last time.
    expect(next.requests[1]?.request.connection?.labels['calls']).to.equal('1');
    await factory?.close();
    expect(next.closes).to.have.length(1);
    expect(begin.size).to.equal(0);
    let rejected = false;
    await factory?.request().catch(() => {
      rejected = true;
    });
    expect(rejected).to.equal(true);
  });

  it('reselects through the event factory: closes, clears mechanism and endpoint, marks RESELECT_REQUESTED', async () => {
    const begin = beginClient();
    const next = new FakeNext();
    let factory: EventFactory | undefined;
    next.onRequest = async (request, c) => {
      factory = eventFactoryFrom(c);
      return Connection.fromPartial({
        ...request.connection,
        networkServiceEndpointName: 'nse-1',
        mechanism: { cls: 'LOCAL', type: 'KERNEL' },
      });
    };
    await begin.request(req('s'), ctx, next);
    await factory?.request({ reselect: true });
    expect(next.closes).to.have.length(1);
    const resent = next.requests[1]?.request.connection;
    expect(resent?.state).to.equal(State.RESELECT_REQUESTED);
    expect(resent?.mechanism).to.equal(undefined);
    expect(resent?.networkServiceEndpointName).to.equal('');
  });

  it('a reselect keeps the addresses and routes the caller asked for, and drops those the old endpoint gave', async () => {
    const begin = beginClient();
    const next = new FakeNext();
    let factory: EventFactory | undefined;
    next.onRequest = async (request, c) => {
      factory = eventFactoryFrom(c);
      const conn = Connection.fromPartial({ ...request.connection, networkServiceEndpointName: 'nse-1' });
      const ip = conn.context!.ipContext!;
      ip.srcIpAddrs.push('172.16.0.2/32');
      ip.dstIpAddrs.push('172.16.0.1/32');
      ip.srcRoutes.push({ prefix: '172.16.0.1/32', nextHop: '' });
      return conn;
    };
    const asked = { srcIpAddrs: ['10.9.0.5/32'], srcRoutes: [{ prefix: '10.0.0.0/8' }], excludedPrefixes: ['10.96.0.0/12'] };
    const conn = await begin.request(NetworkServiceRequest.fromPartial({ connection: { id: 'k', networkService: 'ns', context: { ipContext: asked } } }), ctx, next);
    expect(conn.context?.ipContext?.srcIpAddrs).to.deep.equal(['10.9.0.5/32', '172.16.0.2/32']);
    // A refresh carries what the endpoint gave; it is not what the caller asked for.
    await begin.request(NetworkServiceRequest.fromPartial({ connection: conn }), ctx, next);
    await factory?.request({ reselect: true });
    const resent = next.requests.at(-1)?.request.connection?.context?.ipContext;
    expect(resent?.srcIpAddrs).to.deep.equal(['10.9.0.5/32']);
    expect(resent?.dstIpAddrs).to.deep.equal([]);
    expect(resent?.srcRoutes.map((r) => r.prefix)).to.deep.equal(['10.0.0.0/8']);
    expect(resent?.excludedPrefixes).to.deep.equal(['10.96.0.0/12']);
  });

  it('client: a refresh with the old connection object is merged with the latest one', async () => {
    const begin = beginClient();
    const next = new FakeNext();
    let generation = 0;
    let factory: EventFactory | undefined;
    next.onRequest = async (request, c) => {
      factory = eventFactoryFrom(c);
      generation++;
      return Connection.fromPartial({ ...request.connection, networkServiceEndpointName: `nse-${generation}` });
    };
    const first = await begin.request(req('m'), ctx, next);
    await factory?.request({ reselect: true }); // now on nse-2
    await begin.request({ connection: first, mechanismPreferences: [] }, ctx, next);
    // The caller did not change the endpoint name, so the latest (nse-2) is kept rather than the stale nse-1.
    expect(next.requests[2]?.request.connection?.networkServiceEndpointName).to.equal('nse-2');
  });

  it('mergeConnection takes the fields the caller changed', () => {
    const returned = Connection.fromPartial({ id: 'a', labels: { a: '1' }, networkServiceEndpointName: 'n1' });
    const latest = Connection.fromPartial({ id: 'a', labels: { a: '1' }, networkServiceEndpointName: 'n2', path: { index: 0, pathSegments: [{ name: 'c', id: 'a', token: 'new' }] } });
    const requested = Connection.fromPartial({ ...returned, labels: { a: '2' } });
    const merged = mergeConnection(requested, returned, latest);
    expect(merged.labels).to.deep.equal({ a: '2' });
    expect(merged.networkServiceEndpointName).to.equal('n2');
    expect(merged.path?.pathSegments[0]?.token).to.equal('new');
  });

  it('mergeConnection at a later hop takes the path the previous hop sent (its tokens are the renewed ones)', () => {
    const seg = (name: string, token: string): { name: string; id: string; token: string } => ({ name, id: name, token });
    const returned = Connection.fromPartial({ id: 'a', path: { index: 1, pathSegments: [seg('nsc', 't1'), seg('nsmgr', 't1'), seg('nse', 't1')] } });
    const latest = Connection.fromPartial({ ...returned, path: { index: 1, pathSegments: [seg('nsc', 't1'), seg('nsmgr', 't2'), seg('nse', 't2')] } });
    const requested = Connection.fromPartial({ ...returned, path: { index: 1, pathSegments: [seg('nsc', 't3'), seg('nsmgr', 't3'), seg('nse', 't2')] } });
    const merged = mergeConnection(requested, returned, latest);
    expect(merged.path?.pathSegments.map((s) => s.token)).to.deep.equal(['t3', 't3', 't2']);
    // The first hop keeps its stored path: the caller may hand back an old object.
    const first = mergeConnection({ ...requested, path: { index: 0, pathSegments: requested.path?.pathSegments ?? [] } }, returned, latest);
    expect(first.path?.pathSegments.map((s) => s.token)).to.deep.equal(['t1', 't2', 't2']);
  });

  it('works inside a chain, with its queue shared by request and close', async () => {
    const begin = beginServer();
    const next = new FakeNext();
    const events: string[] = [];
    next.onRequest = async (request) => {
      events.push('request-start');
      await tick(5);
      events.push('request-end');
      return Connection.fromPartial(request.connection ?? {});
    };
    next.onClose = async () => {
      events.push('close');
    };
    const c = chain(begin);
    const pending = c.request(req('q'), ctx, next);
    const closing = c.close(Connection.fromPartial({ id: 'q' }), ctx, next);
    await Promise.all([pending, closing]);
    expect(events).to.deep.equal(['request-start', 'request-end', 'close']);
  });
});
