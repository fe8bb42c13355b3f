import { expect } from 'chai';
import { Metadata } from '@grpc/grpc-js';
import { Connection } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { updateTokenServer } from '../../../../src/networkservice/common/updatetoken/index.js';
import { FakeClock } from '../../../../src/tools/clock/index.js';
import { INCOMING_METADATA } from '../../../../src/tools/grpc/keys.js';
import { createLogger } from '../../../../src/tools/log/index.js';
import { statusError, status } from '../../../../src/tools/grpc/status.js';
import {
  createUnsignedTokenGenerator,
  createTestTokenGenerator,
  PEER_AUTH_INFO,
  TEST_TOKEN_SUBJECT,
  TOKEN_EXPIRES_METADATA_KEY,
  decodeJwt,
  writeTokenMetadata,
} from '../../../../src/tools/token/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';
import { statusRejection } from '../../../helpers/status.js';

const HOUR = 60 * 60 * 1000;

/** nsc (index 0) -> us (index 1), as updatepath leaves it; the nsc segment has a stale token. */
function twoHops(): Connection {
  return Connection.fromPartial({
    id: 'conn-1',
    networkService: 'ns',
    path: {
      index: 1,
      pathSegments: [
        { name: 'nsc', id: 'conn-0', token: 'stale', expires: { seconds: 1, nanos: 0 } },
        { name: 'nsmgr', id: 'conn-1' },
      ],
    },
  });
}

function setup(): { clock: FakeClock; warnings: string[]; ctx: ChainContext; next: FakeNext } {
  const clock = new FakeClock();
  const warnings: string[] = [];
  const logger = createLogger('debug', (level, line) => warnings.push(`${level} ${line}`));
  return { clock, warnings, ctx: ChainContext.background({ clock, logger }), next: new FakeNext() };
}

function callerMetadata(token: string, expires: Date): Metadata {
  const md = new Metadata();
  writeTokenMetadata(md, token, expires);
  return md;
}


describe('updatetoken server', () => {
  it("copies the caller's token from the metadata into its segment and signs its own, before next", async () => {
    const { clock, warnings, ctx, next } = setup();
    const callerExpires = new Date(clock.now() + 5 * 60 * 1000 + 250);
    const server = updateTokenServer(createTestTokenGenerator(HOUR, clock));
    const request = NetworkServiceRequest.fromPartial({ connection: twoHops() });
    let seenByNext: Connection | undefined;
    next.onRequest = async (req) => {
      seenByNext = Connection.fromPartial(req.connection ?? {});
      return Connection.fromPartial(req.connection ?? {});
    };

    const callCtx = ctx.withValue(INCOMING_METADATA, callerMetadata('caller-jwt', callerExpires));
    await server.request(request, callCtx, next);

    expect(next.requests).to.have.length(1);
    const [prev, own] = seenByNext?.path?.pathSegments ?? [];
    expect(prev?.token).to.equal('caller-jwt');
    expect(prev?.expires).to.deep.equal({ seconds: Math.floor(callerExpires.getTime() / 1000), nanos: 250_000_000 });
    expect(decodeJwt(own?.token ?? '').claims.sub).to.equal(TEST_TOKEN_SUBJECT);
    expect(own?.expires).to.deep.equal({ seconds: (clock.now() + HOUR) / 1000, nanos: 0 });
    expect(warnings).to.deep.equal([]);
  });

  it('leaves the previous segment alone and says so at debug level (not per request at the default) when the call has no token', async () => {
    for (const incoming of [undefined, new Metadata()]) {
      const { clock, warnings, ctx, next } = setup();
      const server = updateTokenServer(createTestTokenGenerator(HOUR, clock));
      const conn = twoHops();
      const callCtx = incoming === undefined ? ctx : ctx.withValue(INCOMING_METADATA, incoming);
      await server.request(NetworkServiceRequest.fromPartial({ connection: conn }), callCtx, next);
      const [prev, own] = next.requests[0]?.request.connection?.path?.pathSegments ?? [];
      expect(prev?.token).to.equal('stale');
      expect(prev?.expires).to.deep.equal({ seconds: 1, nanos: 0 });
      expect(own?.token).to.not.equal('');
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.match(incoming === undefined ? /^debug .*no incoming metadata/ : /^debug .*no token/);
    }
  });

  it('warns about, but does not fail on, a malformed caller expiry', async () => {
    const { clock, warnings, ctx, next } = setup();
    const md = callerMetadata('caller-jwt', new Date(clock.now()));
    md.set(TOKEN_EXPIRES_METADATA_KEY, 'next tuesday');
    await updateTokenServer(createTestTokenGenerator(HOUR, clock)).request(
      NetworkServiceRequest.fromPartial({ connection: twoHops() }),
      ctx.withValue(INCOMING_METADATA, md),
      next,
    );
    expect(next.requests[0]?.request.connection?.path?.pathSegments[0]?.token).to.equal('stale');
    expect(warnings.join('\n')).to.match(/^warn .*not an RFC 3339 timestamp: "next tuesday"/m);
  });

  it('on the first hop there is no previous segment to fill, and nothing to warn about', async () => {
    const { clock, warnings, ctx, next } = setup();
    const conn = Connection.fromPartial({ id: 'a', path: { index: 0, pathSegments: [{ name: 'nsc', id: 'a' }] } });
    await updateTokenServer(createTestTokenGenerator(HOUR, clock)).request(
      NetworkServiceRequest.fromPartial({ connection: conn }),
      ctx,
      next,
    );
    const segments = next.requests[0]?.request.connection?.path?.pathSegments ?? [];
    expect(segments).to.have.length(1);
    expect(decodeJwt(segments[0]?.token ?? '').claims.sub).to.equal(TEST_TOKEN_SUBJECT);
    expect(warnings).to.deep.equal([]);
  });

  it('passes the TLS peer from the context to the generator', async () => {
    const { clock, ctx, next } = setup();
    const gen = createUnsignedTokenGenerator({ subject: 'spiffe://x/nsmgr', lifetimeMs: HOUR, clock });
    await updateTokenServer(gen).request(
      NetworkServiceRequest.fromPartial({ connection: twoHops() }),
      ctx.withValue(PEER_AUTH_INFO, { spiffeId: 'spiffe://x/nsc' }),
      next,
    );
    const own = next.requests[0]?.request.connection?.path?.pathSegments[1];
    expect(decodeJwt(own?.token ?? '').claims.aud).to.deep.equal(['spiffe://x/nsc']);
  });

  it('does the same on Close', async () => {
    const { clock, ctx, next } = setup();
    const server = updateTokenServer(createTestTokenGenerator(HOUR, clock));
    const callerExpires = new Date(clock.now() + 1000);
    const callCtx = ctx.withValue(INCOMING_METADATA, callerMetadata('caller-close', callerExpires));
    await server.close(twoHops(), callCtx, next);
    expect(next.closes).to.have.length(1);
    const [prev, own] = next.closes[0]?.connection.path?.pathSegments ?? [];
    expect(prev?.token).to.equal('caller-close');
    expect(prev?.expires?.seconds).to.equal(callerExpires.getTime() / 1000);
    expect(decodeJwt(own?.token ?? '').claims.sub).to.equal(TEST_TOKEN_SUBJECT);
  });

  it('stops the chain when the generator fails, keeping its status code or using INTERNAL', async () => {
    const { ctx, next } = setup();
    const broken = updateTokenServer(() => Promise.reject(new Error('SVID not available')));
    const err = await statusRejection(broken.request(NetworkServiceRequest.fromPartial({ connection: twoHops() }), ctx, next));
    expect(err.code).to.equal(status.INTERNAL);
    expect(err.message).to.equal('failed to generate a token: SVID not available');

    const refused = updateTokenServer(() =>
      Promise.reject(statusError(status.UNAUTHENTICATED, 'peer has no SPIFFE ID')),
    );
    const err2 = await statusRejection(refused.close(twoHops(), ctx, next));
    expect(err2.code).to.equal(status.UNAUTHENTICATED);
    expect(err2.message).to.match(/peer has no SPIFFE ID/);

    expect(next.requests).to.have.length(0);
    expect(next.closes).to.have.length(0);
  });

  it('rejects a connection without a current segment with INVALID_ARGUMENT', async () => {
    const { clock, ctx, next } = setup();
    const server = updateTokenServer(createTestTokenGenerator(HOUR, clock));
    const conn = twoHops();
    if (conn.path !== undefined) conn.path.index = 2;
    const err = await statusRejection(server.request(NetworkServiceRequest.fromPartial({ connection: conn }), ctx, next));
    expect(err.code).to.equal(status.INVALID_ARGUMENT);
    expect(err.message).to.match(/index 2 is out of range \(2 path segments\)/);
    const noConn = await statusRejection(server.request(NetworkServiceRequest.create(), ctx, next));
    expect(noConn.code).to.equal(status.INVALID_ARGUMENT);
    expect(next.requests).to.have.length(0);
  });
});
