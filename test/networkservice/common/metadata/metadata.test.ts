import { expect } from 'chai';
import { Connection } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import {
  connectionMetadata,
  MetadataKey,
  metadataServer,
  metadataClient,
} from '../../../../src/networkservice/common/metadata/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

const COUNT = new MetadataKey<number>('count');
const ctx = ChainContext.background();
const req = (id: string): NetworkServiceRequest => NetworkServiceRequest.fromPartial({ connection: { id } });

describe('metadata', () => {
  it('keeps values per connection across requests, with separate client and server halves', async () => {
    const md = metadataServer();
    const next = new FakeNext();
    const seen: number[] = [];
    next.onRequest = async (request, c) => {
      const server = connectionMetadata(c, 'server');
      const n = (server.get(COUNT) ?? 0) + 1;
      server.set(COUNT, n);
      seen.push(n, connectionMetadata(c, 'client').get(COUNT) ?? 0);
      return Connection.fromPartial(request.connection ?? {});
    };
    await md.request(req('a'), ctx, next);
    await md.request(req('a'), ctx, next);
    await md.request(req('b'), ctx, next);
    expect(seen).to.deep.equal([1, 0, 2, 0, 1, 0]);
    expect(md.size).to.equal(2);
  });

  it('is gone after Close', async () => {
    const md = metadataClient();
    const next = new FakeNext();
    next.onRequest = async (request, c) => {
      connectionMetadata(c, 'client').set(COUNT, 7);
      return Connection.fromPartial(request.connection ?? {});
    };
    await md.request(req('a'), ctx, next);
    let during: number | undefined;
    next.onClose = async (_conn, c) => {
      during = connectionMetadata(c, 'client').get(COUNT);
    };
    await md.close(Connection.fromPartial({ id: 'a' }), ctx, next);
    expect(during).to.equal(7);
    expect(md.size).to.equal(0);
  });

  it('is gone after a failed first request, but kept after a failed refresh', async () => {
    const md = metadataServer();
    const next = new FakeNext();
    next.onRequest = () => Promise.reject(new Error('fail'));
    await md.request(req('a'), ctx, next).catch(() => undefined);
    expect(md.size).to.equal(0);
    next.onRequest = undefined;
    await md.request(req('a'), ctx, next);
    next.onRequest = () => Promise.reject(new Error('fail'));
    await md.request(req('a'), ctx, next).catch(() => undefined);
    expect(md.size).to.equal(1);
  });

  it('says clearly when no metadata element ran', () => {
    expect(() => connectionMetadata(ctx, 'server')).to.throw(/no metadata in context/);
  });
});
