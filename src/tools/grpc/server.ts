/**
 * A gRPC server on an NSM address (`unix:///path` or `tcp://host:port`) with the health service, and a
 * graceful stop: registered stop hooks run first (a NetworkService closes every connection it holds),
 * then the server drains, and a unix socket file is removed.
 * @module
 */
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type NsmAddress, grpcTarget, parseAddress, withPort } from './address.js';
import { HealthRegistry, ServingStatus } from './health.js';

/** Options for {@link GrpcServer}. */
export interface GrpcServerOptions {
  /** Server credentials; insecure by default (mTLS comes through here, not through other code paths). */
  readonly credentials?: ServerCredentials;
  /** How long `stop` waits for calls to drain before it forces them closed (ms). */
  readonly drainTimeoutMs?: number;
}

/** Work run at the start of {@link GrpcServer.stop}. */
export type StopHook = () => Promise<void>;

/**
 * A grpc-js server on one `unix://` or `tcp://` address, with gRPC health, stop hooks (run before draining,
 * so roles can close what they hold), a bounded drain on `stop()`, and `kill()` for a crash in tests.
 */
export class GrpcServer {
  /** The underlying grpc-js server, for adding services. */
  readonly server = new Server();
  /** The `grpc.health.v1.Health` statuses this server reports. */
  readonly health = new HealthRegistry();
  private readonly stopHooks: StopHook[] = [];
  private bound: NsmAddress | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: GrpcServerOptions = {}) {
    const health = this.health.service();
    this.server.addService(health.definition, health.implementation);
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

  /** The address the server listens on (with the real port when it was bound to port 0). */
  get address(): NsmAddress {
    if (this.bound === undefined) throw new Error('server is not listening');
    return this.bound;
  }

  /** The address as a URL string. */
  get url(): string {
    return this.address.url;
  }

  /** Binds to `url`. A stale unix socket file is replaced; its directory is created. */
  async listen(url: string): Promise<this> {
    const address = parseAddress(url);
    if (address.kind === 'unix') {
      await mkdir(dirname(address.path), { recursive: true });
      const existing = await stat(address.path).catch(() => undefined);
      if (existing?.isSocket() === true) await rm(address.path, { force: true });
    }
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(grpcTarget(address), this.options.credentials ?? ServerCredentials.createInsecure(), (error, p) =>
        error === null ? resolve(p) : reject(new Error(`cannot listen on ${address.url}: ${error.message}`)),
      );
    });
    this.bound = withPort(address, port);
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
      if (this.bound?.kind === 'unix') await rm(this.bound.path, { force: true });
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
    if (this.bound?.kind === 'unix') await rm(this.bound.path, { force: true });
  }
}

/** Creates a server, lets `setup` add services, and listens on `url`. */
export async function serve(url: string, setup: (server: GrpcServer) => void, options: GrpcServerOptions = {}): Promise<GrpcServer> {
  const server = new GrpcServer(options);
  setup(server);
  return server.listen(url);
}
