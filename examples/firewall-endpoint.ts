/**
 * firewall-endpoint: a custom passthrough endpoint. It offers the network service
 * `secure-intranet-connectivity`, and for each connection it is asked for it requests the service
 * `icmp-responder` downstream, through its own manager, so the client's path runs through the firewall to
 * whichever icmp-responder the manager picks:
 *
 * ```
 * nsc → nsmgr → forwarder → firewall → nsmgr → forwarder → icmp-responder
 * ```
 *
 * The chain is the SDK's endpoint chain plus three things at its end: `logging`, an element written here
 * that logs every Request and Close it passes on (and drops nothing: a real firewall would check the
 * request against its rules at this point), the mechanisms it accepts from its forwarder, and `connect`
 * running a client chain towards its manager with `passthrough` (request the next service),
 * `mechanismtranslation` (do not hand the incoming mechanism on) and a kernel mechanism offer.
 *
 * At start it registers its NetworkService and itself at its manager (kept alive by the registry client's
 * refresh and heal); on SIGINT/SIGTERM it closes the connections it holds, unregisters and exits.
 *
 * Run it next to a manager (for instance `npm run nsm -- registry`, `nsm nsmgr`, `nsm forwarder` and
 * `nsm nse`, which serves `icmp-responder`):
 *
 * ```sh
 * NSM_CONNECT_TO=tcp://127.0.0.1:5001 npx tsx examples/firewall-endpoint.ts
 * NSM_CONNECT_TO=tcp://127.0.0.1:5001 NSM_NETWORK_SERVICES=kernel://secure-intranet-connectivity/nsm-1 npx tsx examples/client.ts
 * ```
 *
 * Environment (upstream's names where upstream has one):
 * - `NSM_NAME` (default `firewall`): the endpoint's name, its path segment and registration name
 * - `NSM_LISTEN_ON` (default a unix socket under the OS temp dir): where to serve
 * - `NSM_CONNECT_TO` (default `tcp://127.0.0.1:5001`, where `nsm nsmgr` listens): its manager
 * - `NSM_SERVICE_NAMES` (default `secure-intranet-connectivity`): comma-separated services it offers
 * - `NSM_PASSTHROUGH_TO` (default `icmp-responder`, this example's own): the service it requests downstream
 * - `NSM_LOG_LEVEL` (default `info`)
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChainContext,
  ChannelPool,
  type Connection,
  connectServer,
  createLogger,
  createRegistryClient,
  endpointChain,
  errorMessage,
  kernelMechanismClient,
  kernelMechanismServer,
  mechanismsServer,
  mechanismTranslationClient,
  MechanismType,
  type MonitoredChain,
  NetworkService,
  NetworkServiceEndpoint,
  type NetworkServiceHandler,
  type NetworkServiceRequest,
  type NetworkServiceServer,
  nextHopClientChain,
  parseLogLevel,
  passthroughClient,
  Payload,
  type RegistryClient,
  runMain,
  securityFromEnv,
  type Security,
  serveEndpoint,
  stopOnSignals,
  type TokenGenerator,
  vxlanMechanismServer,
} from 'nsm-sdk';

/** The firewall's configuration. */
export interface FirewallConfig {
  /** Its name: path segment and registration name. */
  readonly name: string;
  /** Where it serves. */
  readonly listenOn: string;
  /** Its manager's URL: it registers there and requests the downstream service from it. */
  readonly connectTo: string;
  /** The services it offers. */
  readonly serviceNames: readonly string[];
  /** The service it requests downstream for each connection. */
  readonly passthroughTo: string;
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Reads the configuration from the environment. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): FirewallConfig {
  const name = env['NSM_NAME'] ?? 'firewall';
  return {
    name,
    listenOn: env['NSM_LISTEN_ON'] ?? `unix://${join(tmpdir(), 'nsm', `${name}.sock`)}`,
    connectTo: env['NSM_CONNECT_TO'] ?? 'tcp://127.0.0.1:5001',
    serviceNames: list(env['NSM_SERVICE_NAMES'] ?? 'secure-intranet-connectivity'),
    passthroughTo: env['NSM_PASSTHROUGH_TO'] ?? 'icmp-responder',
  };
}

/** One event the `logging` element passed on. */
export interface LoggedEvent {
  readonly event: 'request' | 'close';
  /** The connection id at this hop. */
  readonly id: string;
  readonly networkService: string;
  /** The name of the hop that sent it (the previous path segment). */
  readonly from: string;
}

/**
 * `logging`: an element of this example's own. It logs each Request and Close it passes on, keeps a record
 * of them (for tests and metrics), and drops nothing: every event goes on to `next` unchanged.
 */
export class LoggingServer implements NetworkServiceServer {
  readonly name = 'logging';
  /** What it passed on, in order. */
  readonly events: LoggedEvent[] = [];

  /** How many Requests it passed on (refreshes included). */
  get requests(): number {
    return this.events.filter((e) => e.event === 'request').length;
  }

  /** How many Closes it passed on. */
  get closes(): number {
    return this.events.filter((e) => e.event === 'close').length;
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const event = this.record('request', request.connection);
    ctx.logger.info(`${this.name}: Request ${event.id} for ${event.networkService} from ${event.from}`);
    try {
      const conn = await next.request(request, ctx);
      ctx.logger.info(`${this.name}: Request ${event.id} passed`, { path: conn.path?.pathSegments.map((s) => s.name) });
      return conn;
    } catch (error) {
      ctx.logger.warn(`${this.name}: Request ${event.id} failed downstream`, { error: errorMessage(error) });
      throw error;
    }
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const event = this.record('close', connection);
    ctx.logger.info(`${this.name}: Close ${event.id} for ${event.networkService} from ${event.from}`);
    return next.close(connection, ctx);
  }

  private record(type: LoggedEvent['event'], conn: Connection | undefined): LoggedEvent {
    const path = conn?.path;
    const event: LoggedEvent = {
      event: type,
      id: conn?.id ?? '',
      networkService: conn?.networkService ?? '',
      from: path?.pathSegments[path.index - 1]?.name ?? '',
    };
    this.events.push(event);
    return event;
  }
}

/** Options of {@link firewallChain} and {@link startFirewall}. */
export interface FirewallOptions {
  /** The `logging` element to use (pass your own to look at what it recorded); default a fresh one. */
  readonly logging?: LoggingServer;
  /** Mints the firewall's tokens (server and client side); default the security's. */
  readonly tokenGenerator?: TokenGenerator;
  /**
   * The firewall's identity and policies (one for its server and client sides: one workload, one SPIFFE
   * ID), e.g. from `securityFromEnv`. Without it the firewall runs insecure.
   */
  readonly security?: Security;
  /** The firewall's lifetime: when it ends, the chain's timers stop. */
  readonly signal?: AbortSignal;
  /** Records the channels the firewall opens, so stopping it can close any left over. */
  readonly channels?: ChannelPool;
}

/**
 * The firewall's chain: the common endpoint chain, `logging`, the mechanisms it accepts from its
 * forwarder, then `connect` with a client chain that requests `config.passthroughTo` from its manager.
 */
export function firewallChain(config: FirewallConfig, options: FirewallOptions = {}): MonitoredChain {
  const tokens = {
    ...(options.tokenGenerator === undefined ? {} : { tokenGenerator: options.tokenGenerator }),
    ...(options.security === undefined ? {} : { security: options.security }),
  };
  return endpointChain({
    name: config.name,
    ...tokens,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    additionalFunctionality: [
      options.logging ?? new LoggingServer(),
      // KERNEL from a forwarder on this node (unix socket), VXLAN from one that reaches it over TCP.
      mechanismsServer({ [MechanismType.KERNEL]: kernelMechanismServer(), [MechanismType.VXLAN]: vxlanMechanismServer({ dstIP: '127.0.0.1' }) }),
      connectServer(
        // No refresh or heal of its own: the client at the start of the path refreshes and heals it all.
        // Its own name: the client side continues the firewall's path segment, signing it for the manager.
        nextHopClientChain({
          name: config.name,
          connectTo: config.connectTo,
          ...tokens,
          ...(options.channels === undefined ? {} : { dialOptions: { pool: options.channels } }),
          additionalFunctionality: [
            passthroughClient({ networkService: config.passthroughTo }),
            mechanismTranslationClient(),
            kernelMechanismClient(),
          ],
        }),
      ),
    ],
  });
}

/** A running firewall. */
export interface RunningFirewall {
  readonly name: string;
  /** Where it serves. */
  readonly url: string;
  /** Its `logging` element: what it passed on. */
  readonly logging: LoggingServer;
  /** The registry client that keeps its registration alive. */
  readonly registry: RegistryClient;
  /** Closes the connections it holds, unregisters, stops serving. */
  stop(): Promise<void>;
}

/**
 * Serves the firewall on `config.listenOn`, then registers its NetworkServices and itself at its manager
 * (`config.connectTo`), as `nsm nse` does; the registry client refreshes the registration and registers
 * again if the manager or the registry restarts. `stop()` undoes it all.
 */
export async function startFirewall(
  config: FirewallConfig,
  options: Omit<FirewallOptions, 'signal' | 'channels'> & { readonly ctx?: ChainContext } = {},
): Promise<RunningFirewall> {
  const ctx = options.ctx ?? ChainContext.background();
  const logging = options.logging ?? new LoggingServer();
  const lifetime = new AbortController();
  const channels = new ChannelPool();
  const chain = firewallChain(config, { ...options, logging, signal: lifetime.signal, channels });
  const security = options.security === undefined ? {} : { security: options.security };
  const served = await serveEndpoint(config.listenOn, chain, { ctx, ...security });
  const registry = createRegistryClient({ connectTo: config.connectTo, ctx, chain: { dialOptions: { pool: channels }, name: config.name, ...security } });
  const release = (): void => {
    lifetime.abort(new Error(`firewall ${config.name} stopped`));
    channels.closeAll();
  };
  try {
    for (const service of config.serviceNames) {
      await registry.registerService(NetworkService.fromPartial({ name: service, payload: Payload.IP }));
    }
    await registry.registerEndpoint(
      NetworkServiceEndpoint.fromPartial({
        name: config.name,
        url: served.url,
        networkServiceNames: [...config.serviceNames],
        networkServiceLabels: Object.fromEntries(config.serviceNames.map((s) => [s, { labels: {} }])),
      }),
    );
  } catch (error) {
    registry.abandon();
    await served.stop();
    release();
    throw new Error(`cannot register at ${config.connectTo}: ${errorMessage(error)}`, { cause: error });
  }
  return {
    name: config.name,
    url: served.url,
    logging,
    registry,
    stop: async () => {
      // Close what it holds first (the Closes travel downstream), then unregister.
      await served.stop();
      await registry.close({ timeoutMs: 3000 });
      release();
    },
  };
}

async function main(): Promise<void> {
  const logger = createLogger(parseLogLevel(process.env['NSM_LOG_LEVEL'] ?? 'info'));
  const config = configFromEnv();
  // SPIFFE_ENDPOINT_SOCKET, NSM_SVID_DIR, NSM_TRUST_DOMAIN_DIR or NSM_INSECURE=true, as `nsm` roles.
  const identity = await securityFromEnv(process.env, { role: 'nse', name: config.name });
  const firewall = await startFirewall(config, { ctx: ChainContext.background({ logger }), security: identity.security });
  process.stdout.write(`${config.name} ready on ${firewall.url} as ${identity.security.spiffeId() ?? 'an insecure workload'}, serving ${config.serviceNames.join(', ')} through ${config.passthroughTo}\n`);
  stopOnSignals(async () => {
    await firewall.stop();
    identity.close();
  });
}

runMain(import.meta.url, 'firewall', main);
