import { expect } from 'chai';
import type { NetworkServiceEndpoint, NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import type { ConnectionMetadata } from '../../../../src/networkservice/common/metadata/index.js';
import { registryChain } from '../../../../src/registry/core/chain.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import { registrationMetadata, registryMetadataServer } from '../../../../src/registry/common/metadata/index.js';
import { status } from '../../../../src/tools/grpc/status.js';
import { FakeRegistryNext, nse } from '../../helpers/fake-registry.js';

type NSE = NetworkServiceEndpoint;
type Q = NetworkServiceEndpointQuery;
const ctx = ChainContext.background();

describe('registry metadata', function () {
  it('keeps one metadata per name across calls, drops it on unregister and on a failed first register', async function () {
    const seen: ConnectionMetadata[] = [];
    const element = registryMetadataServer<NSE, Q>(NSE_KIND);
    const chain = registryChain<NSE, Q>(element, {
      name: 'look',
      register: (item, c, next) => {
        seen.push(registrationMetadata(c, 'server'));
        return next.register(item, c);
      },
      find: (q, c, next) => next.find(q, c),
      unregister: (item, c, next) => {
        seen.push(registrationMetadata(c, 'server'));
        return next.unregister(item, c);
      },
    });
    const next = new FakeRegistryNext();
    await chain.register(nse('a'), ctx, next);
    await chain.register(nse('a'), ctx, next);
    await chain.register(nse('b'), ctx, next);
    expect(seen[0]).to.equal(seen[1]);
    expect(seen[0]).to.not.equal(seen[2]);
    expect(element.size).to.equal(2);
    await chain.unregister(nse('a'), ctx, next);
    expect(seen[3]).to.equal(seen[0]);
    expect(element.size).to.equal(1);
    next.failures = 1;
    await chain.register(nse('c'), ctx, next).catch(() => undefined);
    expect(element.size).to.equal(1);
  });

  it('without the element, asking for metadata is FAILED_PRECONDITION', function () {
    expect(() => registrationMetadata(ctx, 'client')).to.throw().with.property('code', status.FAILED_PRECONDITION);
  });
});
