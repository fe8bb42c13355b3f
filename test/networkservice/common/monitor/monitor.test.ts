import { expect } from 'chai';
import { Connection, ConnectionEventType, State, type ConnectionEvent, MonitorScopeSelector } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import { metadataServer } from '../../../../src/networkservice/common/metadata/index.js';
import { beginClient, eventFactoryFrom } from '../../../../src/networkservice/common/begin/index.js';
import { ConnectionMonitor, monitorClient, monitorServer } from '../../../../src/networkservice/common/monitor/index.js';
import { record } from '../../../helpers/eventually.js';
import { FakeNext } from '../../../helpers/fake-next.js';

const conn = (id: string, service: string, segments: string[]): Connection =>
  Connection.fromPartial({ id, networkService: service, path: { index: 0, pathSegments: segments.map((s) => ({ id: s, name: `hop-${s}` })) } });

describe('monitor: ConnectionMonitor', () => {
  it('starts every watcher with the matching connections, then streams UPDATE and DELETE of matching ones only', () => {
    const monitor = new ConnectionMonitor();
    monitor.update(conn('a', 'svc-1', ['a', 'x']));
    monitor.update(conn('b', 'svc-2', ['b', 'y']));
    const all = record<ConnectionEvent>(monitor.events());
    const svc1 = record<ConnectionEvent>(monitor.events(MonitorScopeSelector.fromPartial({ networkServices: ['svc-1'] })));
    const pathY = record<ConnectionEvent>(monitor.events(MonitorScopeSelector.fromPartial({ pathSegments: [{ id: 'b' }, { id: 'y' }] })));
    expect(all.events[0]?.type).to.equal(ConnectionEventType.INITIAL_STATE_TRANSFER);
    expect(Object.keys(all.events[0]?.connections ?? {})).to.deep.equal(['a', 'b']);
    expect(Object.keys(svc1.events[0]?.connections ?? {})).to.deep.equal(['a']);
    expect(Object.keys(pathY.events[0]?.connections ?? {})).to.deep.equal(['b']);

    monitor.update(conn('c', 'svc-1', ['c']));
    monitor.delete(conn('b', 'svc-2', ['b', 'y']));
    expect(all.events.map((e) => [e.type, Object.keys(e.connections)])).to.deep.equal([
      [ConnectionEventType.INITIAL_STATE_TRANSFER, ['a', 'b']],
      [ConnectionEventType.UPDATE, ['c']],
      [ConnectionEventType.DELETE, ['b']],
    ]);
    expect(svc1.events.map((e) => e.type)).to.deep.equal([ConnectionEventType.INITIAL_STATE_TRANSFER, ConnectionEventType.UPDATE]);
    expect(pathY.events.map((e) => e.type)).to.deep.equal([ConnectionEventType.INITIAL_STATE_TRANSFER, ConnectionEventType.DELETE]);
    for (const r of [all, svc1, pathY]) r.subscription.unsubscribe();
    expect(monitor.watchers).to.equal(0);
  });

  it('sends no UPDATE when nothing changed, forgets what is deleted, and hands out copies', () => {
    const monitor = new ConnectionMonitor();
    const seen = record<ConnectionEvent>(monitor.events());
    const a = conn('a', 'svc', ['a']);
    monitor.update(a);
    monitor.update(conn('a', 'svc', ['a']));
    expect(seen.events).to.have.length(2);
    monitor.update({ ...a, state: State.DOWN });
    expect(seen.events).to.have.length(3);
    (seen.events[1]?.connections['a'] as Connection).networkService = 'changed by a watcher';
    expect(monitor.get('a')?.networkService).to.equal('svc');
    monitor.delete(a);
    monitor.delete(a);
    expect(seen.events.map((e) => e.type).filter((t) => t === ConnectionEventType.DELETE)).to.have.length(1);
    expect(monitor.size).to.equal(0);
    seen.subscription.unsubscribe();
  });
});

describe('monitor: server and client elements', () => {
  it('server: records what the chain returns as UP, and DELETE on Close', async () => {
    const monitor = new ConnectionMonitor();
    const next = new FakeNext();
    next.onRequest = (request) => Promise.resolve(Connection.fromPartial({ ...request.connection, state: State.RESELECT_REQUESTED }));
    const c = chain(metadataServer(), monitorServer(monitor));
    const ctx = ChainContext.background();
    const seen = record<ConnectionEvent>(monitor.events());
    const returned = await c.request(NetworkServiceRequest.fromPartial({ connection: conn('a', 'svc', ['a']) }), ctx, next);
    expect(monitor.get('a')?.state).to.equal(State.UP);
    await c.close(returned, ctx, next);
    expect(seen.events.map((e) => e.type)).to.deep.equal([
      ConnectionEventType.INITIAL_STATE_TRANSFER,
      ConnectionEventType.UPDATE,
      ConnectionEventType.DELETE,
    ]);
    expect(monitor.size).to.equal(0);
    seen.subscription.unsubscribe();
  });

  it('server: a failed request records nothing', async () => {
    const monitor = new ConnectionMonitor();
    const next = new FakeNext();
    next.onRequest = () => Promise.reject(new Error('refused'));
    const c = chain(metadataServer(), monitorServer(monitor));
    await c.request(NetworkServiceRequest.fromPartial({ connection: conn('a', 'svc', ['a']) }), ChainContext.background(), next).catch(() => undefined);
    expect(monitor.size).to.equal(0);
  });

  it('client: a reselect releasing the old path is not a DELETE; a Close is', async () => {
    const monitor = new ConnectionMonitor();
    const next = new FakeNext();
    const c = chain(beginClient(), metadataServer(), monitorClient(monitor));
    const ctx = ChainContext.background();
    const seen = record<ConnectionEvent>(monitor.events());
    const returned = await c.request(NetworkServiceRequest.fromPartial({ connection: conn('a', 'svc', ['a']) }), ctx, next);
    // The reselect comes from begin's event factory, as heal sends it.
    const factory = eventFactoryFrom(next.requests[0]!.ctx);
    expect(factory).to.not.equal(undefined);
    await factory?.request({ reselect: true });
    expect(next.closes).to.have.length(1);
    expect(seen.events.map((e) => e.type)).to.not.include(ConnectionEventType.DELETE);
    expect(monitor.get('a')).to.not.equal(undefined);
    await c.close(returned, ctx, next);
    expect(seen.events.at(-1)?.type).to.equal(ConnectionEventType.DELETE);
    seen.subscription.unsubscribe();
  });
});
