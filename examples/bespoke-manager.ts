/**
 * bespoke-manager: a Network Service Manager composed from the SDK's manager chain plus one element of
 * its own, `audit`. For every connection request that passes through the manager, `audit`:
 *
 * - stamps the label `audited-by=<manager name>` on the request's connection, so the endpoint (and every
 *   hop after the manager) can see which manager it came through; the client gets it back on its
 *   connection;
 * - counts connections per network service: the ones open now and all established so far (a refresh is
 *   not counted twice; a Close, including one the manager makes itself when the client stops refreshing,
 *   lowers the open count).
 *
 * `serveNsmgr` places extra elements (`additionalFunctionality`) after the endpoint and the forwarder are
 * chosen and just before the request leaves the manager, so `audit` sees the chosen endpoint too. An
 * element there may also refuse a request: `roundrobin` and `discoverforwarder` try the other candidates,
 * and when all fail with the element's code (PERMISSION_DENIED, say) the client gets that code, with every
 * candidate's reason in the message.
 *
 * Run it in place of `nsm nsmgr`, with a registry, a forwarder and an endpoint next to it:
 *
 * ```sh
 * npm run nsm -- registry                                                   # tcp://127.0.0.1:5002
 * npx tsx examples/bespoke-manager.ts                                       # tcp://127.0.0.1:5001
 * NSM_CONNECT_TO=tcp://127.0.0.1:5001 npm run nsm -- forwarder
 * NSM_CONNECT_TO=tcp://127.0.0.1:5001 npm run nsm -- nse
 * NSM_CONNECT_TO=tcp://127.0.0.1:5001 npx tsx examples/client.ts           # prints labels {"audited-by":"nsmgr"}
 * ```
 *
 * Environment (upstream's names):
 * - `NSM_NAME` (default `nsmgr`): the manager's name, its path segments and the `audited-by` label
 * - `NSM_LISTEN_ON` (default `tcp://127.0.0.1:5001`): where to serve
 * - `NSM_REGISTRY_URL` (default `tcp://127.0.0.1:5002`, where `nsm registry` listens): the registry
 * - `NSM_LOG_LEVEL` (default `info`)
 *
 * Prints `<name> ready on <url>` when it serves, logs the counts every time they change, and stops
 * cleanly on SIGINT/SIGTERM.
 */
import {
  ChainContext,
  type Connection,
  connectionMetadata,
  createLogger,
  MetadataKey,
  type NetworkServiceHandler,
  type NetworkServiceRequest,
  type NetworkServiceServer,
  parseLogLevel,
  runMain,
  type ServedNsmgr,
  securityFromEnv,
  type Security,
  serveNsmgr,
  stopOnSignals,
} from 'nsm-sdk';

/** The label `audit` stamps on each request. */
export const AUDITED_BY_LABEL = 'audited-by';

/** Options of {@link AuditServer}. */
export interface AuditOptions {
  /** The manager's name: the value of the `audited-by` label. */
  readonly managerName: string;
}

/** Connections of one network service that went through `audit`. */
export interface AuditCount {
  /** Open now. */
  open: number;
  /** Established since the manager started. */
  total: number;
}

/** The service a connection was counted under, kept in the connection's metadata until its Close. */
const COUNTED = new MetadataKey<string>('audit.counted');

/**
 * `audit`: the bespoke manager's own element. It labels each request with the manager's name and counts
 * connections per network service.
 */
export class AuditServer implements NetworkServiceServer {
  readonly name = 'audit';
  private readonly counts = new Map<string, AuditCount>();

  constructor(private readonly options: AuditOptions) {}

  /** The counts per network service, as a plain object. */
  snapshot(): Record<string, AuditCount> {
    return Object.fromEntries([...this.counts].map(([service, count]) => [service, { ...count }]));
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    const service = conn?.networkService ?? '';
    if (conn !== undefined) conn.labels = { ...conn.labels, [AUDITED_BY_LABEL]: this.options.managerName };
    const result = await next.request(request, ctx);
    // Count a connection once: a refresh finds it already counted in its metadata.
    const metadata = connectionMetadata(ctx, 'server');
    if (!metadata.has(COUNTED)) {
      metadata.set(COUNTED, service);
      const count = this.counts.get(service) ?? { open: 0, total: 0 };
      count.open++;
      count.total++;
      this.counts.set(service, count);
      ctx.logger.info(`${this.name}: ${service} now has ${count.open} open connection(s)`, { endpoint: result.networkServiceEndpointName });
    }
    return result;
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const metadata = connectionMetadata(ctx, 'server');
    const service = metadata.get(COUNTED);
    try {
      await next.close(connection, ctx);
    } finally {
      if (service !== undefined) {
        metadata.delete(COUNTED);
        const count = this.counts.get(service);
        if (count !== undefined && count.open > 0) count.open--;
        ctx.logger.info(`${this.name}: ${service} now has ${count?.open ?? 0} open connection(s)`);
      }
    }
  }
}

/** An `audit` element. */
export function auditServer(options: AuditOptions): AuditServer {
  return new AuditServer(options);
}

/** The bespoke manager's configuration. */
export interface BespokeManagerConfig {
  readonly name: string;
  readonly listenOn: string;
  readonly registryURL: string;
}

/** Reads the configuration from the environment. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): BespokeManagerConfig {
  return {
    name: env['NSM_NAME'] ?? 'nsmgr',
    listenOn: env['NSM_LISTEN_ON'] ?? 'tcp://127.0.0.1:5001',
    registryURL: env['NSM_REGISTRY_URL'] ?? 'tcp://127.0.0.1:5002',
  };
}

/** A running bespoke manager. */
export interface RunningBespokeManager {
  /** The URL it listens on (with the real port after `tcp://host:0`). */
  readonly url: string;
  /** The manager as `serveNsmgr` returned it. */
  readonly nsmgr: ServedNsmgr;
  /** Its `audit` element: the counts. */
  readonly audit: AuditServer;
  /** Closes the connections it holds, ends open finds, stops serving. */
  stop(): Promise<void>;
}

/**
 * Starts the bespoke manager: `serveNsmgr` with `audit` as its extra element. Everything else (discovery,
 * forwarder selection, monitor, timeout, both registry services) is the SDK's manager, unchanged.
 */
export async function startBespokeManager(
  config: BespokeManagerConfig,
  ctx: ChainContext = ChainContext.background(),
  security?: Security,
): Promise<RunningBespokeManager> {
  const audit = auditServer({ managerName: config.name });
  const nsmgr = await serveNsmgr(config.listenOn, {
    name: config.name,
    registryURL: config.registryURL,
    ctx,
    additionalFunctionality: [audit],
    // The manager's identity and policies (mTLS, signed tokens, authorize); without one it runs insecure.
    ...(security === undefined ? {} : { security }),
  });
  return { url: nsmgr.url, nsmgr, audit, stop: () => nsmgr.stop() };
}

async function main(): Promise<void> {
  const logger = createLogger(parseLogLevel(process.env['NSM_LOG_LEVEL'] ?? 'info'));
  const config = configFromEnv();
  // SPIFFE_ENDPOINT_SOCKET, NSM_SVID_DIR, NSM_TRUST_DOMAIN_DIR or NSM_INSECURE=true, as `nsm` roles.
  const identity = await securityFromEnv(process.env, { role: 'nsmgr', name: config.name });
  const manager = await startBespokeManager(config, ChainContext.background({ logger }), identity.security);
  process.stdout.write(`${config.name} ready on ${manager.url}\n`);
  stopOnSignals(async () => {
    await manager.stop();
    identity.close();
  });
}

runMain(import.meta.url, 'bespoke-manager', main);
