/**
 * The baseline: a raw grpc-js server that answers NetworkService/Request by echoing the request's
 * connection, with no chain at all. Benchmarks compare nsm-sdk against it as a ratio.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { Connection } from '../../src/api/gen/connection.js';
import { NetworkServiceService, type NetworkServiceRequest } from '../../src/api/gen/networkservice.js';

export async function startRawEcho(target: string): Promise<{ stop: () => Promise<void> }> {
  const server = new Server();
  server.addService(NetworkServiceService, {
    request(call: ServerUnaryCall<NetworkServiceRequest, Connection>, callback: sendUnaryData<Connection>) {
      callback(null, call.request.connection);
    },
    close(_call: ServerUnaryCall<Connection, object>, callback: sendUnaryData<object>) {
      callback(null, {});
    },
  });
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(target, ServerCredentials.createInsecure(), (e, port) => (e === null ? resolve(port) : reject(e))),
  );
  return {
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
