import { expect } from 'chai';
import { Connection } from '../../../../src/api/gen/connection.js';
import { Route } from '../../../../src/api/gen/connectioncontext.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { excludedPrefixesClient } from '../../../../src/networkservice/common/excludedprefixes/index.js';
import { status } from '../../../../src/tools/grpc/status.js';
import { FakeNext } from '../../../helpers/fake-next.js';
import { statusRejection } from '../../../helpers/status.js';

/**
 * A fake endpoint handing out point-to-point pairs from 10.0.0.0/30 (four addresses), lowest free
 * first. With `honour` it skips excluded addresses, as a real IPAM does; without, it ignores them.
 */
function fakeEndpoint(honour: boolean): { next: FakeNext; excludedSeen: string[][] } {
  const next = new FakeNext();
  const excludedSeen: string[][] = [];
  const pool = ['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3'];
  next.onRequest = (request) => {
    const conn = Connection.fromPartial(request.connection ?? {});
    const ipContext = conn.context?.ipContext;
    if (ipContext === undefined) throw new Error('the client should have created the IP context');
    excludedSeen.push([...ipContext.excludedPrefixes]);
    if (ipContext.srcIpAddrs.length === 0) {
      const excluded = new Set(honour ? ipContext.excludedPrefixes : []);
      const free = pool.filter((a) => !excluded.has(`${a}/32`));
      const [dst, src] = free;
      if (dst === undefined || src === undefined) throw new Error('pool exhausted');
      ipContext.dstIpAddrs = [`${dst}/32`];
      ipContext.srcIpAddrs = [`${src}/32`];
      ipContext.srcRoutes = [Route.create({ prefix: `${dst}/32` })];
      ipContext.dstRoutes = [Route.create({ prefix: `${src}/32` })];
    }
    return Promise.resolve(conn);
  };
  return { next, excludedSeen };
}

function request(id: string, excludedPrefixes: string[] = []): NetworkServiceRequest {
  return NetworkServiceRequest.fromPartial({ connection: { id, context: { ipContext: { excludedPrefixes } } } });
}

describe('excludedprefixes client', () => {
  it('gives two connections of one client addresses that do not overlap', async () => {
    const client = excludedPrefixesClient();
    const { next, excludedSeen } = fakeEndpoint(true);
    const ctx = ChainContext.background();
    const first = await client.request(request('a'), ctx, next);
    const second = await client.request(request('b'), ctx, next);
    expect(first.context?.ipContext?.srcIpAddrs).to.deep.equal(['10.0.0.1/32']);
    expect(second.context?.ipContext?.dstIpAddrs).to.deep.equal(['10.0.0.2/32']);
    expect(second.context?.ipContext?.srcIpAddrs).to.deep.equal(['10.0.0.3/32']);
    expect(excludedSeen[0]).to.deep.equal([]);
    expect(excludedSeen[1]).to.have.members(['10.0.0.0/32', '10.0.0.1/32']);
    // The exclusions were for the endpoint: neither the caller's request nor the answer carries them.
    expect(second.context?.ipContext?.excludedPrefixes).to.deep.equal([]);
    expect(next.requests[1]?.request.connection?.context?.ipContext?.excludedPrefixes).to.deep.equal([]);
    expect(client.size).to.equal(2);
  });

  it('keeps prefixes the caller excluded itself, in its request and in the answer', async () => {
    const client = excludedPrefixesClient();
    const { next, excludedSeen } = fakeEndpoint(true);
    const ctx = ChainContext.background();
    await client.request(request('a'), ctx, next);
    const sent = request('b', ['192.168.0.0/16']);
    const second = await client.request(sent, ctx, next);
    expect(excludedSeen[1]).to.include('192.168.0.0/16');
    expect(sent.connection?.context?.ipContext?.excludedPrefixes).to.deep.equal(['192.168.0.0/16']);
    expect(second.context?.ipContext?.excludedPrefixes).to.deep.equal(['192.168.0.0/16']);
  });

  it('does not exclude a connection’s own addresses when it refreshes', async () => {
    const client = excludedPrefixesClient();
    const { next, excludedSeen } = fakeEndpoint(true);
    const ctx = ChainContext.background();
    const first = await client.request(request('a'), ctx, next);
    const refreshed = await client.request(NetworkServiceRequest.fromPartial({ connection: first }), ctx, next);
    expect(excludedSeen[1]).to.deep.equal([]);
    expect(refreshed.context?.ipContext?.srcIpAddrs).to.deep.equal(['10.0.0.1/32']);
    expect(client.size).to.equal(1);
  });

  it('closes and refuses an answer that overlaps another connection', async () => {
    const client = excludedPrefixesClient();
    const { next } = fakeEndpoint(false);
    const ctx = ChainContext.background();
    await client.request(request('a'), ctx, next);
    const error = await statusRejection(client.request(request('b'), ctx, next));
    expect(error.code).to.equal(status.FAILED_PRECONDITION);
    expect(error.message).to.contain('10.0.0.1/32').and.contain('connection a');
    expect(next.closes.map((c) => c.connection.id)).to.deep.equal(['b']);
    expect(client.size).to.equal(1);
  });

  it('still refuses when closing the clashing connection fails', async () => {
    const client = excludedPrefixesClient();
    const { next } = fakeEndpoint(false);
    const ctx = ChainContext.background();
    await client.request(request('a'), ctx, next);
    next.onClose = () => Promise.reject(new Error('endpoint gone'));
    const error = await statusRejection(client.request(request('b'), ctx, next));
    expect(error.code).to.equal(status.FAILED_PRECONDITION);
  });

  it('forgets a closed connection, also when Close fails, so its addresses may be reused', async () => {
    const client = excludedPrefixesClient();
    const { next, excludedSeen } = fakeEndpoint(true);
    const ctx = ChainContext.background();
    const first = await client.request(request('a'), ctx, next);
    next.onClose = () => Promise.reject(new Error('endpoint gone'));
    let failed = false;
    await client.close(first, ctx, next).catch(() => {
      failed = true;
    });
    expect(failed).to.equal(true);
    expect(client.size).to.equal(0);
    await client.request(request('b'), ctx, next);
    expect(excludedSeen[1]).to.deep.equal([]);
  });

  it('remembers nothing when the request fails, and gives the caller its exclusions back', async () => {
    const client = excludedPrefixesClient();
    const { next } = fakeEndpoint(true);
    const ctx = ChainContext.background();
    await client.request(request('a'), ctx, next);
    next.onRequest = () => Promise.reject(new Error('no endpoint'));
    const sent = request('b');
    await client.request(sent, ctx, next).catch(() => undefined);
    expect(client.size).to.equal(1);
    expect(sent.connection?.context?.ipContext?.excludedPrefixes).to.deep.equal([]);
  });
});
