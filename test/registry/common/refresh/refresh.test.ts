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
});
