import { expect } from 'chai';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { endpointNameServer } from '../../../../src/networkservice/common/endpointname/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

describe('endpointname', () => {
  it('stamps its name when the connection has none, and keeps a name already chosen', async () => {
    const element = endpointNameServer('nse-a');
    const next = new FakeNext();
    const ctx = ChainContext.background();
    const stamped = await element.request(NetworkServiceRequest.fromPartial({ connection: { id: '1' } }), ctx, next);
    expect(stamped.networkServiceEndpointName).to.equal('nse-a');
    const kept = await element.request(
      NetworkServiceRequest.fromPartial({ connection: { id: '2', networkServiceEndpointName: 'chosen' } }),
      ctx,
      next,
    );
    expect(kept.networkServiceEndpointName).to.equal('chosen');
  });
});
