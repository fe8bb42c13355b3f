import { expect } from 'chai';
import { Connection } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import {
  point2pointServer,
  PointToPointAllocator,
  parseExclusions,
} from '../../../../src/networkservice/ipam/point2point/index.js';
import { status } from '../../../../src/tools/grpc/status.js';
import { FakeNext } from '../../../helpers/fake-next.js';
import { statusRejection } from '../../../helpers/status.js';

const ctx = ChainContext.background();

function request(id: string, ip: { excluded?: string[]; src?: string[]; dst?: string[] } = {}): NetworkServiceRequest {
  return NetworkServiceRequest.fromPartial({
    connection: {
      id,
      context: {
        ipContext: { excludedPrefixes: ip.excluded ?? [], srcIpAddrs: ip.src ?? [], dstIpAddrs: ip.dst ?? [] },
      },
    },
  });
}

/** Asserts the pairs in order and that each side has exactly a host route to the other. */
function expectPairs(conn: Connection, dsts: string[], srcs: string[]): void {
  const ipc = conn.context?.ipContext;
  expect(ipc?.dstIpAddrs).to.deep.equal(dsts);
  expect(ipc?.srcIpAddrs).to.deep.equal(srcs);
  expect(ipc?.srcRoutes.map((r) => r.prefix)).to.deep.equal(dsts);
  expect(ipc?.dstRoutes.map((r) => r.prefix)).to.deep.equal(srcs);
}


describe('point2point IPAM server', () => {
  it('allocates IPv4 pairs, endpoint first, skipping network and broadcast', async () => {
    const srv = point2pointServer('172.16.0.0/24');
    const next = new FakeNext();
    expectPairs(await srv.request(request('a'), ctx, next), ['172.16.0.1/32'], ['172.16.0.2/32']);
    expectPairs(await srv.request(request('b'), ctx, next), ['172.16.0.3/32'], ['172.16.0.4/32']);
    // The request that reached next already carried the addresses.
    expect(next.requests[0]?.request.connection?.context?.ipContext?.dstIpAddrs).to.deep.equal(['172.16.0.1/32']);
  });

  it('hands out every address of a /31 and of IPv6 prefixes', async () => {
    const v4 = point2pointServer('192.168.1.2/31');
    expectPairs(await v4.request(request('a'), ctx, new FakeNext()), ['192.168.1.2/32'], ['192.168.1.3/32']);
    const v6 = point2pointServer('fd00::/120');
    const next = new FakeNext();
    expectPairs(await v6.request(request('a'), ctx, next), ['fd00::/128'], ['fd00::1/128']);
    expectPairs(await v6.request(request('b'), ctx, next), ['fd00::2/128'], ['fd00::3/128']);
  });

  it('gives one pair per family when given IPv4 and IPv6 prefixes', async () => {
    const srv = point2pointServer(['10.0.0.0/24', 'fd00::/120']);
    const next = new FakeNext();
    expectPairs(await srv.request(request('a'), ctx, next), ['10.0.0.1/32', 'fd00::/128'], ['10.0.0.2/32', 'fd00::1/128']);
    expectPairs(await srv.request(request('b'), ctx, next), ['10.0.0.3/32', 'fd00::2/128'], ['10.0.0.4/32', 'fd00::3/128']);
  });

  it('moves on to the next prefix of a family when one is full', async () => {
    const srv = point2pointServer(['10.0.0.0/31', '10.0.1.0/31']);
    const next = new FakeNext();
    expectPairs(await srv.request(request('a'), ctx, next), ['10.0.0.0/32'], ['10.0.0.1/32']);
    expectPairs(await srv.request(request('b'), ctx, next), ['10.0.1.0/32'], ['10.0.1.1/32']);
  });

  it('never allocates inside the excluded prefixes', async () => {
    const srv = point2pointServer(['192.168.1.0/24', 'fe80::1:0/112']);
    const next = new FakeNext();
    const excluded = ['192.168.1.2/32', '192.168.1.4/31', 'fe80::1:1/128', 'fe80::1:3/128', '10.0.0.0/8'];
    expectPairs(
      await srv.request(request('a', { excluded }), ctx, next),
      ['192.168.1.1/32', 'fe80::1:0/128'],
      ['192.168.1.3/32', 'fe80::1:2/128'],
    );
    expectPairs(
      await srv.request(request('b', { excluded }), ctx, next),
      ['192.168.1.6/32', 'fe80::1:4/128'],
      ['192.168.1.7/32', 'fe80::1:5/128'],
    );
    // Excluded addresses were only skipped for those requests, not lost.
    expectPairs(await srv.request(request('c'), ctx, next), ['192.168.1.2/32', 'fe80::1:1/128'], ['192.168.1.4/32', 'fe80::1:3/128']);
  });

  it('rejects an excluded prefix that does not parse, accepting bare addresses', async () => {
    const srv = point2pointServer('10.0.0.0/29');
    const err = await statusRejection(srv.request(request('a', { excluded: ['10.0.0.0/99'] }), ctx, new FakeNext()));
    expect(err.code).to.equal(status.INVALID_ARGUMENT);
    expect(err.message).to.contain('10.0.0.0/99');
    expect(srv.size).to.equal(0);
    const conn = await srv.request(request('a', { excluded: ['10.0.0.1'] }), ctx, new FakeNext());
    expectPairs(conn, ['10.0.0.2/32'], ['10.0.0.3/32']);
  });

  it('keeps the same addresses on refresh, without duplicating them', async () => {
    const srv = point2pointServer(['172.16.0.0/24', 'fd00::/120']);
    const next = new FakeNext();
    const first = await srv.request(request('a'), ctx, next);
    await srv.request(request('b'), ctx, next);
    const refreshed = await srv.request(NetworkServiceRequest.fromPartial({ connection: first }), ctx, next);
    expectPairs(refreshed, ['172.16.0.1/32', 'fd00::/128'], ['172.16.0.2/32', 'fd00::1/128']);
    // A refresh that arrives without the context (e.g. rebuilt by a client) gets the same addresses too.
    expectPairs(await srv.request(request('a'), ctx, next), ['172.16.0.1/32', 'fd00::/128'], ['172.16.0.2/32', 'fd00::1/128']);
    expect(srv.size).to.equal(2);
  });

  it('re-allocates on refresh only the family whose addresses became excluded', async () => {
    const srv = point2pointServer(['172.16.0.0/24', 'fd00::/120']);
    const next = new FakeNext();
    const first = await srv.request(request('a'), ctx, next);
    const again = NetworkServiceRequest.fromPartial({ connection: first });
    again.connection!.context!.ipContext!.excludedPrefixes = ['172.16.0.0/30'];
    const refreshed = await srv.request(again, ctx, next);
    // Old IPv4 addresses and routes are gone, the IPv6 pair is untouched.
    expectPairs(refreshed, ['fd00::/128', '172.16.0.4/32'], ['fd00::1/128', '172.16.0.5/32']);
    // The old IPv4 pair went back to the pool.
    expectPairs(await srv.request(request('b'), ctx, next), ['172.16.0.1/32', 'fd00::2/128'], ['172.16.0.2/32', 'fd00::3/128']);
  });

  it('releases addresses on Close so the next connection gets them', async () => {
    const srv = point2pointServer('10.0.0.0/24');
    const next = new FakeNext();
    const a = await srv.request(request('a'), ctx, next);
    await srv.request(request('b'), ctx, next);
    await srv.close(a, ctx, next);
    expect(next.closes).to.have.length(1);
    expect(srv.size).to.equal(1);
    expectPairs(await srv.request(request('c'), ctx, next), ['10.0.0.1/32'], ['10.0.0.2/32']);
    expectPairs(await srv.request(request('d'), ctx, next), ['10.0.0.5/32'], ['10.0.0.6/32']);
    // Closing an unknown connection still reaches next.
    await srv.close(Connection.fromPartial({ id: 'unknown' }), ctx, next);
    expect(next.closes).to.have.length(2);
  });

  it('releases what a first request allocated when next fails, and forgets the connection', async () => {
    const srv = point2pointServer('10.0.0.0/24');
    const failing = new FakeNext();
    failing.onRequest = () => Promise.reject(new Error('endpoint down'));
    await srv.request(request('a'), ctx, failing).then(
      () => expect.fail('should have failed'),
      (e: unknown) => expect(String(e)).to.contain('endpoint down'),
    );
    expect(srv.size).to.equal(0);
    expectPairs(await srv.request(request('b'), ctx, new FakeNext()), ['10.0.0.1/32'], ['10.0.0.2/32']);
  });

  it('keeps the addresses of an established connection when a refresh fails', async () => {
    const srv = point2pointServer('10.0.0.0/24');
    const first = await srv.request(request('a'), ctx, new FakeNext());
    const failing = new FakeNext();
    failing.onRequest = () => Promise.reject(new Error('refresh failed'));
    const again = NetworkServiceRequest.fromPartial({ connection: first });
    await srv.request(again, ctx, failing).then(
      () => expect.fail('should have failed'),
      (e: unknown) => expect(String(e)).to.contain('refresh failed'),
    );
    expect(srv.size).to.equal(1);
    expectPairs(await srv.request(request('b'), ctx, new FakeNext()), ['10.0.0.3/32'], ['10.0.0.4/32']);
    expectPairs(await srv.request(request('a'), ctx, new FakeNext()), ['10.0.0.1/32'], ['10.0.0.2/32']);
  });

  it('fails with RESOURCE_EXHAUSTED naming the prefix when no pair is left', async () => {
    const srv = point2pointServer('10.0.0.0/30');
    const next = new FakeNext();
    expectPairs(await srv.request(request('a'), ctx, next), ['10.0.0.1/32'], ['10.0.0.2/32']);
    const err = await statusRejection(srv.request(request('b'), ctx, next));
    expect(err.code).to.equal(status.RESOURCE_EXHAUSTED);
    expect(err.message).to.contain('10.0.0.0/30');
    expect(next.requests).to.have.length(1);
    expect(srv.size).to.equal(1);
  });

  it('counts excluded addresses as unavailable when deciding exhaustion', async () => {
    const srv = point2pointServer('192.168.1.2/31');
    const err = await statusRejection(srv.request(request('a', { excluded: ['192.168.1.3/32'] }), ctx, new FakeNext()));
    expect(err.code).to.equal(status.RESOURCE_EXHAUSTED);
  });

  it('gives back the other family when one family is exhausted', async () => {
    const srv = point2pointServer(['10.0.0.0/24', 'fd00::/127']);
    const next = new FakeNext();
    const err = await statusRejection(srv.request(request('a', { excluded: ['fd00::1/128'] }), ctx, next));
    expect(err.code).to.equal(status.RESOURCE_EXHAUSTED);
    expect(err.message).to.contain('fd00::/127');
    expect(next.requests).to.have.length(0);
    // The IPv4 pair taken before IPv6 failed is free again.
    expectPairs(await srv.request(request('b'), ctx, next), ['10.0.0.1/32', 'fd00::/128'], ['10.0.0.2/32', 'fd00::1/128']);
  });

  it('recovers addresses a request carries when they are free, and drops stale ones it cannot honour', async () => {
    const srv = point2pointServer('172.16.0.0/24');
    const next = new FakeNext();
    const carried = { dst: ['172.16.0.10/32'], src: ['172.16.0.11/32'] };
    expectPairs(await srv.request(request('a', carried), ctx, next), ['172.16.0.10/32'], ['172.16.0.11/32']);
    // Another connection carrying the same (now taken) addresses gets new ones, and not the taken ones.
    expectPairs(await srv.request(request('b', carried), ctx, next), ['172.16.0.1/32'], ['172.16.0.2/32']);
    // Addresses outside our prefixes are someone else's and stay.
    const foreign = await srv.request(request('c', { dst: ['10.1.0.1/32'], src: ['10.1.0.2/32'] }), ctx, next);
    expect(foreign.context?.ipContext?.dstIpAddrs).to.deep.equal(['10.1.0.1/32', '172.16.0.3/32']);
    expect(foreign.context?.ipContext?.srcIpAddrs).to.deep.equal(['10.1.0.2/32', '172.16.0.4/32']);
  });

  it('rejects a request without a connection or connection id', async () => {
    const srv = point2pointServer('10.0.0.0/24');
    const none = await statusRejection(srv.request(NetworkServiceRequest.create(), ctx, new FakeNext()));
    expect(none.code).to.equal(status.INVALID_ARGUMENT);
    const noId = await statusRejection(srv.request(request(''), ctx, new FakeNext()));
    expect(noId.code).to.equal(status.INVALID_ARGUMENT);
  });

  it('throws a clear Error at construction for bad prefixes', () => {
    expect(() => point2pointServer('10.0.0.0/33')).to.throw(Error, '"10.0.0.0/33"');
    expect(() => point2pointServer('not-a-cidr')).to.throw(Error, 'invalid CIDR');
    expect(() => point2pointServer('10.0.0.1')).to.throw(Error, 'invalid CIDR');
    expect(() => point2pointServer([])).to.throw(Error, 'at least one');
    expect(() => point2pointServer(['10.0.0.0/24', '10.0.0.128/25'])).to.throw(Error, 'overlap');
    expect(() => point2pointServer('10.0.0.1/32')).to.throw(Error, 'fewer than the two');
    expect(() => point2pointServer('10.0.0.0/24', { reserved: ['nope'] })).to.throw(Error, 'nope');
  });

  it('never hands out reserved addresses', async () => {
    const srv = point2pointServer('10.0.0.0/24', { reserved: ['10.0.0.1', '10.0.0.2/31'] });
    expectPairs(await srv.request(request('a'), ctx, new FakeNext()), ['10.0.0.4/32'], ['10.0.0.5/32']);
  });
});

describe('point2point allocator', () => {
  it('allocates, validates against exclusions and releases pairs', () => {
    const allocator = new PointToPointAllocator(['10.0.0.0/29', 'fd00::/126']);
    expect(allocator.families).to.deep.equal([4, 6]);
    const none = parseExclusions([]);
    const pair = allocator.allocate(4, none);
    expect([pair.dstCIDR, pair.srcCIDR]).to.deep.equal(['10.0.0.1/32', '10.0.0.2/32']);
    expect(allocator.free(0)).to.equal(4n);
    expect(allocator.isValid(pair, parseExclusions(['10.0.0.2/32']))).to.equal(false);
    expect(allocator.isValid(pair, parseExclusions(['fd00::/64', '10.0.0.3/32']))).to.equal(true);
    allocator.release(pair);
    expect(allocator.free(0)).to.equal(6n);
    expect(allocator.owns('10.0.0.7/32')).to.equal(true);
    expect(allocator.owns('10.0.0.8')).to.equal(false);
    expect(allocator.owns('fd00::3/64')).to.equal(true);
    expect(allocator.owns('garbage')).to.equal(false);
  });

  it('recovers only free, non-excluded pairs from one prefix', () => {
    const allocator = new PointToPointAllocator(['10.0.0.0/24']);
    const none = parseExclusions([]);
    expect(allocator.recover(4, ['10.0.0.9/32'], [], none)).to.equal(undefined);
    expect(allocator.recover(4, ['10.0.0.9/32'], ['10.0.0.8/32'], parseExclusions(['10.0.0.8']))).to.equal(undefined);
    const pair = allocator.recover(4, ['10.9.9.9/32', '10.0.0.9/32'], ['10.0.0.8/32'], none);
    expect(pair && [pair.dstCIDR, pair.srcCIDR]).to.deep.equal(['10.0.0.8/32', '10.0.0.9/32']);
    expect(allocator.recover(4, ['10.0.0.9/32'], ['10.0.0.8/32'], none)).to.equal(undefined);
    expect(allocator.free(0)).to.equal(252n);
  });

  it('strict mode drops addresses and host routes from outside its pool; the default keeps them', async () => {
    const moved = (): NetworkServiceRequest => {
      const r = request('m', { src: ['172.16.9.2/32', '10.1.0.7/32'], dst: ['172.16.9.1/32'] });
      r.connection!.context!.ipContext!.srcRoutes.push({ prefix: '172.16.9.1/32', nextHop: '' }, { prefix: '10.0.0.0/8', nextHop: '' });
      return r;
    };
    const strict = await point2pointServer('172.16.0.0/24', { strict: true }).request(moved(), ctx, new FakeNext());
    const ip = strict.context?.ipContext;
    expect(ip?.srcIpAddrs).to.deep.equal(['172.16.0.2/32']);
    expect(ip?.dstIpAddrs).to.deep.equal(['172.16.0.1/32']);
    // The stale host route goes; a route to a network the client asked for stays.
    expect(ip?.srcRoutes.map((r) => r.prefix)).to.deep.equal(['10.0.0.0/8', '172.16.0.1/32']);
    const lax = await point2pointServer('172.16.0.0/24').request(moved(), ctx, new FakeNext());
    expect(lax.context?.ipContext?.srcIpAddrs).to.include('172.16.9.2/32');
  });
});
