import { expect } from 'chai';
import { Connection, Mechanism } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../../../src/networkservice/core/types.js';
import { mechanismsClient, mechanismsServer } from '../../../../src/networkservice/common/mechanisms/index.js';
import { status } from '../../../../src/tools/grpc/status.js';
import { FakeNext } from '../../../helpers/fake-next.js';
import { statusRejection } from '../../../helpers/status.js';

const ctx = ChainContext.background();

/** A sub-element that records what it saw and marks requests and connections with its type. */
class Marker implements NetworkServiceElement {
  readonly requests: NetworkServiceRequest[] = [];
  readonly closes: Connection[] = [];
  readonly after: Connection[] = [];
  fail: Error | undefined;

  constructor(readonly type: string) {}

  async request(request: NetworkServiceRequest, c: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    this.requests.push(request);
    const mechanism = request.connection?.mechanism;
    if (mechanism !== undefined) mechanism.parameters['before'] = this.type;
    const conn = await next.request(request, c);
    this.after.push(conn);
    if (this.fail !== undefined) throw this.fail;
    conn.labels['handledBy'] = this.type;
    return conn;
  }

  async close(connection: Connection, c: ChainContext, next: NetworkServiceHandler): Promise<void> {
    this.closes.push(connection);
    await next.close(connection, c);
  }
}

function mech(type: string, parameters: Record<string, string> = {}): Mechanism {
  return Mechanism.create({ cls: 'LOCAL', type, parameters });
}


describe('mechanisms server', () => {
  it('uses the first supported preference, sets it as the connection mechanism and reaches next', async () => {
    const kernel = new Marker('KERNEL');
    const memif = new Marker('MEMIF');
    const srv = mechanismsServer({ KERNEL: kernel, MEMIF: memif });
    const next = new FakeNext();
    const request = NetworkServiceRequest.fromPartial({
      connection: { id: '1' },
      mechanismPreferences: [mech('VFIO'), mech('MEMIF', { socket: 's' }), mech('KERNEL')],
    });
    const conn = await srv.request(request, ctx, next);
    expect(conn.labels['handledBy']).to.equal('MEMIF');
    expect(kernel.requests).to.have.length(0);
    expect(next.requests).to.have.length(1);
    const seen = next.requests[0]?.request.connection?.mechanism;
    expect(seen?.type).to.equal('MEMIF');
    expect(seen?.parameters).to.deep.equal({ socket: 's', before: 'MEMIF' });
    // The caller's request and its preference list are left as they were.
    expect(request.connection?.mechanism).to.equal(undefined);
    expect(request.mechanismPreferences[1]?.parameters).to.deep.equal({ socket: 's' });
  });

  it('keeps the mechanism of a connection that has one (refresh)', async () => {
    const kernel = new Marker('KERNEL');
    const memif = new Marker('MEMIF');
    const srv = mechanismsServer({ KERNEL: kernel, MEMIF: memif });
    const next = new FakeNext();
    const request = NetworkServiceRequest.fromPartial({
      connection: { id: '1', mechanism: mech('KERNEL', { name: 'nsm-1' }) },
      mechanismPreferences: [mech('MEMIF')],
    });
    const conn = await srv.request(request, ctx, next);
    expect(conn.labels['handledBy']).to.equal('KERNEL');
    expect(conn.mechanism?.parameters['name']).to.equal('nsm-1');
    expect(memif.requests).to.have.length(0);
  });

  it('rejects a refresh whose mechanism is not supported', async () => {
    const srv = mechanismsServer({ KERNEL: new Marker('KERNEL') });
    const next = new FakeNext();
    const err = await statusRejection(
      srv.request(NetworkServiceRequest.fromPartial({ connection: { id: '1', mechanism: mech('VXLAN') } }), ctx, next),
    );
    expect(err.code).to.equal(status.INVALID_ARGUMENT);
    expect(err.message).to.contain('VXLAN').and.to.contain('KERNEL');
    expect(next.requests).to.have.length(0);
  });

  it('rejects with INVALID_ARGUMENT listing offered and supported mechanisms when none fits', async () => {
    const srv = mechanismsServer({ KERNEL: new Marker('KERNEL'), MEMIF: new Marker('MEMIF') });
    const next = new FakeNext();
    const err = await statusRejection(
      srv.request(
        NetworkServiceRequest.fromPartial({ connection: { id: '1' }, mechanismPreferences: [mech('VFIO'), mech('CARRIER_PIGEON')] }),
        ctx,
        next,
      ),
    );
    expect(err.code).to.equal(status.INVALID_ARGUMENT);
    expect(err.message).to.contain('offered VFIO, CARRIER_PIGEON').and.to.contain('supported: KERNEL, MEMIF');
    const empty = await statusRejection(srv.request(NetworkServiceRequest.fromPartial({ connection: { id: '1' } }), ctx, next));
    expect(empty.message).to.contain('offered none');
    expect(next.requests).to.have.length(0);
  });

  it('treats an empty mechanism message as no mechanism', async () => {
    const kernel = new Marker('KERNEL');
    const srv = mechanismsServer({ KERNEL: kernel });
    const conn = await srv.request(
      NetworkServiceRequest.fromPartial({ connection: { id: '1', mechanism: {} }, mechanismPreferences: [mech('KERNEL')] }),
      ctx,
      new FakeNext(),
    );
    expect(conn.mechanism?.type).to.equal('KERNEL');
  });

  it('rejects a request without a connection', async () => {
    const srv = mechanismsServer({ KERNEL: new Marker('KERNEL') });
    const err = await statusRejection(srv.request(NetworkServiceRequest.fromPartial({ mechanismPreferences: [mech('KERNEL')] }), ctx, new FakeNext()));
    expect(err.code).to.equal(status.INVALID_ARGUMENT);
  });

  it('returns the failure of the chosen mechanism without trying others', async () => {
    const kernel = new Marker('KERNEL');
    kernel.fail = new Error('no netns');
    const memif = new Marker('MEMIF');
    const srv = mechanismsServer({ KERNEL: kernel, MEMIF: memif });
    const request = NetworkServiceRequest.fromPartial({ connection: { id: '1' }, mechanismPreferences: [mech('KERNEL'), mech('MEMIF')] });
    const err = await srv.request(request, ctx, new FakeNext()).then(
      () => expect.fail('should fail'),
      (e: unknown) => e,
    );
    expect(String(err)).to.contain('no netns');
    expect(memif.requests).to.have.length(0);
  });

  it('names the failing sub-element when used in a chain', async () => {
    const kernel = new Marker('KERNEL');
    kernel.fail = new Error('no netns');
    const srv = chain(mechanismsServer({ KERNEL: kernel }));
    const err = await statusRejection(
      srv.request(NetworkServiceRequest.fromPartial({ connection: { id: '1' }, mechanismPreferences: [mech('KERNEL')] }), ctx, new FakeNext()),
    );
    expect(err.message).to.contain('Marker').and.to.contain('no netns');
  });

  it('dispatches Close by mechanism type, and passes unknown or missing ones straight to next', async () => {
    const kernel = new Marker('KERNEL');
    const srv = mechanismsServer({ KERNEL: kernel });
    const next = new FakeNext();
    await srv.close(Connection.fromPartial({ id: '1', mechanism: mech('KERNEL') }), ctx, next);
    expect(kernel.closes).to.have.length(1);
    expect(next.closes).to.have.length(1);
    await srv.close(Connection.fromPartial({ id: '2', mechanism: mech('VXLAN') }), ctx, next);
    await srv.close(Connection.fromPartial({ id: '3' }), ctx, next);
    expect(kernel.closes).to.have.length(1);
    expect(next.closes.map((c) => c.connection.id)).to.deep.equal(['1', '2', '3']);
  });

  it('refuses an empty mechanism type in its map', () => {
    expect(() => mechanismsServer({ '': new Marker('') })).to.throw(Error, 'empty');
  });
});

describe('mechanisms client', () => {
  it('runs the sub-element for the mechanism the server chose, after next', async () => {
    const kernel = new Marker('KERNEL');
    const memif = new Marker('MEMIF');
    const client = mechanismsClient({ KERNEL: kernel, MEMIF: memif });
    const next = new FakeNext();
    next.onRequest = async (req) =>
      Connection.fromPartial({ ...req.connection, mechanism: mech('MEMIF', { socket: 'chosen' }) });
    const request = NetworkServiceRequest.fromPartial({
      connection: { id: '1' },
      mechanismPreferences: [mech('KERNEL'), mech('MEMIF')],
    });
    const conn = await client.request(request, ctx, next);
    expect(next.requests).to.have.length(1);
    // The preferences went to the server untouched by the sub-element.
    expect(next.requests[0]?.request.mechanismPreferences.map((m) => m.parameters)).to.deep.equal([{}, {}]);
    expect(kernel.requests).to.have.length(0);
    expect(memif.requests).to.have.length(1);
    expect(memif.requests[0]?.connection?.mechanism?.parameters['socket']).to.equal('chosen');
    expect(memif.after[0]).to.equal(memif.requests[0]?.connection);
    expect(conn.labels['handledBy']).to.equal('MEMIF');
  });

  it('passes through a connection whose mechanism it has no element for', async () => {
    const kernel = new Marker('KERNEL');
    const client = mechanismsClient({ KERNEL: kernel });
    const next = new FakeNext();
    next.onRequest = async (req) => Connection.fromPartial({ ...req.connection, mechanism: mech('VXLAN') });
    const conn = await client.request(NetworkServiceRequest.fromPartial({ connection: { id: '1' } }), ctx, next);
    expect(conn.mechanism?.type).to.equal('VXLAN');
    expect(conn.labels['handledBy']).to.equal(undefined);
    expect(kernel.requests).to.have.length(0);
  });

  it('closes downstream when its element fails on a first request, but not on a refresh', async () => {
    const kernel = new Marker('KERNEL');
    kernel.fail = new Error('cannot create interface');
    const client = mechanismsClient({ KERNEL: kernel });
    const next = new FakeNext();
    next.onRequest = async (req) => Connection.fromPartial({ ...req.connection, mechanism: mech('KERNEL') });
    const failed = await client
      .request(NetworkServiceRequest.fromPartial({ connection: { id: '1' } }), ctx, next)
      .then(() => undefined, (e: unknown) => e);
    expect(String(failed)).to.contain('cannot create interface');
    expect(next.closes.map((c) => c.connection.id)).to.deep.equal(['1']);

    const refreshFailed = await client
      .request(NetworkServiceRequest.fromPartial({ connection: { id: '2', mechanism: mech('KERNEL') } }), ctx, next)
      .then(() => undefined, (e: unknown) => e);
    expect(String(refreshFailed)).to.contain('cannot create interface');
    expect(next.closes).to.have.length(1);
  });

  it('does not run any element when next fails', async () => {
    const kernel = new Marker('KERNEL');
    const client = mechanismsClient({ KERNEL: kernel });
    const next = new FakeNext();
    next.onRequest = () => Promise.reject(new Error('no endpoint'));
    const err = await client.request(NetworkServiceRequest.fromPartial({ connection: { id: '1' } }), ctx, next).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(err)).to.contain('no endpoint');
    expect(kernel.requests).to.have.length(0);
    expect(next.closes).to.have.length(0);
  });

  it('dispatches Close by mechanism type', async () => {
    const kernel = new Marker('KERNEL');
    const client = mechanismsClient({ KERNEL: kernel });
    const next = new FakeNext();
    await client.close(Connection.fromPartial({ id: '1', mechanism: mech('KERNEL') }), ctx, next);
    await client.close(Connection.fromPartial({ id: '2', mechanism: mech('MEMIF') }), ctx, next);
    expect(kernel.closes.map((c) => c.id)).to.deep.equal(['1']);
    expect(next.closes.map((c) => c.connection.id)).to.deep.equal(['1', '2']);
  });
});
