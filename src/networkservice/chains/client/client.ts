import { Connection } from '../../../api/gen/connection.js';
import { NetworkServiceRequest, type DeepPartial } from '../../../api/gen/networkservice.js';
import { ChainContext } from '../../core/context.js';
import type { NetworkServiceChain } from '../../core/chain.js';
import { clientChain, type ClientOptions } from './chain.js';

/** Per-call options of {@link NsmClient}. */
export interface RequestOptions {
  /** Give up after this many milliseconds (default 15000). */
  readonly timeoutMs?: number;
  /** Cancel the call. */
  readonly signal?: AbortSignal;
}

/**
 * An NSM client for applications: request a network service from a manager (or directly from an
 * endpoint), refresh it by requesting again with the returned connection, and close it.
 *
 * ```ts
 * const client = createClient({ connectTo: 'unix:///var/lib/networkservicemesh/nsm.io.sock' });
 * const conn = await client.request({ connection: { networkService: 'icmp-responder' }, mechanismPreferences: [kernel] });
 * await client.close(conn);
 * ```
 */
export class NsmClient {
  readonly chain: NetworkServiceChain;
  private readonly ctx: ChainContext;

  constructor(options: ClientOptions & { readonly ctx?: ChainContext } = {}) {
    this.chain = clientChain(options);
    this.ctx = options.ctx ?? ChainContext.background();
  }

  /** Requests (or, with a connection returned before, refreshes) a connection. */
  async request(request: DeepPartial<NetworkServiceRequest>, options: RequestOptions = {}): Promise<Connection> {
    return this.run(options, (ctx) => this.chain.request(NetworkServiceRequest.fromPartial(request), ctx));
  }

  /** Closes a connection returned by {@link request}. */
  async close(connection: DeepPartial<Connection>, options: RequestOptions = {}): Promise<void> {
    return this.run(options, (ctx) => this.chain.close(Connection.fromPartial(connection), ctx));
  }

  private async run<T>(options: RequestOptions, call: (ctx: ChainContext) => Promise<T>): Promise<T> {
    let ctx = this.ctx;
    if (options.signal !== undefined) ctx = ctx.withSignal(options.signal);
    const [callCtx, cancel] = ctx.withCancel(options.timeoutMs ?? 15000);
    try {
      return await call(callCtx);
    } finally {
      cancel();
    }
  }
}

/** Creates an {@link NsmClient}. */
export function createClient(options: ClientOptions & { readonly ctx?: ChainContext } = {}): NsmClient {
  return new NsmClient(options);
}
