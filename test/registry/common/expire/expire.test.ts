import { expect } from 'chai';
import type { NetworkServiceEndpoint, NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { millisFromTimestamp, timestampFromMillis } from '../../../../src/api/path.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { registryChain } from '../../../../src/registry/core/chain.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import { beginRegistryServer } from '../../../../src/registry/common/begin/index.js';
import { expireServer } from '../../../../src/registry/common/expire/index.js';
import { registryMetadataServer } from '../../../../src/registry/common/metadata/index.js';
import { FakeClock } from '../../../../src/tools/clock/index.js';
import { FakeRegistryNext, nse, until } from '../../helpers/fake-registry.js';

type NSE = NetworkServiceEndpoint;
type Q = NetworkServiceEndpointQuery;

function setup() {
  const clock = new FakeClock(Date.UTC(2026, 5, 1));
  const ctx = ChainContext.background({ clock });
  const chain = registryChain<NSE, Q>(beginRegistryServer(NSE_KIND), registryMetadataServer(NSE_KIND), expireServer({ defaultLifetimeMs: 1000 }));
  return { clock, ctx, chain, next: new FakeRegistryNext() };
}

describe('registry expire', function () {
  it('sets the expiration time and unregisters once when it passes', async function () {
    const { clock, ctx, chain, next } = setup();
    const registered = await chain.register(nse('a'), ctx, next);
    expect(millisFromTimestamp(registered.expirationTime ?? { seconds: 0, nanos: 0 })).to.equal(clock.now() + 1000);
    clock.advance(999);
    expect(next.unregistered).to.have.length(0);
    clock.advance(1);
    await until(() => next.unregistered.length === 1);
    clock.advance(5000);
    await new Promise((r) => setTimeout(r, 10));
    expect(next.unregistered).to.have.length(1);
  });

  it('keeps an earlier requested expiration time', async function () {
    const { clock, ctx, chain, next } = setup();
    const registered = await chain.register(nse('a', { expirationTime: timestampFromMillis(clock.now() + 300) }), ctx, next);
    expect(millisFromTimestamp(registered.expirationTime ?? { seconds: 0, nanos: 0 })).to.equal(clock.now() + 300);
    clock.advance(300);
    await until(() => next.unregistered.length === 1);
  });

  it('a refresh moves the deadline; an unregister cancels it', async function () {
    const { clock, ctx, chain, next } = setup();
    await chain.register(nse('a'), ctx, next);
    clock.advance(600);
    await chain.register(nse('a'), ctx, next);
    clock.advance(600); // past the first deadline
    await new Promise((r) => setTimeout(r, 10));
    expect(next.unregistered).to.have.length(0);
    clock.advance(400); // the second
    await until(() => next.unregistered.length === 1);

    await chain.register(nse('b'), ctx, next);
    await chain.unregister(nse('b'), ctx, next);
    expect(clock.pending).to.equal(0);
    expect(next.unregistered).to.have.length(2);
  });
});
