import { expect } from 'chai';
import { Metadata } from '@grpc/grpc-js';
import { Connection } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { updateTokenClient } from '../../../../src/networkservice/common/updatetoken/index.js';
import { FakeClock } from '../../../../src/tools/clock/index.js';
import { OUTGOING_METADATA } from '../../../../src/tools/grpc/keys.js';
import { NsmStatusError, status } from '../../../../src/tools/grpc/status.js';
import {
  createTestTokenGenerator,
  readTokenMetadata,
  TEST_TOKEN_SUBJECT,
  type TokenGenerator,
  decodeJwt,
} from '../../../../src/tools/token/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

const HOUR = 60 * 60 * 1000;

function ownHop(): Connection {
  return Connection.fromPartial({
    id: 'c1',
    networkService: 'ns',
    path: { index: 1, pathSegments: [{ name: 'nsmgr', id: 'c0', token: 'theirs' }, { name: 'forwarder', id: 'c1' }] },
  });
}

/** A generator that makes a different token each time, so tests can tell calls apart. */
class Counting {
  calls = 0;
  constructor(private readonly clock: FakeClock) {}
  readonly generator: TokenGenerator = async () => ({
    token: `token-${++this.calls}`,
    expires: new Date(this.clock.now() + HOUR),
  });
}

describe('updatetoken client', () => {
  it('signs the current segment and sends the same token in the outgoing metadata', async () => {
    const clock = new FakeClock();
    const ctx = ChainContext.background({ clock });
    const next = new FakeNext();
    await updateTokenClient(createTestTokenGenerator(HOUR, clock)).request(
      NetworkServiceRequest.fromPartial({ connection: ownHop() }),
      ctx,
      next,
    );

    const seen = next.requests[0];
    const [theirs, own] = seen?.request.connection?.path?.pathSegments ?? [];
    expect(theirs?.token).to.equal('theirs');
    expect(decodeJwt(own?.token ?? '').claims.sub).to.equal(TEST_TOKEN_SUBJECT);
    expect(own?.expires).to.deep.equal({ seconds: (clock.now() + HOUR) / 1000, nanos: 0 });

    const md = seen?.ctx.value(OUTGOING_METADATA);
    expect(md).to.be.instanceOf(Metadata);
    const sent = readTokenMetadata(md ?? new Metadata());
    expect(sent?.token).to.equal(own?.token);
    expect(sent?.expires.getTime()).to.equal(clock.now() + HOUR);
    // The caller's context is not changed: the metadata belongs to this call only.
    expect(ctx.value(OUTGOING_METADATA)).to.equal(undefined);
  });

  it('writes into outgoing metadata that is already in the context, keeping its other entries', async () => {
    const clock = new FakeClock();
    const { generator } = new Counting(clock);
    const md = new Metadata();
    md.set('x-trace', 'abc');
    md.set('nsm-client-token', 'older');
    const ctx = ChainContext.background({ clock }).withValue(OUTGOING_METADATA, md);
    const next = new FakeNext();
    await updateTokenClient(generator).request(NetworkServiceRequest.fromPartial({ connection: ownHop() }), ctx, next);
    expect(next.requests[0]?.ctx.value(OUTGOING_METADATA)).to.equal(md);
    expect(md.get('x-trace')).to.deep.equal(['abc']);
    expect(md.get('nsm-client-token')).to.deep.equal(['token-1']);
  });

  it('does the same on Close, with a fresh token', async () => {
    const clock = new FakeClock();
    const gen = new Counting(clock);
    const client = updateTokenClient(gen.generator);
    const next = new FakeNext();
    const ctx = ChainContext.background({ clock });
    await client.request(NetworkServiceRequest.fromPartial({ connection: ownHop() }), ctx, next);
    clock.advance(1000);
    await client.close(ownHop(), ctx, next);

    const closed = next.closes[0];
    expect(closed?.connection.path?.pathSegments[1]?.token).to.equal('token-2');
    expect(closed?.connection.path?.pathSegments[1]?.expires?.seconds).to.equal((clock.now() + HOUR) / 1000);
    expect(readTokenMetadata(closed?.ctx.value(OUTGOING_METADATA) ?? new Metadata())?.token).to.equal('token-2');
    expect(gen.calls).to.equal(2);
  });

  it('stops the chain when the generator fails', async () => {
    const next = new FakeNext();
    const ctx = ChainContext.background();
    const client = updateTokenClient(() => Promise.reject(new Error('key store locked')));
    for (const call of [
      () => client.request(NetworkServiceRequest.fromPartial({ connection: ownHop() }), ctx, next),
      () => client.close(ownHop(), ctx, next),
    ]) {
      let failure: unknown;
      await call().catch((error: unknown) => (failure = error));
      expect(failure).to.be.instanceOf(NsmStatusError);
      expect((failure as NsmStatusError).code).to.equal(status.INTERNAL);
      expect((failure as NsmStatusError).message).to.equal('failed to generate a token: key store locked');
    }
    expect(next.requests).to.have.length(0);
    expect(next.closes).to.have.length(0);
  });

  it('rejects a connection with no path to sign', async () => {
    const next = new FakeNext();
    let failure: unknown;
    await updateTokenClient(createTestTokenGenerator())
      .request(NetworkServiceRequest.fromPartial({ connection: { id: 'x' } }), ChainContext.background(), next)
      .catch((error: unknown) => (failure = error));
    expect((failure as NsmStatusError).code).to.equal(status.INVALID_ARGUMENT);
    expect((failure as NsmStatusError).message).to.match(/out of range \(0 path segments\).*updatepath/);
    expect(next.requests).to.have.length(0);
  });
});
