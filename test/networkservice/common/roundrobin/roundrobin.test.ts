import { expect } from 'chai';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { NetworkService, NetworkServiceEndpoint } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import { metadataServer } from '../../../../src/networkservice/common/metadata/index.js';
import { clientURLFrom } from '../../../../src/networkservice/common/clienturl/index.js';
import { withDiscovered } from '../../../../src/networkservice/common/discover/index.js';
import { roundRobinServer } from '../../../../src/networkservice/common/roundrobin/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';
import { status, statusError } from '../../../../src/tools/grpc/status.js';

const nses = ['a', 'b', 'c'].map((name) => NetworkServiceEndpoint.fromPartial({ name, url: `unix:///tmp/${name}.sock` }));
const ctx = withDiscovered(ChainContext.background(), { service: NetworkService.create({ name: 'svc' }), endpoints: nses });
const req = (id: string) => NetworkServiceRequest.fromPartial({ connection: { id, networkService: 'svc' } });

describe('roundrobin', function () {
  it('new connections start at the next endpoint in turn; the chosen name and URL go to next', async function () {
    const c = chain(metadataServer(), roundRobinServer());
    const next = new FakeNext();
    const urls: (string | undefined)[] = [];
    next.onRequest = (r, nctx) => {
      urls.push(clientURLFrom(nctx));
      return Promise.resolve(r.connection!);
    };
    const chosen = [];
    for (let i = 0; i < 4; i++) chosen.push((await c.request(req(`c${i}`), ctx, next)).networkServiceEndpointName);
    expect(chosen).to.deep.equal(['a', 'b', 'c', 'a']);
    expect(urls).to.deep.equal(['unix:///tmp/a.sock', 'unix:///tmp/b.sock', 'unix:///tmp/c.sock', 'unix:///tmp/a.sock']);
  });

  it('tries the next candidate when one fails, and names every one when all fail', async function () {
    const c = chain(metadataServer(), roundRobinServer());
    const next = new FakeNext();
    next.onRequest = (r) =>
      r.connection?.networkServiceEndpointName === 'c' ? Promise.resolve(r.connection) : Promise.reject(new Error(`${r.connection?.networkServiceEndpointName} is down`));
    expect((await c.request(req('x'), ctx, next)).networkServiceEndpointName).to.equal('c');
    expect(next.requests.map((r) => r.request.connection?.networkServiceEndpointName)).to.deep.equal(['a', 'b', 'c']);

    next.onRequest = (r) => Promise.reject(new Error(`${r.connection?.networkServiceEndpointName} is down`));
    const error = (await c.request(req('y'), ctx, next).catch((e: unknown) => e)) as Error & { code: number };
    expect(error.code).to.equal(14);
    expect(error.message).to.include('all candidates have failed: ');
    for (const name of ['a', 'b', 'c']) expect(error.message).to.include(`${name} (${name} is down)`);
  });

  it('when every candidate fails with one non-transient code (a policy), that code is kept; mixed failures are UNAVAILABLE', async function () {
    const c = chain(metadataServer(), roundRobinServer());
    const next = new FakeNext();
    next.onRequest = () => Promise.reject(statusError(status.PERMISSION_DENIED, 'audit: service "svc" is denied'));
    const denied = (await c.request(req('p'), ctx, next).catch((e: unknown) => e)) as Error & { code: number };
    expect(denied.code).to.equal(status.PERMISSION_DENIED);
    expect(denied.message).to.include('service "svc" is denied');
    next.onRequest = (r) =>
      Promise.reject(r.connection?.networkServiceEndpointName === 'a' ? statusError(status.PERMISSION_DENIED, 'denied') : new Error('down'));
    const mixed = (await c.request(req('q'), ctx, next).catch((e: unknown) => e)) as Error & { code: number };
    expect(mixed.code).to.equal(status.UNAVAILABLE);
  });

  it('Close goes to the URL the connection went to, without discovery', async function () {
    const c = chain(metadataServer(), roundRobinServer());
    const next = new FakeNext();
    const conn = await c.request(req('z'), ctx, next);
    let url: string | undefined;
    next.onClose = (_c, cctx) => {
      url = clientURLFrom(cctx);
      return Promise.resolve();
    };
    await c.close(conn, ChainContext.background(), next);
    expect(url).to.equal(`unix:///tmp/${conn.networkServiceEndpointName}.sock`);
  });

  it('without discovered candidates it fails clearly', async function () {
    const c = chain(metadataServer(), roundRobinServer());
    const error = (await c.request(req('q'), ChainContext.background(), new FakeNext()).catch((e: unknown) => e)) as Error;
    expect(error.message).to.include('no candidate endpoints');
  });
});
