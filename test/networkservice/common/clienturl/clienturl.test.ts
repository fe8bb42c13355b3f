import { expect } from 'chai';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { Connection } from '../../../../src/api/gen/connection.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { clientURLClient, clientURLFrom } from '../../../../src/networkservice/common/clienturl/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

describe('clienturl', () => {
  it('sets the next hop URL for Request and Close, normalised', async () => {
    const element = clientURLClient(' tcp://127.0.0.1:5001 ');
    const next = new FakeNext();
    const ctx = ChainContext.background();
    await element.request(NetworkServiceRequest.fromPartial({ connection: { id: 'a' } }), ctx, next);
    await element.close(Connection.fromPartial({ id: 'a' }), ctx, next);
    expect(clientURLFrom(next.requests[0]?.ctx ?? ctx)).to.equal('tcp://127.0.0.1:5001');
    expect(clientURLFrom(next.closes[0]?.ctx ?? ctx)).to.equal('tcp://127.0.0.1:5001');
    expect(clientURLFrom(ctx)).to.equal(undefined);
  });

  it('rejects an unparsable URL when it is built', () => {
    expect(() => clientURLClient('localhost:5001')).to.throw('invalid address "localhost:5001"');
  });
});
