/**
 * client: requests network services from `NSM_CONNECT_TO`, prints each connection as JSON (one line each),
 * and closes them.
 *
 * Environment (upstream's names):
 * - `NSM_NAME` (default `nsc`): the client's path segment name
 * - `NSM_CONNECT_TO` (default the icmp-responder's default socket): the manager or endpoint to ask
 * - `NSM_NETWORK_SERVICES` (default `kernel://icmp-responder/nsm-1`): comma-separated URLs
 *   `mechanism://service[/interface][?label=value&...]`
 * - `NSM_REQUEST_TIMEOUT` (default `15s`): how long one request may take, in ms or with an `s` suffix
 * - `NSM_LOG_LEVEL` (default `info`)
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChainContext,
  Connection,
  createClient,
  createLogger,
  kernelMechanismPreference,
  type NetworkServiceURL,
  type NsmClient,
  parseLogLevel,
  parseNetworkServiceURLs,
  runMain,
  securityFromEnv,
} from 'nsm-sdk';

/** The client's configuration. */
export interface ClientConfig {
  readonly name: string;
  readonly connectTo: string;
  readonly networkServices: readonly NetworkServiceURL[];
  readonly requestTimeoutMs: number;
}

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (match === null) throw new Error(`invalid duration "${text}": expected e.g. 1500ms or 15s`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

/** Reads the configuration from the environment. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  return {
    name: env['NSM_NAME'] ?? 'nsc',
    connectTo: env['NSM_CONNECT_TO'] ?? `unix://${join(tmpdir(), 'nsm', 'icmp-responder.sock')}`,
    networkServices: parseNetworkServiceURLs(env['NSM_NETWORK_SERVICES'] ?? 'kernel://icmp-responder/nsm-1'),
    requestTimeoutMs: parseDuration(env['NSM_REQUEST_TIMEOUT'] ?? '15s'),
  };
}

/** Requests one network service described by a URL. */
export function requestService(client: NsmClient, url: NetworkServiceURL, timeoutMs: number): Promise<Connection> {
  return client.request(
    {
      connection: { networkService: url.networkService, labels: { ...url.labels } },
      mechanismPreferences: [kernelMechanismPreference(url.interfaceName)],
    },
    { timeoutMs },
  );
}

async function main(): Promise<void> {
  const logger = createLogger(parseLogLevel(process.env['NSM_LOG_LEVEL'] ?? 'info'));
  const config = configFromEnv();
  // SPIFFE_ENDPOINT_SOCKET, NSM_SVID_DIR, NSM_TRUST_DOMAIN_DIR or NSM_INSECURE=true, as `nsm` roles.
  const identity = await securityFromEnv(process.env, { role: 'nsc', name: config.name });
  const client = createClient({ name: config.name, connectTo: config.connectTo, ctx: ChainContext.background({ logger }), security: identity.security });
  const connections: Connection[] = [];
  try {
    for (const url of config.networkServices) {
      const conn = await requestService(client, url, config.requestTimeoutMs);
      connections.push(conn);
      process.stdout.write(`${JSON.stringify(Connection.toJSON(conn))}\n`);
    }
  } finally {
    for (const conn of connections) await client.close(conn, { timeoutMs: config.requestTimeoutMs });
    await client.dispose();
    identity.close();
  }
}

runMain(import.meta.url, 'client', main);
