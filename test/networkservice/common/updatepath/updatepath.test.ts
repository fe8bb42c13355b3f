import { expect } from 'chai';
import { Connection, Path, type PathSegment } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { chain, type NetworkServiceChain } from '../../../../src/networkservice/core/chain.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import type { NetworkServiceElement } from '../../../../src/networkservice/core/types.js';
import {
  updatePath,
  updatePathClient,
  updatePathServer,
} from '../../../../src/networkservice/common/updatepath/index.js';
import { NsmStatusError, status } from '../../../../src/tools/grpc/status.js';
import { FakeNext } from '../../../helpers/fake-next.js';
import { statusRejection } from '../../../helpers/status.js';

const NSE1 = 'nse-1';
const NSE2 = 'nse-2';
const NSE3 = 'nse-3';
const ID1 = '36ce7f0c-9f6d-40a4-8b39-6b56ff07eea9';
const ID2 = 'ece490ea-dfe8-4512-a3ca-5be7b39515c5';
const ID3 = 'f9a83e55-0a4f-3647-144a-98a9ee8fb231';
const CONNECTION_ID = '54ec76a7-d642-43ca-87bc-ab51765f575a';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `count` segments nse-1.. with ids ID1.., at `index`; no path at all for 0. */
function path(index: number, count: number): Path | undefined {
  if (count === 0) return undefined;
  const all = [
    { name: NSE1, id: ID1 },
    { name: NSE2, id: ID2 },
    { name: NSE3, id: ID3 },
  ];
  return Path.fromPartial({ index, pathSegments: all.slice(0, count) });
}

function request(id: string, p: Path | undefined): NetworkServiceRequest {
  return NetworkServiceRequest.fromPartial({ connection: { id, ...(p === undefined ? {} : { path: p }) } });
}

function names(p: Path | undefined): string[] {
  return (p?.pathSegments ?? []).map((s) => s.name);
}

function ids(p: Path | undefined): string[] {
  return (p?.pathSegments ?? []).map((s) => s.id);
}


const ctx = ChainContext.background();

type Factory = (name: string) => NetworkServiceElement;

function samples(side: string, make: Factory): void {
  describe(`updatepath/${side}`, () => {
    it('has the element name', () => {
      expect(make(NSE1).name).to.equal(`updatepath/${side}`);
    });

    it('NoPathNoID: starts a path with a fresh id', async () => {
      const next = new FakeNext();
      const conn = await make(NSE1).request(request('', undefined), ctx, next);
      expect(names(conn.path)).to.deep.equal([NSE1]);
      expect(conn.path?.index).to.equal(0);
      expect(conn.id).to.match(UUID);
      expect(conn.id).to.equal(conn.path?.pathSegments[0]?.id);
      expect(next.requests[0]?.request.connection?.id).to.equal(conn.id);
    });

    it('a request without a connection gets one, so a fresh client works', async () => {
      const next = new FakeNext();
      const conn = await make(NSE1).request(NetworkServiceRequest.create(), ctx, next);
      expect(next.requests).to.have.length(1);
      expect(names(conn.path)).to.deep.equal([NSE1]);
      expect(conn.id).to.match(UUID);
      expect(conn.id).to.equal(conn.path?.pathSegments[0]?.id);
    });

    it('NoPath: starts a path with the connection id', async () => {
      const conn = await make(NSE1).request(request(CONNECTION_ID, undefined), ctx, new FakeNext());
      expect(conn.path).to.deep.equal(Path.fromPartial({ index: 0, pathSegments: [{ name: NSE1, id: CONNECTION_ID }] }));
      expect(conn.id).to.equal(CONNECTION_ID);
    });

    it('an empty segment list counts as no path, whatever its index', async () => {
      const conn = await make(NSE1).request(request(CONNECTION_ID, Path.fromPartial({ index: 4 })), ctx, new FakeNext());
      expect(conn.path?.index).to.equal(0);
      expect(ids(conn.path)).to.deep.equal([CONNECTION_ID]);
    });

    it('SameNameDifferentID: a refresh takes the id from its own segment', async () => {
      const next = new FakeNext();
      const conn = await make(NSE2).request(request(CONNECTION_ID, path(1, 2)), ctx, next);
      expect(conn.path).to.deep.equal(path(1, 2));
      expect(conn.id).to.equal(ID2);
      expect(next.requests[0]?.request.connection?.id).to.equal(ID2);
      expect(next.requests[0]?.request.connection?.path?.index).to.equal(1);
    });

    it('DifferentNameInvalidID: rejects an id that is not the current segment id', async () => {
      const next = new FakeNext();
      const req = request(CONNECTION_ID, path(1, 2));
      const error = await statusRejection(make(NSE3).request(req, ctx, next));
      expect(error.code).to.equal(status.INVALID_ARGUMENT);
      expect(error.message).to.contain(`Current PathSegment.Id==${ID2} should be equal Connection.Id==${CONNECTION_ID}`);
      expect(next.requests).to.have.length(0);
      expect(req.connection?.path).to.deep.equal(path(1, 2));
    });

    it('InvalidIndex: rejects an index past the end of the path', async () => {
      const next = new FakeNext();
      const error = await statusRejection(make(NSE3).request(request(ID2, path(3, 2)), ctx, next));
      expect(error.code).to.equal(status.INVALID_ARGUMENT);
      expect(error.message).to.match(/path index 3 is out of range/);
      expect(error.message).to.contain('len(Path.PathSegments)==2');
      expect(next.requests).to.have.length(0);
    });

    it('DifferentNextName: replaces the next segment with a fresh one of its own', async () => {
      const next = new FakeNext();
      const p = path(1, 3) as Path;
      (p.pathSegments[2] as PathSegment).name = 'different';
      const conn = await make(NSE3).request(request(ID2, p), ctx, next);

      const seen = next.requests[0]?.request.connection;
      expect(seen?.path?.index).to.equal(2);
      expect(names(seen?.path)).to.deep.equal([NSE1, NSE2, NSE3]);
      const newId = seen?.path?.pathSegments[2]?.id;
      expect(newId).to.match(UUID);
      expect(newId).to.not.equal(ID3);
      expect(seen?.id).to.equal(newId);

      expect(conn.path?.index).to.equal(1);
      expect(ids(conn.path)).to.deep.equal([ID1, ID2, newId]);
      expect(conn.id).to.equal(ID2);
    });

    it('NoNextAvailable: appends a segment with a fresh id', async () => {
      const next = new FakeNext();
      const conn = await make(NSE3).request(request(ID2, path(1, 2)), ctx, next);

      const seen = next.requests[0]?.request.connection;
      expect(seen?.path?.index).to.equal(2);
      expect(names(seen?.path)).to.deep.equal([NSE1, NSE2, NSE3]);
      const newId = seen?.path?.pathSegments[2]?.id;
      expect(newId).to.match(UUID);
      expect(newId).to.not.equal(ID2);
      expect(seen?.id).to.equal(newId);

      expect(conn.path?.index).to.equal(1);
      expect(ids(conn.path)).to.deep.equal([ID1, ID2, newId]);
      expect(conn.id).to.equal(ID2);
    });

    it('SameNextName: moves onto its existing segment and keeps its id', async () => {
      const next = new FakeNext();
      const conn = await make(NSE3).request(request(ID2, path(1, 3)), ctx, next);

      const seen = next.requests[0]?.request.connection;
      expect(seen?.path).to.deep.equal(path(2, 3));
      expect(seen?.id).to.equal(ID3);

      expect(conn.path).to.deep.equal(path(1, 3));
      expect(conn.id).to.equal(ID2);
    });

    it('restores the caller view on whatever connection next returns', async () => {
      const next = new FakeNext();
      // A downstream hop answering from its own point of view (index 2, its own id) plus a segment of its own.
      next.onRequest = async (req) => {
        const conn = Connection.fromPartial(req.connection ?? {});
        conn.path?.pathSegments.push({ name: 'beyond', id: 'id-beyond', token: '', expires: undefined, metrics: {} });
        return conn;
      };
      const conn = await make(NSE3).request(request(ID2, path(1, 2)), ctx, next);
      expect(conn.id).to.equal(ID2);
      expect(conn.path?.index).to.equal(1);
      expect(names(conn.path)).to.deep.equal([NSE1, NSE2, NSE3, 'beyond']);
    });

    it('leaves a returned connection alone when it lacks the caller segment', async () => {
      const next = new FakeNext();
      next.onRequest = async () => Connection.fromPartial({ id: 'odd' });
      const conn = await make(NSE3).request(request(ID2, path(1, 2)), ctx, next);
      expect(conn.id).to.equal('odd');
      expect(conn.path).to.equal(undefined);
    });

    it('passes a failure of next on', async () => {
      const next = new FakeNext();
      next.onRequest = () => Promise.reject(new NsmStatusError(status.UNAVAILABLE, 'down'));
      const error = await statusRejection(make(NSE3).request(request(ID2, path(1, 2)), ctx, next));
      expect(error.code).to.equal(status.UNAVAILABLE);
    });

    describe('Close', () => {
      it('moves the connection onto its own segment before next.close', async () => {
        const next = new FakeNext();
        const conn = request(ID2, path(1, 3)).connection as Connection;
        await make(NSE3).close(conn, ctx, next);
        const closed = next.closes[0]?.connection;
        expect(closed?.id).to.equal(ID3);
        expect(closed?.path).to.deep.equal(path(2, 3));
      });

      it('closes its own connection on a refresh-like close (same name)', async () => {
        const next = new FakeNext();
        await make(NSE2).close(request(CONNECTION_ID, path(1, 2)).connection as Connection, ctx, next);
        expect(next.closes[0]?.connection.id).to.equal(ID2);
        expect(next.closes[0]?.connection.path?.index).to.equal(1);
      });

      it('rejects an inconsistent connection and does not call next', async () => {
        const next = new FakeNext();
        const error = await statusRejection(make(NSE3).close(request(CONNECTION_ID, path(1, 2)).connection as Connection, ctx, next));
        expect(error.code).to.equal(status.INVALID_ARGUMENT);
        expect(error.message).to.contain('should be equal Connection.Id');
        expect(next.closes).to.have.length(0);
      });

      it('rejects an index past the end and does not call next', async () => {
        const next = new FakeNext();
        const error = await statusRejection(make(NSE3).close(request(ID2, path(5, 2)).connection as Connection, ctx, next));
        expect(error.code).to.equal(status.INVALID_ARGUMENT);
        expect(next.closes).to.have.length(0);
      });
    });
  });
}

describe('updatepath', () => {
  samples('server', updatePathServer);
  samples('client', updatePathClient);

  describe('updatePath', () => {
    it('returns the index the connection arrived with', () => {
      expect(updatePath(Connection.create(), NSE1)).to.equal(0);
      expect(updatePath(request(ID2, path(1, 2)).connection as Connection, NSE2)).to.equal(1);
      expect(updatePath(request(ID2, path(1, 2)).connection as Connection, NSE3)).to.equal(1);
      expect(updatePath(request(ID1, path(0, 3)).connection as Connection, NSE2)).to.equal(0);
    });

    it('keeps connection.id equal to the current segment id after every successful move', () => {
      for (const [conn, name] of [
        [Connection.create(), NSE1],
        [request(CONNECTION_ID, undefined).connection, NSE1],
        [request(CONNECTION_ID, path(1, 2)).connection, NSE2],
        [request(ID2, path(1, 2)).connection, NSE3],
        [request(ID2, path(1, 3)).connection, NSE3],
        [request(ID1, path(0, 3)).connection, 'other'],
      ] as [Connection, string][]) {
        updatePath(conn, name);
        const p = conn.path as Path;
        expect(conn.id, name).to.equal(p.pathSegments[p.index]?.id);
        expect(p.pathSegments[p.index]?.name, name).to.equal(name);
      }
    });
  });

  describe('across hops', () => {
    // nsc client -> nsmgr server, nsmgr client -> nse server, all in one chain: what the hops do over gRPC.
    const hops = (): NetworkServiceChain =>
      chain(updatePathClient('nsc'), updatePathServer('nsmgr'), updatePathClient('nsmgr'), updatePathServer('nse'));

    it('builds one segment per hop and gives the client its own view', async () => {
      const conn = await hops().request(NetworkServiceRequest.create(), ctx);
      expect(names(conn.path)).to.deep.equal(['nsc', 'nsmgr', 'nse']);
      expect(conn.path?.index).to.equal(0);
      expect(conn.id).to.equal(conn.path?.pathSegments[0]?.id);
      expect(new Set(ids(conn.path)).size).to.equal(3);
    });

    it('keeps every id on a refresh with the returned connection', async () => {
      const h = hops();
      const first = await h.request(NetworkServiceRequest.create(), ctx);
      const refreshed = await h.request(NetworkServiceRequest.fromPartial({ connection: first }), ctx);
      expect(ids(refreshed.path)).to.deep.equal(ids(first.path));
      expect(refreshed.id).to.equal(first.id);
      expect(refreshed.path?.index).to.equal(0);
    });

    it('closes through every hop with the returned connection', async () => {
      const h = hops();
      const first = await h.request(NetworkServiceRequest.create(), ctx);
      const next = new FakeNext();
      await h.close(Connection.fromPartial(first), ctx, next);
      expect(next.closes[0]?.connection.id).to.equal(first.path?.pathSegments[2]?.id);
      expect(next.closes[0]?.connection.path?.index).to.equal(2);
    });
  });
});
