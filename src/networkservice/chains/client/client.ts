import { filter, map, takeWhile, type Observable } from 'rxjs';
import { Connection, ConnectionEventType, type ConnectionEvent, MonitorScopeSelector, type DeepPartial as DeepPartialOf } from '../../../api/gen/connection.js';
import { NetworkServiceRequest, type DeepPartial } from '../../../api/gen/networkservice.js';
import { ChainContext } from '../../core/context.js';
import { namedChain, type NetworkServiceChain } from '../../core/chain.js';
import { retryClient, type RetryClientOptions } from '../../common/retry/index.js';
import { ConnectionMonitor } from '../../common/monitor/index.js';
import type { HealOptions } from '../../common/heal/index.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import { clientChain, type ClientOptions } from './chain.js';

/** Per-call options of {@link NsmClient}. */
export interface RequestOptions {
  /** Give up after this many milliseconds (default 15000). */
  readonly timeoutMs?: number;
  /** Cancel the call. */
  readonly signal?: AbortSignal;
}

/** Options of {@link NsmClient}: those of the client chain, with heal on by default. */
export interface NsmClientOptions extends Omit<ClientOptions, 'monitor'> {
  /** The context calls derive from (clock, logger). */
  readonly ctx?: ChainContext;
  /** Heal options; `false` turns healing off. Default: heal, without a data-plane liveness check. */
  readonly heal?: HealOptions | false;
  /**
   * Retry a Request (and a Close) that fails, for instance while the manager is not up yet, within the
   * call's timeout. Off by default: the first failure is returned.
   */
  readonly retry?: RetryClientOptions;
}

/**
 * An NSM client for applications: request a network service from a manager (or directly from an
 * endpoint), keep it healed, watch it, and close it.
 *
 * ```ts
 * const client = createClient({ connectTo: 'unix:///var/lib/networkservicemesh/nsm.io.sock' });
 * const conn = await client.request({ connection: { networkService: 'icmp-responder' }, mechanismPreferences: [kernel] });
 * client.watch(conn).subscribe((c) => console.log(State[c.state], c.path?.pathSegments.map((s) => s.name)));
 * await client.close(conn);
 * ```
 */
export class NsmClient {
  /** The client chain its requests and closes go through (with `retry` in front when asked for). */
  readonly chain: NetworkServiceChain;
  /** The client's connections and their events (UPDATE on request, refresh and heal; DOWN while healing; DELETE). */
  readonly monitor = new ConnectionMonitor();
  private readonly ctx: ChainContext;
  private readonly lifetime = new AbortController();

  constructor(options: NsmClientOptions = {}) {
    const heal = options.heal === false ? false : { ...options.heal, signal: this.lifetime.signal };
    const inner = clientChain({ ...options, heal, monitor: this.monitor });
    this.chain = options.retry === undefined ? inner : namedChain('client+retry', [retryClient(options.retry), inner]);
    this.ctx = options.ctx ?? ChainContext.background();
  }

  /** Requests (or, with a connection returned before, refreshes) a connection. */
  async request(request: DeepPartial<NetworkServiceRequest>, options: RequestOptions = {}): Promise<Connection> {
    return this.run(options, (ctx) => this.chain.request(NetworkServiceRequest.fromPartial(request), ctx));
  }

  /** Closes a connection returned by {@link request}; healing and refreshing it stop. */
  async close(connection: DeepPartial<Connection>, options: RequestOptions = {}): Promise<void> {
    return this.run(options, (ctx) => this.chain.close(Connection.fromPartial(connection), ctx));
  }

  /** Events about this client's connections, starting with the current ones (INITIAL_STATE_TRANSFER). */
  events(selector?: DeepPartialOf<MonitorScopeSelector>): Observable<ConnectionEvent> {
    return this.monitor.events(selector === undefined ? undefined : MonitorScopeSelector.fromPartial(selector));
  }

  /**
   * One connection as it changes: the current state first, then each new version (refreshed, DOWN while
   * healing, UP on the new path after a heal); completes when it is closed.
   */
  watch(connection: Pick<Connection, 'id'>): Observable<Connection> {
    return this.monitor.events().pipe(
      takeWhile((event) => !(event.type === ConnectionEventType.DELETE && connection.id in event.connections)),
      map((event) => event.connections[connection.id]),
      filter((conn): conn is Connection => conn !== undefined),
    );
  }

  /** The connections held now. */
  connections(): Connection[] {
    return this.monitor.list();
  }

  /** Closes every connection still held (best effort), then stops all background work (heal). */
  async dispose(options: RequestOptions = {}): Promise<void> {
    await Promise.all(
      this.connections().map((conn) =>
        this.close(conn, { timeoutMs: options.timeoutMs ?? 2000 }).catch((error: unknown) =>
          this.ctx.logger.warn('closing a connection on dispose failed', { id: conn.id, error: errorMessage(error) }),
        ),
      ),
    );
    this.lifetime.abort(new Error('client disposed'));
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
export function createClient(options: NsmClientOptions = {}): NsmClient {
  return new NsmClient(options);
}
