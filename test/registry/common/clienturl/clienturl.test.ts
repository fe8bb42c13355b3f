import { expect } from 'chai';
import { EMPTY, firstValueFrom, toArray } from 'rxjs';
import { NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { clientURLFrom } from '../../../../src/networkservice/common/clienturl/index.js';
import { clientURLRegistry } from '../../../../src/registry/common/clienturl/index.js';
import type { NSERegistryHandler } from '../../../../src/registry/core/types.js';

describe('registry clienturl', function () {
  it('puts its URL in the context of register, find and unregister', async function () {
    const urls: (string | undefined)[] = [];
    const next: NSERegistryHandler = {
      register: (item, c) => {
        urls.push(clientURLFrom(c));
        return Promise.resolve(item);
      },
      find: (_q, c) => {
        urls.push(clientURLFrom(c));
        return EMPTY;
      },
      unregister: (_i, c) => {
        urls.push(clientURLFrom(c));
        return Promise.resolve();
      },
    };
    const element = clientURLRegistry<NetworkServiceEndpoint, NetworkServiceEndpointQuery>('unix:///run/registry.sock');
    const ctx = ChainContext.background();
    const item = NetworkServiceEndpoint.create({ name: 'n' });
    await element.register(item, ctx, next);
    await firstValueFrom(element.find({ networkServiceEndpoint: item, watch: false }, ctx, next).pipe(toArray()));
    await element.unregister(item, ctx, next);
    expect(urls).to.deep.equal(['unix:///run/registry.sock', 'unix:///run/registry.sock', 'unix:///run/registry.sock']);
    expect(clientURLFrom(ctx)).to.equal(undefined);
  });
});
