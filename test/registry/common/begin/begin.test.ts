import { expect } from 'chai';
import type { NetworkServiceEndpoint, NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { timestampFromMillis } from '../../../../src/api/path.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { registryChain } from '../../../../src/registry/core/chain.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import type { NSERegistryElement } from '../../../../src/registry/core/types.js';
import {
  beginRegistryClient,
  beginRegistryServer,
  registryEventFactoryFrom,
  type RegistryEventFactory,
} from '../../../../src/registry/common/begin/index.js';
import { status } from '../../../../src/tools/grpc/status.js';
import { statusRejection } from '../../../helpers/status.js';
import { FakeRegistryNext, nse } from '../../helpers/fake-registry.js';

type NSE = NetworkServiceEndpoint;
type Q = NetworkServiceEndpointQuery;
const ctx = ChainContext.background();

/** Captures the event factory that begin puts in the context. */
function capture(into: { factory?: RegistryEventFactory<NSE> | undefined }): NSERegistryElement {
  return {
    name: 'capture',
    register: (item, c, next) => {
      into.factory = registryEventFactoryFrom<NSE>(c);
      return next.register(item, c);
    },
    find: (q, c, next) => next.find(q, c),
    unregister: (item, c, next) => next.unregister(item, c),
  };
}

describe('registry begin', function () {
  it('runs events of one name one at a time, and of different names side by side', async function () {
    const begin = beginRegistryServer<NSE, Q>(NSE_KIND);
    const next = new FakeRegistryNext();
    let release!: () => void;
    next.hold = new Promise((r) => (release = r));
    const first = begin.register(nse('a'), ctx, next);
    const second = begin.register(nse('a', { url: 'tcp://127.0.0.1:2' }), ctx, next);
    const other = begin.register(nse('b'), ctx, next);
    await new Promise((r) => setTimeout(r, 10));
    expect(next.registered.map((n) => n.name)).to.deep.equal(['a', 'b']);
    release();
    await Promise.all([first, second, other]);
    expect(next.registered.map((n) => n.name)).to.deep.equal(['a', 'b', 'a']);
  });

  it('a failed first register leaves nothing; an empty name is refused', async function () {
    const begin = beginRegistryServer<NSE, Q>(NSE_KIND);
    const next = new FakeRegistryNext();
    next.failures = 1;
    await begin.register(nse('a'), ctx, next).catch(() => undefined);
    expect(begin.size).to.equal(0);
    const error = await statusRejection(begin.register(nse(''), ctx, next));
    expect(error.code).to.equal(status.INVALID_ARGUMENT);
  });

  it('the event factory re-registers through next only, and stops after unregister', async function () {
    const holder: { factory?: RegistryEventFactory<NSE> | undefined } = {};
    const before = new FakeRegistryNext();
    const begin = beginRegistryServer<NSE, Q>(NSE_KIND);
    const next = new FakeRegistryNext();
    const chain = registryChain<NSE, Q>(begin, capture(holder));
    await chain.register(nse('a'), ctx, next);
    const again = await holder.factory?.register();
    expect(again?.name).to.equal('a');
    expect(next.registered).to.have.length(2);
    expect(before.registered).to.have.length(0);
    await chain.unregister(nse('a'), ctx, next);
    expect(begin.size).to.equal(0);
    expect(await holder.factory?.register()).to.equal(undefined);
    expect(next.registered).to.have.length(2);
  });

  it('factory.unregister unregisters once and forgets; an aborted signal makes an event do nothing', async function () {
    const holder: { factory?: RegistryEventFactory<NSE> | undefined } = {};
    const begin = beginRegistryServer<NSE, Q>(NSE_KIND);
    const next = new FakeRegistryNext();
    const chain = registryChain<NSE, Q>(begin, capture(holder));
    await chain.register(nse('a'), ctx, next);
    const aborted = new AbortController();
    aborted.abort();
    expect(await holder.factory?.register({ signal: aborted.signal })).to.equal(undefined);
    expect(next.registered).to.have.length(1);
    await holder.factory?.unregister();
    await holder.factory?.unregister();
    expect(next.unregistered).to.have.length(1);
    expect(begin.size).to.equal(0);
  });

  it('unregister with just a name sends the stored registration', async function () {
    const begin = beginRegistryServer<NSE, Q>(NSE_KIND);
    const next = new FakeRegistryNext();
    await begin.register(nse('a', { url: 'tcp://127.0.0.1:9' }), ctx, next);
    await begin.unregister(nse('a', { url: '' }), ctx, next);
    expect(next.unregistered[0]?.url).to.equal('tcp://127.0.0.1:9');
  });

  it('the client side keeps no expiration time for later events; the server side does', async function () {
    for (const [begin, kept] of [
      [beginRegistryClient<NSE, Q>(NSE_KIND), false],
      [beginRegistryServer<NSE, Q>(NSE_KIND), true],
    ] as const) {
      const holder: { factory?: RegistryEventFactory<NSE> | undefined } = {};
      const next = new FakeRegistryNext();
      next.answer = (item) => ({ ...item, expirationTime: timestampFromMillis(Date.now() + 60_000) });
      const chain = registryChain<NSE, Q>(begin, capture(holder), {
        name: 'strip',
        register: (item, c, n) => n.register(item, c),
        find: (q, c, n) => n.find(q, c),
        unregister: (item, c, n) => n.unregister(item, c),
      });
      await chain.register(nse('a'), ctx, next);
      await holder.factory?.register();
      expect(next.registered[1]?.expirationTime !== undefined, begin.name).to.equal(kept);
    }
  });
});
