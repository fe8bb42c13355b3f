import { expect } from 'chai';
import { connectivityState } from '@grpc/grpc-js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import type { NetworkServiceElement } from '../../../../src/networkservice/core/types.js';
import { metadataClient } from '../../../../src/networkservice/common/metadata/index.js';
import { withClientURL } from '../../../../src/networkservice/common/clienturl/index.js';
import { loadChannel, type HeldChannel } from '../../../../src/networkservice/common/clientconn/index.js';
import { ChannelPool, dialClient } from '../../../../src/networkservice/common/dial/index.js';
import { connectClient } from '../../../../src/networkservice/common/connect/index.js';
import { status } from '../../../../src/tools/grpc/status.js';
import type { GrpcServer } from '../../../../src/tools/grpc/server.js';
import { latePeer, RecordingEndpoint, serveElement, tempSocketDir } from '../../../helpers/servers.js';

/** An element that sets the client URL from a variable, and remembers the channel used. */
class Router implements NetworkServiceElement {
  readonly name = 'router';
  url = '';
  channels: HeldChannel[] = [];
  request: NetworkServiceElement['request'] = async (req, ctx, next) => {
    const c = withClientURL(ctx, this.url);
    const conn = await next.request(req, c);
    return conn;
  };
  close: NetworkServiceElement['close'] = (conn, ctx, next) => next.close(conn, withClientURL(ctx, this.url));
}

class ChannelSpy implements NetworkServiceElement {
  readonly name = 'spy';
  readonly seen: HeldChannel[] = [];
  request: NetworkServiceElement['request'] = (req, ctx, next) => {
    const held = loadChannel(ctx);
    if (held !== undefined) this.seen.push(held);
    return next.request(req, ctx);
  };
  close: NetworkServiceElement['close'] = (conn, ctx, next) => next.close(conn, ctx);
}

describe('dial + connect', () => {
  const sockets = tempSocketDir();
  const servers: GrpcServer[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    sockets.cleanup();
  });

  const request = (): NetworkServiceRequest =>
    NetworkServiceRequest.fromPartial({ connection: { id: 'conn-1', networkService: 'ns', path: { pathSegments: [{ name: 'nsc', id: 'conn-1' }] } } });

  it('dials the URL in the context, reuses the channel on refresh, and closes it on Close (no idle time)', async () => {
    const endpoint = new RecordingEndpoint('a');
    const url = sockets.socket('a');
    servers.push(await serveElement(url, endpoint));
    const router = new Router();
    router.url = url;
    const spy = new ChannelSpy();
    const pool = new ChannelPool({ idleTimeoutMs: 0 });
    const client = chain(router, metadataClient(), dialClient({ dialTimeoutMs: 2000, pool }), spy, connectClient());
    const ctx = ChainContext.background();
    const conn = await client.request(request(), ctx);
    expect(conn.networkServiceEndpointName).to.equal('a');
    await client.request({ connection: conn, mechanismPreferences: [] }, ctx);
    expect(spy.seen).to.have.length(2);
    expect(spy.seen[0]).to.equal(spy.seen[1]);
    await client.close(conn, ctx);
    expect(endpoint.requests).to.have.length(2);
    expect(endpoint.closes).to.have.length(1);
    expect(spy.seen[0]?.client.getChannel().getConnectivityState(false)).to.equal(connectivityState.SHUTDOWN);
    expect(pool.size).to.equal(0);
  });

  it('when the URL changes, closes the old path on the old peer, then uses the new one', async () => {
    const old = new RecordingEndpoint('old');
    const fresh = new RecordingEndpoint('new');
    const oldUrl = sockets.socket('old');
    const newUrl = sockets.socket('new');
    servers.push(await serveElement(oldUrl, old), await serveElement(newUrl, fresh));
    const router = new Router();
    router.url = oldUrl;
    const client = chain(router, metadataClient(), dialClient({ dialTimeoutMs: 2000 }), connectClient());
    const ctx = ChainContext.background();
    const conn = await client.request(request(), ctx);
    router.url = newUrl;
    const moved = await client.request({ connection: conn, mechanismPreferences: [] }, ctx);
    expect(moved.networkServiceEndpointName).to.equal('new');
    expect(old.closes).to.have.length(1);
    expect(fresh.requests).to.have.length(1);
    await client.close(moved, ctx);
    expect(fresh.closes).to.have.length(1);
    expect(old.closes).to.have.length(1);
  });

  it('fails at once with UNAVAILABLE naming the URL when nothing listens, and holds no channel afterwards', async () => {
    const router = new Router();
    router.url = sockets.socket('nobody');
    const md = metadataClient();
    // A long dial timeout: a refused dial must not wait for it.
    const client = chain(router, md, dialClient({ dialTimeoutMs: 60_000 }), connectClient());
    const [ctx, cancel] = ChainContext.background().withCancel(10_000);
    const error = (await client.request(request(), ctx).catch((e: unknown) => e)) as {
      code: number;
      message: string;
    };
    cancel();
    expect(error.code).to.equal(status.UNAVAILABLE);
    expect(error.message).to.include(`dial ${router.url}: connection refused`);
    expect(md.size).to.equal(0);
  });

  it('waits for a peer that accepts but answers late, and gives up at the dial timeout on one that never answers', async () => {
    const target = sockets.socket('late-target');
    const endpoint = new RecordingEndpoint();
    const server = await serveElement(target, endpoint);
    const late = await latePeer(sockets.socket('late').slice('unix://'.length), target.slice('unix://'.length));
    const router = new Router();
    router.url = sockets.socket('late');
    const client = chain(router, metadataClient(), dialClient({ dialTimeoutMs: 5000 }), connectClient());
    setTimeout(() => late.open(), 300);
    const conn = await client.request(request(), ChainContext.background());
    expect(conn.networkServiceEndpointName).to.equal('endpoint');
    await client.close(conn, ChainContext.background());
    await late.close();

    const silent = await latePeer(sockets.socket('silent').slice('unix://'.length), target.slice('unix://'.length));
    router.url = sockets.socket('silent');
    const md = metadataClient();
    const stuck = chain(router, md, dialClient({ dialTimeoutMs: 200 }), connectClient());
    const error = (await stuck.request(request(), ChainContext.background()).catch((e: unknown) => e)) as {
      code: number;
      message: string;
    };
    expect(error.code).to.equal(status.UNAVAILABLE);
    expect(error.message).to.include(`dial ${router.url}: not ready`);
    expect(md.size).to.equal(0);
    await silent.close();
    await server.stop();
  });

  it('fails clearly without a URL or without a channel', async () => {
    const noUrl = await chain(metadataClient(), dialClient(), connectClient())
      .request(request(), ChainContext.background())
      .catch((e: unknown) => e as Error);
    expect((noUrl as Error).message).to.include('no URL to dial');
    const noChannel = await chain(metadataClient(), connectClient())
      .request(request(), ChainContext.background())
      .catch((e: unknown) => e as Error);
    expect((noChannel as Error).message).to.include('no gRPC channel');
  });
});
