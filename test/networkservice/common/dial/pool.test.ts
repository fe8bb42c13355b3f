/**
 * `dial` with a {@link ChannelPool}: connections to one peer share one channel, counted as real TCP
 * connections in the kernel's table; leases come back on Close and on failure; an idle channel is closed
 * after its idle time; a peer that restarted on the same address is reached at once.
 */
import { expect } from 'chai';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import type { Connection } from '../../../../src/api/gen/connection.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import type { NetworkServiceElement } from '../../../../src/networkservice/core/types.js';
import { metadataClient } from '../../../../src/networkservice/common/metadata/index.js';
import { withClientURL } from '../../../../src/networkservice/common/clienturl/index.js';
import { loadChannel } from '../../../../src/networkservice/common/clientconn/index.js';
import { ChannelPool, dialClient } from '../../../../src/networkservice/common/dial/index.js';
import { connectClient } from '../../../../src/networkservice/common/connect/index.js';
import type { GrpcServer } from '../../../../src/tools/grpc/server.js';
import { status } from '../../../../src/tools/grpc/status.js';
import { eventually } from '../../../helpers/eventually.js';
import { RecordingEndpoint, serveElement } from '../../../helpers/servers.js';
import { acceptedOn, portOf } from '../../../helpers/sockets.js';

/** Routes every call to `url`. */
function to(url: () => string): NetworkServiceElement {
  return {
    name: 'route',
    request: (req, ctx, next) => next.request(req, withClientURL(ctx, url())),
    close: (conn, ctx, next) => next.close(conn, withClientURL(ctx, url())),
  };
}

/** Fails every request after the channel was taken, as a refusing next hop would. */
class Failing implements NetworkServiceElement {
  readonly name = 'failing';
  fail = false;
  request: NetworkServiceElement['request'] = (req, ctx, next) => {
    if (this.fail) return Promise.reject(new Error(`refused (channel held: ${loadChannel(ctx) !== undefined})`));
    return next.request(req, ctx);
  };
  close: NetworkServiceElement['close'] = (conn, ctx, next) => next.close(conn, ctx);
}

const request = (id: string): NetworkServiceRequest =>
  NetworkServiceRequest.fromPartial({ connection: { id, networkService: 'ns', path: { pathSegments: [{ name: 'nsc', id }] } } });

describe('dial: channels shared per peer', function () {
  this.timeout(20_000);
  let server: GrpcServer | undefined;
  afterEach(async () => server?.stop());

  it('100 connections to one peer use one TCP connection; all leases come back on Close', async () => {
    const endpoint = new RecordingEndpoint('nse');
    server = await serveElement('tcp://127.0.0.1:0', endpoint);
    const url = server.url;
    const pool = new ChannelPool({ idleTimeoutMs: 0 });
    const client = chain(to(() => url), metadataClient(), dialClient({ pool }), connectClient());
    const ctx = ChainContext.background();
    const conns: Connection[] = await Promise.all(Array.from({ length: 100 }, (_, i) => client.request(request(`c-${i}`), ctx)));
    expect(endpoint.requests).to.have.length(100);
    expect(acceptedOn(portOf(url)), 'sockets accepted by the peer').to.equal(1);
    expect(pool.size).to.equal(1);
    expect(pool.leases).to.equal(100);
    await Promise.all(conns.map((conn) => client.close(conn, ctx)));
    expect(pool.leases).to.equal(0);
    expect(pool.size, 'the last Close closes the channel (no idle time)').to.equal(0);
    await eventually(() => acceptedOn(portOf(url)) === 0);
  });

  it('keeps an idle channel for its idle time, so Close then Request reuses it; then closes it', async () => {
    server = await serveElement('tcp://127.0.0.1:0', new RecordingEndpoint('nse'));
    const url = server.url;
    const pool = new ChannelPool({ idleTimeoutMs: 300 });
    const client = chain(to(() => url), metadataClient(), dialClient({ pool }), connectClient());
    const ctx = ChainContext.background();
    for (let i = 0; i < 5; i++) await client.close(await client.request(request(`seq-${i}`), ctx), ctx);
    expect(acceptedOn(portOf(url)), 'one socket for five Request+Close pairs').to.equal(1);
    expect(pool.size).to.equal(1);
    await eventually(() => pool.size === 0, 3000);
    await eventually(() => acceptedOn(portOf(url)) === 0);
  });

  it('a failed request gives its lease back; a refused dial holds nothing', async () => {
    server = await serveElement('tcp://127.0.0.1:0', new RecordingEndpoint('nse'));
    const url = server.url;
    const pool = new ChannelPool({ idleTimeoutMs: 0 });
    const failing = new Failing();
    const client = chain(to(() => url), metadataClient(), dialClient({ pool }), failing, connectClient());
    const ctx = ChainContext.background();
    const held = await client.request(request('held'), ctx);
    failing.fail = true;
    const error = (await client.request(request('fails'), ctx).catch((e: unknown) => e)) as Error;
    expect(error.message).to.include('channel held: true');
    expect(pool.leases).to.equal(1);
    failing.fail = false;
    await client.close(held, ctx);
    expect(pool.leases).to.equal(0);

    const port = portOf(url);
    await server.stop();
    server = undefined;
    const refused = (await client.request(request('refused'), ctx).catch((e: unknown) => e)) as { code: number; message: string };
    expect(refused.code).to.equal(status.UNAVAILABLE);
    expect(refused.message).to.include(`dial tcp://127.0.0.1:${port}: connection refused`);
    expect(pool.leases).to.equal(0);
    expect(pool.size).to.equal(0);
  });

  it('a peer restarted on the same address is reached at once by a new dial, not after the reconnect backoff', async () => {
    server = await serveElement('tcp://127.0.0.1:0', new RecordingEndpoint('first'));
    const url = server.url;
    const pool = new ChannelPool();
    const client = chain(to(() => url), metadataClient(), dialClient({ pool, dialTimeoutMs: 200 }), connectClient());
    const ctx = ChainContext.background();
    const old = await client.request(request('old'), ctx);
    await server.kill();
    // The held channel notices and backs off; with the peer still down a new dial is refused.
    const refused = (await client.request(request('while-down'), ctx).catch((e: unknown) => e)) as { code: number };
    expect(refused.code).to.equal(status.UNAVAILABLE);
    server = await serveElement(url, new RecordingEndpoint('second'));
    const fresh = await client.request(request('after'), ctx);
    expect(fresh.networkServiceEndpointName).to.equal('second');
    await client.close(fresh, ctx);
    await client.close(old, ctx).catch(() => undefined);
    expect(pool.leases).to.equal(0);
    pool.closeAll();
    expect(pool.size).to.equal(0);
  });
});
