import { expect } from 'chai';
import { NetworkService, type NetworkServiceQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { toRegistryHandler } from '../../../../src/registry/core/chain.js';
import { setPayloadServer } from '../../../../src/registry/common/setpayload/index.js';

describe('registry setpayload', function () {
  it('gives a service without payload IP and keeps ETHERNET', async function () {
    const handler = toRegistryHandler<NetworkService, NetworkServiceQuery>(setPayloadServer());
    const ctx = ChainContext.background();
    expect((await handler.register(NetworkService.fromPartial({ name: 'a' }), ctx)).payload).to.equal('IP');
    expect((await handler.register(NetworkService.fromPartial({ name: 'b', payload: 'ETHERNET' }), ctx)).payload).to.equal('ETHERNET');
  });
});
