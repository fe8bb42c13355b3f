import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { Client, credentials } from '@grpc/grpc-js';
import {
  HealthCheckRequest,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthService,
} from '../../../src/api/gen/grpc/health/v1/health.js';
import { NetworkServiceRequest } from '../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../src/networkservice/core/context.js';
import { GrpcServer } from '../../../src/tools/grpc/server.js';
import { grpcTarget } from '../../../src/tools/grpc/address.js';
import { unaryCall } from '../../../src/tools/grpc/call.js';
import { NetworkServiceService } from '../../../src/api/gen/networkservice.js';
import { RecordingEndpoint, serveElement, tempSocketDir } from '../../helpers/servers.js';

describe('GrpcServer', () => {
  const sockets = tempSocketDir();
  after(() => sockets.cleanup());

  it('listens on tcp port 0, reports the real port, and answers health checks', async () => {
    const server = await new GrpcServer().listen('tcp://127.0.0.1:0');
    try {
      expect(server.address.kind).to.equal('tcp');
      expect(server.url).to.match(/^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
      const client = new Client(grpcTarget(server.address), credentials.createInsecure());
      const reply = await unaryCall(client, HealthService.check, HealthCheckRequest.create({ service: '' }), ChainContext.background());
      expect(reply.status).to.equal(ServingStatus.SERVING);
      const unknown = await unaryCall(client, HealthService.check, HealthCheckRequest.create({ service: 'nope' }), ChainContext.background()).catch((e: unknown) => e as Error);
      expect((unknown as Error).message).to.include('unknown service "nope"');
      client.close();
    } finally {
      await server.stop();
    }
  });

  it('on stop closes every connection it holds, and removes its unix socket', async () => {
    const url = sockets.socket('stop');
    const endpoint = new RecordingEndpoint();
    const server = await serveElement(url, endpoint);
    const client = new Client(grpcTarget(server.address), credentials.createInsecure());
    const ctx = ChainContext.background();
    for (const id of ['a', 'b', 'c']) {
      await unaryCall(client, NetworkServiceService.request, NetworkServiceRequest.fromPartial({ connection: { id } }), ctx);
    }
    const b = endpoint.requests[1];
    if (b === undefined) throw new Error('no request recorded');
    await unaryCall(client, NetworkServiceService.close, b, ctx);
    client.close();
    expect(existsSync(url.slice('unix://'.length))).to.equal(true);
    await server.stop();
    expect(endpoint.closes.map((c) => c.id).sort()).to.deep.equal(['a', 'b', 'c']);
    expect(existsSync(url.slice('unix://'.length))).to.equal(false);
  });

  it('replaces a stale socket file and reports a bind failure clearly', async () => {
    const url = sockets.socket('stale');
    const first = await new GrpcServer().listen(url);
    // Simulate a crashed process: the file stays, nobody listens.
    first.server.forceShutdown();
    const second = await new GrpcServer().listen(url);
    await second.stop();
    const error = await new GrpcServer().listen('tcp://256.0.0.1:1').catch((e: unknown) => e as Error);
    expect((error as Error).message).to.include('cannot listen on tcp://256.0.0.1:1');
  });

  it('serves on every address it was told to listen on, and removes every socket file on stop', async () => {
    const unix = sockets.socket('multi');
    const server = await new GrpcServer().listen('tcp://127.0.0.1:0');
    await server.listen(unix);
    expect(server.addresses.map((a) => a.kind)).to.deep.equal(['tcp', 'unix']);
    expect(server.url, 'the first address is the one published').to.match(/^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
    try {
      for (const address of server.addresses) {
        const client = new Client(grpcTarget(address), credentials.createInsecure());
        const reply = await unaryCall(client, HealthService.check, HealthCheckRequest.create({ service: '' }), ChainContext.background());
        expect(reply.status, address.url).to.equal(ServingStatus.SERVING);
        client.close();
      }
    } finally {
      await server.stop();
    }
    expect(existsSync(unix.slice('unix://'.length))).to.equal(false);
  });

  it('publishes its first address as given when it names a host, whatever publicHost says', async () => {
    // An every-interface bind would listen beyond loopback; publishedAddress (address.test.ts) covers that case.
    const plain = await new GrpcServer({ publicHost: '10.9.9.9' }).listen('tcp://127.0.0.1:0');
    const address = plain.address;
    expect(address.kind === 'tcp' && plain.url === `tcp://127.0.0.1:${address.port}`, plain.url).to.equal(true);
    await plain.stop();
  });
});
