import { expect } from 'chai';
import { Connection } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import type { NetworkServiceElement } from '../../../../src/networkservice/core/types.js';
import { connectServer } from '../../../../src/networkservice/common/connect/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

/** A client chain stand-in that records what it was asked and answers with a marked connection. */
class FakeClientChain implements NetworkServiceElement {
  readonly name = 'fake-client';
  readonly requests: NetworkServiceRequest[] = [];
  readonly closes: Connection[] = [];
  failClose = false;
  async request(request: NetworkServiceRequest): Promise<Connection> {
    this.requests.push(request);
    return Connection.fromPartial({ ...request.connection, networkServiceEndpointName: 'downstream' });
  }
  async close(connection: Connection): Promise<void> {
    this.closes.push(connection);
    if (this.failClose) throw new Error('downstream is gone');
  }
}

const ctx = ChainContext.background();
const request = (): NetworkServiceRequest => NetworkServiceRequest.fromPartial({ connection: { id: 'c', networkService: 'ns' } });

describe('connect server', () => {
  it('runs the client chain, then the rest of the server chain with the connection it got back', async () => {
    const client = new FakeClientChain();
    const next = new FakeNext();
    const conn = await connectServer(client).request(request(), ctx, next);
    expect(client.requests).to.have.length(1);
    expect(next.requests[0]?.request.connection?.networkServiceEndpointName).to.equal('downstream');
    expect(conn.networkServiceEndpointName).to.equal('downstream');
  });

  it('closes downstream when the rest of the server chain fails, and reports the original error', async () => {
    const client = new FakeClientChain();
    const next = new FakeNext();
    next.onRequest = () => Promise.reject(new Error('local setup failed'));
    const error = (await connectServer(client).request(request(), ctx, next).catch((e: unknown) => e)) as Error;
    expect(error.message).to.equal('local setup failed');
    expect(client.closes).to.have.length(1);
    expect(client.closes[0]?.networkServiceEndpointName).to.equal('downstream');
  });

  it('closes the rest of the server chain even when downstream Close fails', async () => {
    const client = new FakeClientChain();
    client.failClose = true;
    const next = new FakeNext();
    const error = (await connectServer(client)
      .close(Connection.fromPartial({ id: 'c' }), ctx, next)
      .catch((e: unknown) => e)) as Error;
    expect(error.message).to.equal('downstream is gone');
    expect(next.closes).to.have.length(1);
  });
});
