/**
 * The server binding holds connections under this hop's id (the one `begin` uses), so neither a refused
 * Close nor another caller reusing a live id makes it forget a live connection (found by the fuzz tests).
 */
import { expect } from 'chai';
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { Connection } from '../../../src/api/gen/connection.js';
import { NetworkServiceRequest, NetworkServiceService } from '../../../src/api/gen/networkservice.js';
import { endpointChain } from '../../../src/networkservice/chains/endpoint/chain.js';
import { serveEndpoint, type ServedEndpoint } from '../../../src/networkservice/chains/endpoint/serve.js';
import { ChainContext } from '../../../src/networkservice/core/context.js';
import { point2pointServer, type PointToPointServer } from '../../../src/networkservice/ipam/point2point/index.js';
import { grpcTarget, parseAddress } from '../../../src/tools/grpc/address.js';
import { unaryCall } from '../../../src/tools/grpc/call.js';
import { status } from '../../../src/tools/grpc/status.js';
import { testTokenGenerator } from '../../../src/tools/sandbox/index.js';
import { tempSocketDir } from '../../helpers/servers.js';

const ctx = ChainContext.background();

describe('serveNetworkService: held connections', function () {
  const sockets = tempSocketDir();
  let ipam: PointToPointServer;
  let served: ServedEndpoint | undefined;
  let raw: Client;

  beforeEach(async () => {
    ipam = point2pointServer('10.97.0.0/29');
    served = await serveEndpoint(sockets.socket('nse'), endpointChain({ name: 'nse', tokenGenerator: testTokenGenerator('nse'), additionalFunctionality: [ipam] }), { drainTimeoutMs: 200 });
    raw = new Client(grpcTarget(parseAddress(served.url)), credentials.createInsecure());
  });
  afterEach(async () => {
    raw.close();
    await served?.stop();
  });
  after(() => sockets.cleanup());

  const request = (client: string, id: string): Promise<Connection> =>
    unaryCall(raw, NetworkServiceService.request, NetworkServiceRequest.fromPartial({ connection: { id, networkService: 'svc', path: { index: 0, pathSegments: [{ name: client, id }] } } }), ctx);
  const close = (conn: Connection): Promise<ServiceError | undefined> =>
    unaryCall(raw, NetworkServiceService.close, conn, ctx).then(
      () => undefined,
      (error: unknown) => error as ServiceError,
    );

  it('keeps a live connection through a refused Close and a Close whose path leads elsewhere', async function () {
    const live = await request('nsc', 'conn-1');
    const endpoint = served as ServedEndpoint;
    expect(endpoint.connections.size).to.equal(1);

    // Refused by validate: no path.
    expect((await close(Connection.fromPartial({ id: live.id })))?.code).to.equal(status.INVALID_ARGUMENT);
    expect(endpoint.connections.size).to.equal(1);
    // Accepted, but it names no connection of this endpoint (the path does not reach it): nothing closes.
    expect(await close(Connection.fromPartial({ id: live.id, path: { index: 0, pathSegments: [{ name: 'nsc', id: live.id }] } }))).to.equal(undefined);
    expect(endpoint.connections.size).to.equal(1);
    expect(ipam.size).to.equal(1);

    // The real Close forgets it.
    expect(await close(live)).to.equal(undefined);
    expect(endpoint.connections.size).to.equal(0);
    expect(ipam.size).to.equal(0);
  });

  it('holds two callers that use the same id apart, and closes both when it stops', async function () {
    await request('nsc-a', 'same-id');
    await request('nsc-b', 'same-id');
    expect((served as ServedEndpoint).connections.size).to.equal(2);
    expect(ipam.size).to.equal(2);
    await served?.stop();
    served = undefined;
    // Both were closed through the chain: their addresses are back.
    expect(ipam.size).to.equal(0);
  });
});
