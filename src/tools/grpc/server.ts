/**
 * A gRPC server on one or more NSM addresses (`unix:///path`, `tcp://host:port`, `tcp://:port`) with the
 * health service, and a graceful stop: registered stop hooks run first (a NetworkService closes every
 * connection it holds), then the server drains, and its unix socket files are removed.
 * @module
 */
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type NsmAddress, listenTargets, parseAddress, publishedAddress, withPort } from './address.js';
import { HealthRegistry, ServingStatus } from './health.js';
import type { Security } from '../security/index.js';
import { svidServerInterceptor } from '../spiffe/tls.js';

/** Options for {@link GrpcServer}. */
export interface GrpcServerOptions {
  /** Server credentials; insecure by default. Ignored when {@link GrpcServerOptions.security} is given. */
  readonly credentials?: ServerCredentials;
  /**
   * The role's security: with mTLS, the server presents the role's SVID, requires the client's, and
   * refuses (UNAUTHENTICATED) every call whose peer is not an SVID of a trusted domain.
   */
  readonly security?: Security;
  /** How long `stop` waits for calls to drain before it forces them closed (ms). */
  readonly drainTimeoutMs?: number;
  /**
   * The host {@link GrpcServer.url} names when the first address listens on every interface
   * (`tcp://:5001`, `tcp://0.0.0.0:5001`): peers cannot dial "every interface", and a role publishes
   * its URL. Without it the URL stays as given.
   */
  readonly publicHost?: string;
}

/** Work run at the start of {@link GrpcServer.stop}. */
export type StopHook = () => Promise<void>;

/**
 * A grpc-js server on `unix://` and `tcp://` addresses (call {@link listen} once per address), with gRPC
 * health, stop hooks (run before draining, so roles can close what they hold), a bounded drain on `stop()`,
 * and `kill()` for a crash in tests.
 */
export class GrpcServer {
  /** The underlying grpc-js server, for adding services. */
  readonly server: Server;
  /** The `grpc.health.v1.Health` statuses this server reports. */
  readonly health = new HealthRegistry();
  private readonly stopHooks: StopHook[] = [];
  private readonly bound: NsmAddress[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: GrpcServerOptions = {}) {
    const peers = options.security?.peers;
    this.server = new Server(peers === undefined ? {} : { interceptors: [svidServerInterceptor(peers)] });
    const health = this.health.service();
    this.server.addService(health.definition, health.implementation);
  }

  /** The role's security this server runs with, if it was given one (services read their policies from it). */
  get security(): Security | undefined {
    return this.options.security;
  }

  /** Adds a service; its name (e.g. `networkservice.NetworkService`) is reported SERVING by health. */
  addService(name: string, definition: ServiceDefinition, implementation: UntypedServiceImplementation): this {
    this.server.addService(definition, implementation);
    this.health.set(name, ServingStatus.SERVING);
    return this;
  }

  /** Runs `hook` at the start of {@link stop}, before the server drains. */
  onStop(hook: StopHook): this {
    this.stopHooks.push(hook);
    return this;
  }

  /** The first address the server listens on (with the real port when it was bound to port 0). */
  get address(): NsmAddress {
    const first = this.bound[0];
    if (first === undefined) throw new Error('server is not listening');
    return first;
  }

  /** Every address the server listens on, in the order they were bound. */
  get addresses(): readonly NsmAddress[] {
    return [...this.bound];
  }

  /**
   * The first address as a URL string: the one peers are told to dial. On an every-interface address it
   * names {@link GrpcServerOptions.publicHost} when one is given.
   */
  get url(): string {
    return publishedAddress(this.address, this.options.publicHost).url;
  }

  /**
   * Binds to `url`; called again, binds another address too (the server then serves on all of them). A
   * stale unix socket file is replaced; its directory is created.
   */
  async listen(url: string): Promise<this> {
    const address = parseAddress(url);
    if (address.kind === 'unix') {
      await mkdir(dirname(address.path), { recursive: true });
      const existing = await stat(address.path).catch(() => undefined);
      if (existing?.isSocket() === true) await rm(address.path, { force: true });
    }
    // A server that listened before its first SVID would accept connections and drop them mid-handshake:
    // clients would see a broken TLS connection rather than a server that is not there yet.
    await this.options.security?.source?.ready();
    const credentials = this.options.security?.serverCredentials() ?? this.options.credentials ?? ServerCredentials.createInsecure();
    const bind = (target: string): Promise<number> =>
      new Promise<number>((resolve, reject) => {
        this.server.bindAsync(target, credentials, (error, p) => (error === null ? resolve(p) : reject(error)));
      });
    let port: number | undefined;
    let failure: unknown;
    // Several targets only for `tcp://:port`: IPv6's any address first, IPv4's where there is no IPv6.
    for (const target of listenTargets(address)) {
      try {
        port = await bind(target);
        break;
      } catch (error) {
        failure = error;
      }
    }
    if (port === undefined) throw new Error(`cannot listen on ${address.url}: ${failure instanceof Error ? failure.message : String(failure)}`);
    this.bound.push(withPort(address, port));
    return this;
  }

  /**
   * Stops: runs stop hooks (errors are collected, not fatal), marks health NOT_SERVING, drains calls for
   * up to `drainTimeoutMs` and then forces the rest closed, and removes the unix socket file.
   * Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /**
   * Stops at once, as a crash would: no stop hooks, no draining; open calls fail on the peer's side.
   * For tests that kill a server and start another on the same address.
   */
  async kill(): Promise<void> {
    this.stopping ??= (async () => {
      this.health.shutdown();
      this.server.forceShutdown();
      await this.removeSocketFiles();
    })();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    for (const hook of this.stopHooks) {
      await hook().catch(() => undefined);
    }
    this.health.shutdown();
    const drainMs = this.options.drainTimeoutMs ?? 5000;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, drainMs);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await this.removeSocketFiles();
  }

  private async removeSocketFiles(): Promise<void> {
    for (const address of this.bound) if (address.kind === 'unix') await rm(address.path, { force: true });
  }
}

/** Creates a server, lets `setup` add services, and listens on `url`. */
export async function serve(url: string, setup: (server: GrpcServer) => void, options: GrpcServerOptions = {}): Promise<GrpcServer> {
  const server = new GrpcServer(options);
  setup(server);
  return server.listen(url);
}
