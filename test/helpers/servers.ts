import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '../../src/api/gen/connection.js';
import type { NetworkServiceElement } from '../../src/networkservice/core/types.js';
import { serveNetworkService } from '../../src/networkservice/core/serve.js';
import { GrpcServer } from '../../src/tools/grpc/server.js';

/** A temporary directory for unix sockets, removed by `cleanup`. */
export function tempSocketDir(): { dir: string; socket: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nsm-test-'));
  return {
    dir,
    socket: (name: string) => `unix://${join(dir, `${name}.sock`)}`,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** An element that records what reaches it and answers like an endpoint would. */
export class RecordingEndpoint implements NetworkServiceElement {
  readonly name = 'recording-endpoint';
  readonly requests: Connection[] = [];
  readonly closes: Connection[] = [];

  constructor(private readonly label = 'endpoint') {}

  async request(request: { connection?: Connection | undefined }): Promise<Connection> {
    const conn = Connection.fromPartial({ ...request.connection, networkServiceEndpointName: this.label });
    this.requests.push(conn);
    return conn;
  }

  async close(connection: Connection): Promise<void> {
    this.closes.push(connection);
  }
}

/** Serves `element` as NetworkService on `url`. */
export async function serveElement(url: string, element: NetworkServiceElement): Promise<GrpcServer> {
  const server = new GrpcServer({ drainTimeoutMs: 1000 });
  serveNetworkService(server, element);
  return server.listen(url);
}

/**
 * A peer that accepts connections on `listenPath` (a unix socket path) but answers nothing until
 * `open()`: from then on every connection, held ones included, is piped to `targetPath`. It stands for a
 * server whose socket is bound while the process is still starting (upstream's "restarting endpoint").
 */
export async function latePeer(listenPath: string, targetPath: string): Promise<{ open(): void; close(): Promise<void> }> {
  const { createServer, connect } = await import('node:net');
  const held = new Set<import('node:net').Socket>();
  let opened = false;
  const pipe = (socket: import('node:net').Socket): void => {
    const upstream = connect(targetPath);
    socket.pipe(upstream).pipe(socket);
    const end = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  };
  const server = createServer((socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
    if (opened) pipe(socket);
    else socket.pause();
  });
  await new Promise<void>((resolve) => server.listen(listenPath, resolve));
  return {
    open: () => {
      opened = true;
      for (const socket of held) {
        pipe(socket);
        socket.resume();
      }
    },
    close: async () => {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
