/**
 * `RegistryClient`: the registry for application code. Registrations are refreshed and healed in the
 * background until unregistered or until the client is closed; finds are Promises of arrays, watches
 * are Observables.
 * @module
 */
import type { Observable } from 'rxjs';
import {
  NetworkService,
  NetworkServiceEndpoint,
  type NetworkServiceEndpointQuery,
  type NetworkServiceQuery,
} from '../../../api/gen/registry.js';
import { ChainContext } from '../../../networkservice/core/context.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import type { FindResult } from '../../core/types.js';
import { findAll } from '../../core/find.js';
import { nseRegistryClientChain, nsRegistryClientChain, type RegistryClientChain, type RegistryClientChainOptions } from './chain.js';

/** Options of a single registry call. */
export interface RegistryCallOptions {
  /** Time limit (ms); default 15000. */
  readonly timeoutMs?: number;
  /** Aborting it cancels the call. */
  readonly signal?: AbortSignal;
}

/** Options of {@link createRegistryClient}. */
export interface RegistryClientOptions {
  /** The registry (or manager) URL. */
  readonly connectTo: string;
  /** The context the chains run in (clock, logger). */
  readonly ctx?: ChainContext;
  /** Passed to both chains (minus `additionalFunctionality`). */
  readonly chain?: Omit<RegistryClientChainOptions<never, never>, 'connectTo' | 'additionalFunctionality' | 'signal'>;
}

async function run<T>(base: ChainContext, options: RegistryCallOptions, call: (ctx: ChainContext) => Promise<T>): Promise<T> {
  const [timed, cancel] = base.withCancel(options.timeoutMs ?? 15_000);
  const signal = options.signal;
  const onAbort = (): void => cancel(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await call(timed);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    cancel();
  }
}

/** A registry client: both registries behind one URL. */
export class RegistryClient {
  /** The NetworkServiceEndpoint registry client chain. */
  readonly nse: RegistryClientChain<NetworkServiceEndpoint, NetworkServiceEndpointQuery>;
  /** The NetworkService registry client chain. */
  readonly ns: RegistryClientChain<NetworkService, NetworkServiceQuery>;
  private readonly ctx: ChainContext;
  private readonly registered = new Map<string, NetworkServiceEndpoint>();
  private readonly services = new Map<string, NetworkService>();
  /** The chains' lifetime, ended by {@link close}. */
  private readonly lifetime = new AbortController();

  constructor(options: RegistryClientOptions) {
    this.ctx = options.ctx ?? ChainContext.background();
    const chain = { ...options.chain, connectTo: options.connectTo, signal: this.lifetime.signal };
    this.nse = nseRegistryClientChain(chain);
    this.ns = nsRegistryClientChain(chain);
  }

  /** Registers an endpoint (kept alive until {@link unregisterEndpoint} or {@link close}). */
  async registerEndpoint(nse: Partial<NetworkServiceEndpoint>, options: RegistryCallOptions = {}): Promise<NetworkServiceEndpoint> {
    const item = NetworkServiceEndpoint.fromPartial(nse);
    const response = await run(this.ctx, options, (ctx) => this.nse.register(item, ctx));
    this.registered.set(response.name, response);
    return response;
  }

  /** Unregisters an endpoint by name. */
  async unregisterEndpoint(name: string, options: RegistryCallOptions = {}): Promise<void> {
    const item = this.registered.get(name) ?? NetworkServiceEndpoint.create({ name });
    await run(this.ctx, options, (ctx) => this.nse.unregister(NetworkServiceEndpoint.fromPartial(item), ctx));
    this.registered.delete(name);
  }

  /** Registers a network service. */
  async registerService(ns: Partial<NetworkService>, options: RegistryCallOptions = {}): Promise<NetworkService> {
    const response = await run(this.ctx, options, (ctx) => this.ns.register(NetworkService.fromPartial(ns), ctx));
    this.services.set(response.name, response);
    return response;
  }

  /** Unregisters a network service by name. */
  async unregisterService(name: string, options: RegistryCallOptions = {}): Promise<void> {
    await run(this.ctx, options, (ctx) => this.ns.unregister(NetworkService.create({ name }), ctx));
    this.services.delete(name);
  }

  /** The endpoints matching `filter` now. */
  findEndpoints(filter: Partial<NetworkServiceEndpoint>, options: RegistryCallOptions = {}): Promise<NetworkServiceEndpoint[]> {
    const query = { networkServiceEndpoint: NetworkServiceEndpoint.fromPartial(filter), watch: false };
    return run(this.ctx, options, (ctx) => findAll(this.nse.find(query, ctx)));
  }

  /** The network services matching `filter` now. */
  findServices(filter: Partial<NetworkService>, options: RegistryCallOptions = {}): Promise<NetworkService[]> {
    const query = { networkService: NetworkService.fromPartial(filter), watch: false };
    return run(this.ctx, options, (ctx) => findAll(this.ns.find(query, ctx)));
  }

  /** The endpoints matching `filter`, then every change, until unsubscribed (reconnecting as needed). */
  watchEndpoints(filter: Partial<NetworkServiceEndpoint>): Observable<FindResult<NetworkServiceEndpoint>> {
    return this.nse.find({ networkServiceEndpoint: NetworkServiceEndpoint.fromPartial(filter), watch: true }, this.ctx);
  }

  /** The network services matching `filter`, then every change, until unsubscribed. */
  watchServices(filter: Partial<NetworkService>): Observable<FindResult<NetworkService>> {
    return this.ns.find({ networkService: NetworkService.fromPartial(filter), watch: true }, this.ctx);
  }

  /**
   * Unregisters every endpoint registered through this client (best effort), then stops everything the
   * client does in the background: refresh and heal of every registration, and open watches (they
   * complete). Network services stay registered: other endpoints may offer them too.
   * Endpoints are unregistered at most 64 at a time: each one also cancels its heal watch, and a burst of
   * a thousand stream resets on one connection trips HTTP/2 rapid-reset protection on the registry's side.
   */
  async close(options: RegistryCallOptions = {}): Promise<void> {
    const names = [...this.registered.keys()];
    const worker = async (): Promise<void> => {
      for (let name = names.pop(); name !== undefined; name = names.pop()) {
        await this.unregisterEndpoint(name, { timeoutMs: options.timeoutMs ?? 5000 }).catch((error: unknown) => {
          this.ctx.logger.warn('unregistering on close failed', { name, error: errorMessage(error) });
          this.registered.delete(name);
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(64, names.length) }, worker));
    this.abandon();
  }

  /**
   * Stops everything the client does in the background without unregistering anything: its
   * registrations expire in the registry. What a crash leaves behind, for tests that simulate one.
   */
  abandon(): void {
    this.registered.clear();
    this.services.clear();
    this.lifetime.abort(new Error('the registry client is closed'));
  }
}

/** Creates a {@link RegistryClient}. */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  return new RegistryClient(options);
}
