/**
 * One hop of the raw baseline chain, as a process of its own: a grpc-js server of NetworkService
 * Request/Close that passes each call on to `nextUrl` over one shared channel, or echoes (the request's
 * connection; an empty reply to Close) when there is no next hop. No chain, no tokens, no path.
 *
 * ```sh
 * node dist/test/bench/relay.js unix:///tmp/x/echo.sock
 * node dist/test/bench/relay.js tcp://127.0.0.1:0 unix:///tmp/x/echo.sock
 * ```
 *
 * Addresses are NSM URLs (`unix:///path`, `tcp://host:port`; port 0 takes a free one). Prints
 * `relay ready on <url>` (the bound port filled in) once it serves; stops on SIGTERM/SIGINT.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, credentials, Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { Connection } from '../../src/api/gen/connection.js';
import { NetworkServiceService, type NetworkServiceRequest } from '../../src/api/gen/networkservice.js';
import { ChainContext } from '../../src/networkservice/core/context.js';
import { grpcTarget, parseAddress, withPort } from '../../src/tools/grpc/address.js';
import { unaryCall } from '../../src/tools/grpc/call.js';
import { errorMessage } from '../../src/tools/grpc/status.js';

/** A running relay. */
export interface Relay {
  /** Where it serves (a `tcp://` address with its bound port). */
  readonly url: string;
  stop(): Promise<void>;
}

/** Serves on `listenUrl`, forwarding to `nextUrl` over one channel, or echoing without one. */
export async function startRelay(listenUrl: string, nextUrl?: string): Promise<Relay> {
  const listen = parseAddress(listenUrl);
  const next = nextUrl === undefined ? undefined : new Client(grpcTarget(parseAddress(nextUrl)), credentials.createInsecure());
  const ctx = ChainContext.background();
  const server = new Server();
  server.addService(NetworkServiceService, {
    request(call: ServerUnaryCall<NetworkServiceRequest, Connection>, callback: sendUnaryData<Connection>) {
      if (next === undefined) return callback(null, call.request.connection ?? Connection.fromPartial({}));
      unaryCall(next, NetworkServiceService.request, call.request, ctx).then(
        (c) => callback(null, c),
        (e: Error) => callback(e),
      );
    },
    close(call: ServerUnaryCall<Connection, object>, callback: sendUnaryData<object>) {
      if (next === undefined) return callback(null, {});
      unaryCall(next, NetworkServiceService.close, call.request, ctx).then(
        () => callback(null, {}),
        (e: Error) => callback(e),
      );
    },
  });
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(grpcTarget(listen), ServerCredentials.createInsecure(), (e, p) => (e === null ? resolve(p) : reject(e))),
    );
  } catch (error) {
    next?.close();
    throw error;
  }
  return {
    url: withPort(listen, port).url,
    stop: async () => {
      next?.close();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}

async function main(args: readonly string[]): Promise<void> {
  const [listenUrl, nextUrl, ...extra] = args;
  if (listenUrl === undefined || extra.length > 0) {
    process.stderr.write('usage: relay <listenUrl> [nextUrl]\n');
    process.exit(2);
  }
  const relay = await startRelay(listenUrl, nextUrl);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    relay.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`relay ready on ${relay.url}\n`);
}

// Run as a script (`node relay.js ...`), not when imported.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`relay: ${errorMessage(error)}\n`);
    process.exit(1);
  });
}
