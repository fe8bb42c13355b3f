import { expect } from 'chai';
import { Connection } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import { metadataClient } from '../../../../src/networkservice/common/metadata/index.js';
import { passthroughClient } from '../../../../src/networkservice/common/passthrough/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

describe('passthrough', function () {
  it('requests the next service, keeps the downstream endpoint for refresh and close, and returns the caller its own names', async function () {
    const c = chain(metadataClient(), passthroughClient({ networkService: 'gateway' }));
    const next = new FakeNext();
    next.onRequest = (r) =>
      Promise.resolve(Connection.fromPartial({ ...r.connection, networkServiceEndpointName: r.connection?.networkServiceEndpointName || 'gw-1' }));
    const ctx = ChainContext.background();
    const incoming = { id: 'c', networkService: 'firewall', networkServiceEndpointName: 'fw-1', labels: { app: 'x' } };
    const conn = await c.request(NetworkServiceRequest.fromPartial({ connection: incoming }), ctx, next);
    expect(next.requests[0]?.request.connection).to.deep.include({ networkService: 'gateway', networkServiceEndpointName: '' });
    expect(conn).to.deep.include({ networkService: 'firewall', networkServiceEndpointName: 'fw-1' });

    await c.request(NetworkServiceRequest.fromPartial({ connection: conn }), ctx, next);
    expect(next.requests[1]?.request.connection?.networkServiceEndpointName).to.equal('gw-1');
    await c.close(conn, ctx, next);
    expect(next.closes[0]?.connection).to.deep.include({ networkService: 'gateway', networkServiceEndpointName: 'gw-1' });
  });
});
