/**
 * MonitorConnection over real gRPC: the scope selector, UPDATE and DELETE, and a hop that passes a request
 * on reporting DOWN when its next hop dies.
 */
import { expect } from 'chai';
import { Client, credentials } from '@grpc/grpc-js';
import { ConnectionEventType, State, type ConnectionEvent } from '../../src/api/gen/connection.js';
import { ChainContext } from '../../src/networkservice/core/context.js';
import { endpointChain } from '../../src/networkservice/chains/endpoint/chain.js';
import { serveEndpoint, type ServedEndpoint } from '../../src/networkservice/chains/endpoint/serve.js';
import { clientChain } from '../../src/networkservice/chains/client/chain.js';
import { createClient } from '../../src/networkservice/chains/client/client.js';
import { connectServer } from '../../src/networkservice/common/connect/index.js';
import { watchConnections } from '../../src/networkservice/common/monitor/index.js';
import { grpcTarget, parseAddress } from '../../src/tools/grpc/address.js';
import { eventually, record } from '../helpers/eventually.js';
import { baseline, expectNoLeaks, type Resources } from '../helpers/leaks.js';
import { tempSocketDir } from '../helpers/servers.js';

describe('MonitorConnection over gRPC', function () {
  this.timeout(20_000);
  const sockets = tempSocketDir();
  let before: Resources;
  const started: ServedEndpoint[] = [];
  const channels: Client[] = [];
  const dial = (url: string): Client => {
    const channel = new Client(grpcTarget(parseAddress(url)), credentials.createInsecure(), { 'grpc.default_authority': 'localhost' });
    channels.push(channel);
    return channel;
  };

  beforeEach(async () => {
    before = await baseline();
  });
  afterEach(async () => {
    for (const c of channels.splice(0)) c.close();
    for (const s of started.splice(0)) await s.stop();
    await expectNoLeaks(before);
  });
  after(() => sockets.cleanup());

  it('streams the current connections, then UPDATE and DELETE, filtered by network service and path segment', async () => {
    const nse = await serveEndpoint(sockets.socket('nse'), endpointChain({ name: 'nse' }));
    started.push(nse);
    const ctx = ChainContext.background();
    const client = createClient({ name: 'nsc', connectTo: nse.url, heal: false, refresh: false });
    const first = await client.request({ connection: { networkService: 'svc-a' } });

    const channel = dial(nse.url);
    const all = record<ConnectionEvent>(watchConnections(channel, {}, ctx));
    const svcB = record<ConnectionEvent>(watchConnections(channel, { networkServices: ['svc-b'] }, ctx));
    const bySegment = record<ConnectionEvent>(watchConnections(channel, { pathSegments: [{ name: 'nsc' }, { name: 'nse' }] }, ctx));
    await eventually(() => all.events.length === 1 && svcB.events.length === 1 && bySegment.events.length === 1);
    expect(all.events[0]?.type).to.equal(ConnectionEventType.INITIAL_STATE_TRANSFER);
    expect(Object.values(all.events[0]?.connections ?? {}).map((c) => c.networkService)).to.deep.equal(['svc-a']);
    expect(Object.keys(svcB.events[0]?.connections ?? {})).to.have.length(0);
    expect(Object.keys(bySegment.events[0]?.connections ?? {})).to.have.length(1);

    const second = await client.request({ connection: { networkService: 'svc-b' } });
    await eventually(() => svcB.events.length === 2);
    expect(svcB.events[1]?.type).to.equal(ConnectionEventType.UPDATE);
    expect(Object.values(svcB.events[1]?.connections ?? {}).map((c) => [c.networkService, c.state])).to.deep.equal([['svc-b', State.UP]]);

    await client.close(first);
    await eventually(() => all.events.some((e) => e.type === ConnectionEventType.DELETE));
    expect(svcB.events.map((e) => e.type), 'svc-a events do not reach an svc-b watcher').to.not.include(ConnectionEventType.DELETE);
    await client.close(second);
    await eventually(() => svcB.events.some((e) => e.type === ConnectionEventType.DELETE));
    for (const r of [all, svcB, bySegment]) r.subscription.unsubscribe();
    expect(all.errors).to.deep.equal([]);
  });

  it('a hop that passes requests on reports its connection DOWN when the next hop dies', async () => {
    // A killed process takes its timers with it: here its lifetime ends with the kill.
    const nextLifetime = new AbortController();
    const next = await serveEndpoint(sockets.socket('next'), endpointChain({ name: 'next', signal: nextLifetime.signal }));
    const hop = await serveEndpoint(
      sockets.socket('hop'),
      endpointChain({
        name: 'hop',
        additionalFunctionality: [connectServer(clientChain({ name: 'hop', connectTo: next.url, refresh: false }))],
      }),
    );
    started.push(hop, next);
    const client = createClient({ name: 'nsc', connectTo: hop.url, heal: false, refresh: false });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    expect(conn.path?.pathSegments.map((s) => s.name)).to.deep.equal(['nsc', 'hop', 'next']);
    const watch = record<ConnectionEvent>(watchConnections(dial(hop.url), { pathSegments: [{ id: conn.id }] }, ChainContext.background()));
    await eventually(() => watch.events.length === 1);
    expect(Object.values(watch.events[0]?.connections ?? {}).map((c) => c.state)).to.deep.equal([State.UP]);

    await next.server.kill();
    nextLifetime.abort();
    await eventually(() => watch.events.some((e) => Object.values(e.connections).some((c) => c.state === State.DOWN)));
    const down = watch.events.at(-1) as ConnectionEvent;
    expect(down.type).to.equal(ConnectionEventType.UPDATE);
    await client.close(conn).catch(() => undefined); // the next hop is gone; the hop still releases its side
    await eventually(() => watch.events.some((e) => e.type === ConnectionEventType.DELETE));
    watch.subscription.unsubscribe();
  });
});
