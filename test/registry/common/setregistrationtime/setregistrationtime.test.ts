import { expect } from 'chai';
import type { NetworkServiceEndpoint, NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { millisFromTimestamp } from '../../../../src/api/path.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { registryChain } from '../../../../src/registry/core/chain.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import { registryMetadataServer } from '../../../../src/registry/common/metadata/index.js';
import { setRegistrationTimeServer } from '../../../../src/registry/common/setregistrationtime/index.js';
import { FakeClock } from '../../../../src/tools/clock/index.js';
import { FakeRegistryNext, nse } from '../../helpers/fake-registry.js';

describe('registry setregistrationtime', function () {
  it('stamps the first registration and keeps that stamp on refresh', async function () {
    const clock = new FakeClock(Date.UTC(2026, 5, 1));
    const ctx = ChainContext.background({ clock });
    const chain = registryChain<NetworkServiceEndpoint, NetworkServiceEndpointQuery>(registryMetadataServer(NSE_KIND), setRegistrationTimeServer());
    const next = new FakeRegistryNext();
    const first = await chain.register(nse('a'), ctx, next);
    expect(millisFromTimestamp(first.initialRegistrationTime ?? { seconds: 0, nanos: 0 })).to.equal(clock.now());
    const stamp = clock.now();
    clock.advance(30_000);
    const again = await chain.register(nse('a'), ctx, next);
    expect(millisFromTimestamp(again.initialRegistrationTime ?? { seconds: 0, nanos: 0 })).to.equal(stamp);
    const other = await chain.register(nse('b'), ctx, next);
    expect(millisFromTimestamp(other.initialRegistrationTime ?? { seconds: 0, nanos: 0 })).to.equal(clock.now());
  });
});
