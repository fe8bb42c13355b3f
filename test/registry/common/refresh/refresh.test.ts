import { expect } from 'chai';
import type { NetworkServiceEndpoint, NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { timestampFromMillis } from '../../../../src/api/path.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { registryChain } from '../../../../src/registry/core/chain.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import { beginRegistryClient } from '../../../../src/registry/common/begin/index.js';
import { registryMetadataClient } from '../../../../src/registry/common/metadata/index.js';
import { refreshRegistryClient } from '../../../../src/registry/common/refresh/index.js';
import { FakeClock } from '../../../../src/tools/clock/index.js';
import { FakeRegistryNext, nse, until } from '../../helpers/fake-registry.js';

describe('registry refresh', function () {
  it('registers again at 2/3 of the granted lifetime, not before; unregister stops it', async function () {
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const ctx = ChainContext.background({ clock });
    const chain = registryChain<NetworkServiceEndpoint, NetworkServiceEndpointQuery>(
      beginRegistryClient(NSE_KIND),
      registryMetadataClient(NSE_KIND),
      refreshRegistryClient(),
    );
    const next = new FakeRegistryNext();
    next.answer = (item) => ({ ...item, expirationTime: timestampFromMillis(clock.now() + 3000) });
    await chain.register(nse('a'), ctx, next);
    clock.advance(1900);
    await new Promise((r) => setTimeout(r, 10));
    expect(next.registered).to.have.length(1);
    clock.advance(100);
    await until(() => next.registered.length === 2);
    expect(clock.pending).to.equal(1); // the next refresh is scheduled
    await chain.unregister(nse('a'), ctx, next);
    expect(clock.pending).to.equal(0);
    clock.advance(10_000);
    await new Promise((r) => setTimeout(r, 10));
    expect(next.registered).to.have.length(2);
  });

  it('aborting the lifetime signal cancels every pending refresh', async function () {
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const ctx = ChainContext.background({ clock });
    const lifetime = new AbortController();
    const refresh = refreshRegistryClient({ signal: lifetime.signal });
    const begin = beginRegistryClient<NetworkServiceEndpoint, NetworkServiceEndpointQuery>(NSE_KIND, lifetime.signal);
    const chain = registryChain<NetworkServiceEndpoint, NetworkServiceEndpointQuery>(begin, registryMetadataClient(NSE_KIND), refresh);
    const next = new FakeRegistryNext();
    next.answer = (item) => ({ ...item, expirationTime: timestampFromMillis(clock.now() + 3000) });
    await chain.register(nse('a'), ctx, next);
    await chain.register(nse('b'), ctx, next);
    expect(refresh.size).to.equal(2);
    expect(begin.size).to.equal(2);
    lifetime.abort();
    expect(refresh.size).to.equal(0);
    expect(clock.pending).to.equal(0);
    expect(begin.size).to.equal(0); // begin forgot them: nothing can re-register them later
    clock.advance(10_000);
    await new Promise((r) => setTimeout(r, 10));
    expect(next.registered).to.have.length(2);
    expect(next.unregistered).to.have.length(0);
  });
});
