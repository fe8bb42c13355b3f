import { expect } from 'chai';
import { firstValueFrom, of } from 'rxjs';
import { NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { nullRegistry } from '../../../../src/registry/common/null/index.js';
import type { NSERegistryHandler } from '../../../../src/registry/core/types.js';

describe('registry null', function () {
  it('passes every call on unchanged, with the same context', async function () {
    const ctx = ChainContext.background();
    const seen: unknown[] = [];
    const next: NSERegistryHandler = {
      register: (item, c) => {
        seen.push(item, c);
        return Promise.resolve({ ...item, url: 'from-next' });
      },
      find: (query, c) => {
        seen.push(query, c);
        return of({ item: NetworkServiceEndpoint.create({ name: 'f' }), deleted: true });
      },
      unregister: (item, c) => {
        seen.push(item, c);
        return Promise.resolve();
      },
    };
    const element = nullRegistry<NetworkServiceEndpoint, NetworkServiceEndpointQuery>();
    const item = NetworkServiceEndpoint.create({ name: 'n' });
    const query = { networkServiceEndpoint: item, watch: false };
    expect((await element.register(item, ctx, next)).url).to.equal('from-next');
    expect((await firstValueFrom(element.find(query, ctx, next))).deleted).to.equal(true);
    await element.unregister(item, ctx, next);
    expect(seen).to.deep.equal([item, ctx, query, ctx, item, ctx]);
  });
});
