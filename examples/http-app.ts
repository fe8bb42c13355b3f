/**
 * http-app: an application that embeds the NSM client. At start it requests a network service from its
 * manager (`NSM_CONNECT_TO`) and keeps the connection for as long as it runs: the client refreshes it and
 * heals it (on by default: when the endpoint, forwarder or manager dies, it restores the path or moves the
 * connection to another endpoint). The app subscribes to `client.watch(conn)`, an rxjs Observable of the
 * connection as it changes, and serves what it last saw over HTTP:
 *
 * - `GET /connection`: `{ "state": "UP", "endpoint": "nse-1", "path": ["http-app", "nsmgr", ...],
 *   "srcIpAddrs": ["169.254.0.1/32"] }`; `state` is `UP`, `DOWN` (while healing), ... or `CLOSED`.
 * - `GET /healthz`: `{ "status": "ok" }` while the process serves (a liveness probe: a connection that
 *   is healing does not make the app unhealthy).
 *
 * On SIGINT/SIGTERM it stops serving HTTP, closes the connection and disposes of the client.
 *
 * ```sh
 * NSM_CONNECT_TO=tcp://127.0.0.1:5001 npx tsx examples/http-app.ts
 * curl -s localhost:8080/connection
 * ```
 *
 * Environment (upstream's names where upstream has one):
 * - `NSM_NAME` (default `http-app`): the client's path segment name
 * - `NSM_CONNECT_TO` (default `unix:///var/lib/networkservicemesh/nsm.io.sock`, upstream's manager socket)
 * - `NSM_NETWORK_SERVICES` (default `kernel://icmp-responder/nsm-1`): the service to request, as
 *   `mechanism://service[/interface][?label=value&...]` (the first one, if several are given)
 * - `NSM_REQUEST_TIMEOUT` (default `15s`): how long the first request may take, retries included
 * - `NSM_LOG_LEVEL` (default `info`)
 * - `HTTP_HOST` (default `127.0.0.1`) and `HTTP_PORT` (default `8080`): where the app serves HTTP
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Subscription } from 'rxjs';
import {
  ChainContext,
  type Connection,
  createClient,
  createLogger,
  errorMessage,
  kernelMechanismPreference,
  type NsmClientOptions,
  parseLogLevel,
  parseNetworkServiceURLs,
  runMain,
  securityFromEnv,
  stateToJSON,
  stopOnSignals,
} from 'nsm-sdk';

/** Options of {@link startApp}. */
export interface AppOptions {
  /** The manager (or endpoint) to ask. */
  readonly connectTo: string;
  /** The network service to request; default `icmp-responder`. */
  readonly networkService?: string;
  /** Labels for the request (the service's matches select endpoints by them). */
  readonly labels?: Readonly<Record<string, string>>;
  /** The kernel interface name to ask for; default `nsm-1`. */
  readonly interfaceName?: string;
  /** The client's path segment name; default `http-app`. */
  readonly name?: string;
  /** HTTP host; default `127.0.0.1`. */
  readonly host?: string;
  /** HTTP port; default 0 (any free port: read it from the returned `url`). */
  readonly port?: number;
  /** How long the first request may take, retries included (ms); default 15000. */
  readonly requestTimeoutMs?: number;
  /** The context the client runs in (clock, logger). */
  readonly ctx?: ChainContext;
  /** More client options (token generator, heal and refresh settings, dial options). */
  readonly client?: Omit<NsmClientOptions, 'name' | 'connectTo' | 'ctx'>;
}

/** What `GET /connection` answers. */
export interface ConnectionView {
  /** `UP`, `DOWN`, `REFRESH_REQUESTED`, `RESELECT_REQUESTED`, or `CLOSED` once the connection is closed. */
  readonly state: string;
  /** The endpoint the connection reaches. */
  readonly endpoint: string;
  /** The path's segment names, from the app to the endpoint. */
  readonly path: readonly string[];
  /** The app's addresses on the connection. */
  readonly srcIpAddrs: readonly string[];
}

/** A running app. */
export interface RunningApp {
  /** The HTTP base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Stops serving HTTP, closes the connection, disposes of the client. Safe to call more than once. */
  close(): Promise<void>;
}

/** The view of a connection that `GET /connection` serves. */
export function connectionView(conn: Connection, closed = false): ConnectionView {
  return {
    state: closed ? 'CLOSED' : stateToJSON(conn.state),
    endpoint: conn.networkServiceEndpointName,
    path: conn.path?.pathSegments.map((s) => s.name) ?? [],
    srcIpAddrs: conn.context?.ipContext?.srcIpAddrs ?? [],
  };
}

function sendJSON(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

/**
 * Starts the app: requests the network service (retrying until the manager answers, within
 * `requestTimeoutMs`), watches the connection, then serves HTTP. Rejects, leaving nothing behind, if the
 * request fails.
 */
export async function startApp(options: AppOptions): Promise<RunningApp> {
  const ctx = options.ctx ?? ChainContext.background();
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  const client = createClient({
    retry: { intervalMs: 500, timeoutMs },
    ...options.client,
    name: options.name ?? 'http-app',
    connectTo: options.connectTo,
    ctx,
  });
  let conn: Connection;
  try {
    conn = await client.request(
      {
        connection: { networkService: options.networkService ?? 'icmp-responder', labels: { ...options.labels } },
        mechanismPreferences: [kernelMechanismPreference(options.interfaceName ?? 'nsm-1')],
      },
      { timeoutMs },
    );
  } catch (error) {
    await client.dispose();
    throw error;
  }

  // The latest version of the connection, as the client's rxjs stream reports it: refreshed, DOWN while
  // healing, UP on its new path after a heal. The stream completes when the connection is closed.
  let view = connectionView(conn);
  const subscription: Subscription = client.watch(conn).subscribe({
    next: (latest) => {
      view = connectionView(latest);
      ctx.logger.info(`connection ${view.state} on ${view.endpoint}`, { path: view.path });
    },
    complete: () => {
      view = { ...view, state: 'CLOSED' };
    },
  });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://app').pathname;
    if (req.method !== 'GET') sendJSON(res, 405, { error: `${req.method ?? ''} is not allowed` });
    else if (path === '/connection') sendJSON(res, 200, view);
    else if (path === '/healthz') sendJSON(res, 200, { status: 'ok' });
    else sendJSON(res, 404, { error: `no route ${path}` });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    subscription.unsubscribe();
    await client.dispose();
    throw new Error(`cannot serve HTTP: ${errorMessage(error)}`, { cause: error });
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Keep-alive connections would hold `close` back until they time out.
          server.closeAllConnections();
        });
        // Closes the connection (the watch completes) and stops healing.
        await client.dispose({ timeoutMs: 5000 });
        subscription.unsubscribe();
      })()),
  };
}

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (match === null) throw new Error(`invalid duration "${text}": expected e.g. 1500ms or 15s`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

/** Reads the app's options from the environment. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): AppOptions {
  const [service] = parseNetworkServiceURLs(env['NSM_NETWORK_SERVICES'] ?? 'kernel://icmp-responder/nsm-1');
  if (service === undefined) throw new Error('NSM_NETWORK_SERVICES names no network service');
  return {
    name: env['NSM_NAME'] ?? 'http-app',
    connectTo: env['NSM_CONNECT_TO'] ?? 'unix:///var/lib/networkservicemesh/nsm.io.sock',
    networkService: service.networkService,
    labels: service.labels,
    ...(service.interfaceName === '' ? {} : { interfaceName: service.interfaceName }),
    requestTimeoutMs: parseDuration(env['NSM_REQUEST_TIMEOUT'] ?? '15s'),
    host: env['HTTP_HOST'] ?? '127.0.0.1',
    port: Number(env['HTTP_PORT'] ?? '8080'),
  };
}

async function main(): Promise<void> {
  const logger = createLogger(parseLogLevel(process.env['NSM_LOG_LEVEL'] ?? 'info'));
  const options = optionsFromEnv();
  // SPIFFE_ENDPOINT_SOCKET, NSM_SVID_DIR, NSM_TRUST_DOMAIN_DIR or NSM_INSECURE=true, as `nsm` roles.
  const identity = await securityFromEnv(process.env, { role: 'nsc', name: options.name ?? 'http-app' });
  const app = await startApp({ ...options, client: { ...options.client, security: identity.security }, ctx: ChainContext.background({ logger }) });
  process.stdout.write(`http-app ready on ${app.url} (GET /connection, GET /healthz)\n`);
  stopOnSignals(async () => {
    await app.close();
    identity.close();
  });
}

runMain(import.meta.url, 'http-app', main);
