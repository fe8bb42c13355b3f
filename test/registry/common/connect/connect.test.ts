import { expect } from 'chai';
import { firstValueFrom, toArray } from 'rxjs';
import { NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { registryChain } from '../../../../src/registry/core/chain.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import type { NSERegistryElement, NSERegistryHandler } from '../../../../src/registry/core/types.js';
import { connectRegistryClient, connectRegistryServer } from '../../../../src/registry/common/connect/index.js';
import { memoryServer } from '../../../../src/registry/common/memory/index.js';
import { status } from '../../../../src/tools/grpc/status.js';
import { statusRejection } from '../../../helpers/status.js';

type NSE = NetworkServiceEndpoint;
type Q = NetworkServiceEndpointQuery;
const ctx = ChainContext.background();

describe('registry connect', function () {
  it('client: without a channel from dial, fails with FAILED_PRECONDITION', async function () {
    const error = await statusRejection(connectRegistryClient(NSE_KIND).register(NetworkServiceEndpoint.create({ name: 'a' }), ctx));
    expect(error.code).to.equal(status.FAILED_PRECONDITION);
    expect(error.details).to.match(/dial/);
  });

  it('server: hands every call to its client chain and never to next', async function () {
    const upstream = memoryServer(NSE_KIND);
    const server: NSERegistryElement = connectRegistryServer<NSE, Q>(registryChain<NSE, Q>(upstream));
    let nextCalls = 0;
    const next: NSERegistryHandler = {
      register: (i) => {
        nextCalls++;
        return Promise.resolve(i);
      },
      find: () => {
        nextCalls++;
        throw new Error('next must not be called');
      },
      unregister: () => {
        nextCalls++;
        return Promise.resolve();
      },
    };
    await server.register(NetworkServiceEndpoint.create({ name: 'a', url: 'tcp://127.0.0.1:1' }), ctx, next);
    expect(await upstream.store.list()).to.have.length(1);
    const found = await firstValueFrom(server.find({ networkServiceEndpoint: undefined, watch: false }, ctx, next).pipe(toArray()));
    expect(found.map((r) => r.item.name)).to.deep.equal(['a']);
    await server.unregister(NetworkServiceEndpoint.create({ name: 'a' }), ctx, next);
    expect(await upstream.store.list()).to.have.length(0);
    expect(nextCalls).to.equal(0);
  });
});
