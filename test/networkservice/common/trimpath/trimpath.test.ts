import { expect } from 'chai';
import { Connection, Path } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import type { NetworkServiceHandler } from '../../../../src/networkservice/core/types.js';
import { trimPathClient, trimPathServer } from '../../../../src/networkservice/common/trimpath/index.js';
import { updatePathClient, updatePathServer } from '../../../../src/networkservice/common/updatepath/index.js';
import { NsmStatusError, status } from '../../../../src/tools/grpc/status.js';
import { FakeNext } from '../../../helpers/fake-next.js';

const ctx = ChainContext.background();

/** A connection at `index` whose path has segments s0..s{count-1}. */
function connection(index: number, count: number): Connection {
  const pathSegments = Array.from({ length: count }, (_, i) => ({ name: `s${i}`, id: `id${i}` }));
  return Connection.fromPartial({ id: `id${index}`, path: { index, pathSegments } });
}

function request(conn: Connection): NetworkServiceRequest {
  return NetworkServiceRequest.fromPartial({ connection: conn });
}

function names(conn: Connection): string[] {
  return (conn.path?.pathSegments ?? []).map((s) => s.name);
}

describe('trimpath', () => {
  it('has element names', () => {
    expect(trimPathServer().name).to.equal('trimpath/server');
    expect(trimPathClient().name).to.equal('trimpath/client');
  });

  describe('server', () => {
    it('trims the path to end with the current segment at an endpoint', async () => {
      const next = new FakeNext();
      const conn = await trimPathServer().request(request(connection(1, 4)), ctx, next);
      expect(next.requests).to.have.length(1);
      expect(names(conn)).to.deep.equal(['s0', 's1']);
      expect(conn.path?.index).to.equal(1);
    });

    it('trims what next returns, not what it was sent', async () => {
      const next = new FakeNext();
      next.onRequest = async () => connection(0, 3);
      const req = request(connection(2, 3));
      const conn = await trimPathServer().request(req, ctx, next);
      expect(names(conn)).to.deep.equal(['s0']);
      expect(names(req.connection as Connection)).to.deep.equal(['s0', 's1', 's2']);
    });

    it('leaves a path that already ends at the current segment as it is', async () => {
      const conn = await trimPathServer().request(request(connection(2, 3)), ctx, new FakeNext());
      expect(names(conn)).to.deep.equal(['s0', 's1', 's2']);
    });

    it('copes with a connection without a path', async () => {
      const next = new FakeNext();
      next.onRequest = async () => Connection.fromPartial({ id: 'x' });
      const conn = await trimPathServer().request(request(Connection.create()), ctx, next);
      expect(conn.path).to.equal(undefined);
    });

    it('passes a failure of next on', async () => {
      const next = new FakeNext();
      next.onRequest = () => Promise.reject(new NsmStatusError(status.NOT_FOUND, 'no endpoint'));
      try {
        await trimPathServer().request(request(connection(0, 2)), ctx, next);
        expect.fail('expected the request to fail');
      } catch (error) {
        expect((error as NsmStatusError).code).to.equal(status.NOT_FOUND);
      }
    });

    it('does not trim when a trimpath client ran downstream in the same chain', async () => {
      const next = new FakeNext();
      const conn = await chain(trimPathServer(), trimPathClient()).request(request(connection(1, 4)), ctx, next);
      expect(names(conn)).to.deep.equal(['s0', 's1', 's2', 's3']);
    });

    it('trims again when the downstream client call failed and a later call has no client', async () => {
      const server = trimPathServer();
      const failing = new FakeNext();
      failing.onRequest = () => Promise.reject(new Error('down'));
      let failed = false;
      await chain(server, trimPathClient())
        .request(request(connection(1, 3)), ctx, failing)
        .catch(() => {
          failed = true;
        });
      expect(failed).to.equal(true);
      // The mark belongs to one call: the next call through the server alone is trimmed.
      const conn = await server.request(request(connection(1, 3)), ctx, new FakeNext());
      expect(names(conn)).to.deep.equal(['s0', 's1']);
    });

    it('a client mark concerns only its own call', async () => {
      const server = trimPathServer();
      const kept = await chain(server, trimPathClient()).request(request(connection(0, 3)), ctx, new FakeNext());
      const trimmed = await server.request(request(connection(0, 3)), ctx, new FakeNext());
      expect(names(kept)).to.have.length(3);
      expect(names(trimmed)).to.deep.equal(['s0']);
    });

    it('the nearest server above the client is the one told', async () => {
      // outer server -> inner server -> client: only the inner one keeps the path; the outer one trims.
      const seen: string[][] = [];
      const recordInner = {
        name: 'record',
        request: async (req: NetworkServiceRequest, c: ChainContext, n: NetworkServiceHandler) => {
          const conn = await n.request(req, c);
          seen.push(names(conn));
          return conn;
        },
        close: (conn: Connection, c: ChainContext, n: NetworkServiceHandler) => n.close(conn, c),
      };
      const conn = await chain(trimPathServer(), recordInner, trimPathServer(), trimPathClient()).request(
        request(connection(1, 4)),
        ctx,
        new FakeNext(),
      );
      expect(seen).to.deep.equal([['s0', 's1', 's2', 's3']]);
      expect(names(conn)).to.deep.equal(['s0', 's1']);
    });
  });

  describe('client', () => {
    it('passes the request and its result through unchanged', async () => {
      const next = new FakeNext();
      const req = request(connection(1, 3));
      const conn = await trimPathClient().request(req, ctx, next);
      expect(next.requests[0]?.request).to.equal(req);
      expect(conn).to.deep.equal(connection(1, 3));
    });

    it('works without a trimpath server above it', async () => {
      const conn = await trimPathClient().request(request(connection(0, 2)), ctx, new FakeNext());
      expect(names(conn)).to.deep.equal(['s0', 's1']);
    });
  });

  describe('close', () => {
    it('passes through the server and the client untouched', async () => {
      const next = new FakeNext();
      const conn = connection(1, 4);
      await chain(trimPathServer(), trimPathClient()).close(conn, ctx, next);
      await trimPathServer().close(conn, ctx, next);
      expect(next.closes).to.have.length(2);
      expect(next.closes[0]?.connection).to.equal(conn);
      expect(names(conn)).to.deep.equal(['s0', 's1', 's2', 's3']);
    });
  });

  describe('with updatepath (upstream scenario)', () => {
    it('an endpoint drops stale segments beyond itself on a refresh', async () => {
      const endpoint = chain(updatePathServer('trim'), trimPathServer());
      const first = await endpoint.request(NetworkServiceRequest.create(), ctx);
      expect(first.path?.index).to.equal(0);
      expect(first.path?.pathSegments).to.have.length(1);

      const again = Connection.fromPartial(first);
      (again.path as Path).pathSegments.push({ name: '', id: '', token: '', expires: undefined, metrics: {} });
      const second = await endpoint.request(request(again), ctx);
      expect(second.path?.index).to.equal(0);
      expect(second.path?.pathSegments).to.have.length(1);
    });

    it('a passthrough hop keeps the segments of the hops it reached', async () => {
      const passthrough = chain(
        updatePathServer('dontTrim'),
        trimPathServer(),
        chain(updatePathClient('dontTrim'), trimPathClient()),
      );
      const first = await passthrough.request(NetworkServiceRequest.create(), ctx);
      expect(first.path?.index).to.equal(0);
      expect(first.path?.pathSegments).to.have.length(1);

      const again = Connection.fromPartial(first);
      (again.path as Path).pathSegments.push({ name: '', id: '', token: '', expires: undefined, metrics: {} });
      const second = await passthrough.request(request(again), ctx);
      expect(second.path?.index).to.equal(0);
      expect(second.path?.pathSegments).to.have.length(2);
    });
  });
});
