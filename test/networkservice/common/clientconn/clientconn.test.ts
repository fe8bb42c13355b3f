import { expect } from 'chai';
import { Client, connectivityState, credentials } from '@grpc/grpc-js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { Connection } from '../../../../src/api/gen/connection.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import { metadataClient } from '../../../../src/networkservice/common/metadata/index.js';
import { clientConnClient, loadChannel, type HeldChannel } from '../../../../src/networkservice/common/clientconn/index.js';
import { dialClient } from '../../../../src/networkservice/common/dial/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

describe('clientconn', () => {
  it("offers the caller's channel for every connection, never closes it, and forgets it on Close", async () => {
    const channel = new Client('unix:///nonexistent/never-dialed.sock', credentials.createInsecure());
    const md = metadataClient();
    const seen: (HeldChannel | undefined)[] = [];
    const next = new FakeNext();
    next.onRequest = async (request, ctx) => {
      seen.push(loadChannel(ctx));
      return Connection.fromPartial(request.connection ?? {});
    };
    // dial follows clientconn, as in the client chain: with a channel held and no URL it must not dial.
    const c = chain(md, clientConnClient(channel), dialClient());
    const ctx = ChainContext.background();
    const conn = await c.request(NetworkServiceRequest.fromPartial({ connection: { id: 'x' } }), ctx, next);
    expect(seen[0]?.client).to.equal(channel);
    expect(seen[0]?.owned).to.equal(false);
    await c.close(conn, ctx, next);
    expect(md.size).to.equal(0);
    expect(channel.getChannel().getConnectivityState(false)).to.not.equal(connectivityState.SHUTDOWN);
    channel.close();
  });
});
