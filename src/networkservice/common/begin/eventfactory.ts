import { type Connection, State } from '../../../api/gen/connection.js';
import { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { Route } from '../../../api/gen/connectioncontext.js';
import { ContextKey, type ChainContext } from '../../core/context.js';
import { ON_CLOSED_BY_CHAIN } from '../../core/serve.js';
import type { NetworkServiceHandler } from '../../core/types.js';
import { SerialExecutor } from '../../../tools/serial/index.js';
import { statusError, status, errorMessage } from '../../../tools/grpc/status.js';

/** Options of an event re-run through the chain. */
export interface EventOptions {
  /**
   * Close the current path first, forget the mechanism, the endpoint and the addresses it gave, mark the
   * connection RESELECT_REQUESTED and request again, so discovery picks a (possibly new) endpoint.
   */
  readonly reselect?: boolean;
  /** The context to run in; defaults to a detached copy of the last request's context. */
  readonly ctx?: ChainContext;
  /** Cancels the event (for example when whoever started it gives up or the connection closes). */
  readonly signal?: AbortSignal;
  /** Gives the event this long (ms). */
  readonly timeoutMs?: number;
}

/** How long closing the old path before a reselect may take (ms): it is best effort, the old path may be gone. */
const RESELECT_CLOSE_TIMEOUT_MS = 2000;

function eventContext(from: ChainContext, options: EventOptions): [ChainContext, () => void] {
  const base = from.withValue(LOCAL_EVENT, true);
  const withSignal = options.signal === undefined ? base : base.withSignal(options.signal);
  if (options.timeoutMs === undefined && options.signal === undefined) return [base, () => undefined];
  return withSignal.withCancel(options.timeoutMs);
}

/**
 * Re-runs events of one connection from the `begin` that owns it, later and from anywhere
 * (refresh timers, timeouts, heal, monitors). Events go through the same per-connection queue as calls
 * from the peer, so they never overlap with them.
 */
export interface EventFactory {
  /** The connection id this factory belongs to (at this hop). */
  readonly id: string;
  /** Requests again with the last successful request. Rejects if the connection is not established. */
  request(options?: EventOptions): Promise<Connection>;
  /** Closes the connection as the peer's Close would. Does nothing if it is not established. */
  close(options?: Omit<EventOptions, 'reselect'>): Promise<void>;
}

const EVENT_FACTORY = new ContextKey<EventFactory>('begin.eventFactory');
const RESELECT_CLOSE = new ContextKey<boolean>('begin.reselectClose');
const LOCAL_EVENT = new ContextKey<boolean>('begin.localEvent');

/**
 * True in a Request or Close that this role's own `begin` runs (a refresh, a timeout, a heal), not one a
 * peer sent: `authorize` does not judge those again, since nobody new asks for anything, and a timeout's
 * Close must go through even though the tokens it carries have just expired (upstream sdk#1512).
 */
export function isLocalEvent(ctx: ChainContext): boolean {
  return ctx.value(LOCAL_EVENT) === true;
}

/**
 * True in the Close that a reselect sends down the old path before requesting again: the connection
 * goes on (elements that watch or report it keep it), only its old path is released.
 */
export function isReselectClose(ctx: ChainContext): boolean {
  return ctx.value(RESELECT_CLOSE) === true;
}

/** The event factory of the connection being processed, set by `begin` for the elements after it. */
export function eventFactoryFrom(ctx: ChainContext): EventFactory | undefined {
  return ctx.value(EVENT_FACTORY);
}

/** The addresses and routes a caller asked for itself. */
export interface AskedAddresses {
  /** Source (client side) addresses. */
  readonly srcIpAddrs: readonly string[];
  /** Destination (endpoint side) addresses. */
  readonly dstIpAddrs: readonly string[];
  /** Source routes. */
  readonly srcRoutes: readonly Route[];
  /** Destination routes. */
  readonly dstRoutes: readonly Route[];
}

/** Where a connection is in its life at this hop. */
export type Phase = 'initial' | 'established' | 'closed';

/** What `begin` keeps per connection: the last good request, the rest of the chain, and a queue. */
export class ConnectionState implements EventFactory {
  /** Runs this connection's calls and events one at a time, in order. */
  readonly queue = new SerialExecutor();
  /** Where the connection is in its life. */
  phase: Phase = 'initial';
  /** The last request that succeeded, with the connection it returned. */
  lastRequest: NetworkServiceRequest | undefined;
  /**
   * The connection last returned to the caller (the peer, not an event). A caller that re-requests with
   * that object has changed nothing, even if events (refresh, heal) moved the connection on since.
   */
  returned: Connection | undefined;
  /** The addresses and routes the caller's first request asked for; a reselect goes back to them. */
  asked: AskedAddresses | undefined;
  private next: NetworkServiceHandler | undefined;
  private eventCtx: ChainContext | undefined;

  constructor(
    readonly id: string,
    private readonly owner: ConnectionStates,
  ) {}

  /** True while this state is the one registered for its id (not replaced after a close). */
  get current(): boolean {
    return this.owner.get(this.id) === this;
  }

  /** `ctx` carrying this state as the connection's {@link EventFactory}, for the elements after `begin`. */
  withFactory(ctx: ChainContext): ChainContext {
    return ctx.withValue(EVENT_FACTORY, this);
  }

  /** Remembers what the caller's first request asked for (later ones carry what endpoints gave). */
  recordAsked(request: NetworkServiceRequest): void {
    if (this.phase !== 'initial' || this.asked !== undefined) return;
    const ip = request.connection?.context?.ipContext;
    this.asked = {
      srcIpAddrs: [...(ip?.srcIpAddrs ?? [])],
      dstIpAddrs: [...(ip?.dstIpAddrs ?? [])],
      srcRoutes: (ip?.srcRoutes ?? []).map((r) => Route.fromPartial(r)),
      dstRoutes: (ip?.dstRoutes ?? []).map((r) => Route.fromPartial(r)),
    };
  }

  /** Records a successful request; `toCaller` is false for events, whose result the caller never saw. */
  established(
    request: NetworkServiceRequest,
    conn: Connection,
    ctx: ChainContext,
    next: NetworkServiceHandler,
    toCaller = true,
  ): void {
    this.lastRequest = NetworkServiceRequest.fromPartial({ ...request, connection: conn });
    if (toCaller) this.returned = NetworkServiceRequest.fromPartial({ connection: conn }).connection;
    this.phase = 'established';
    this.next = next;
    this.eventCtx = ctx.detach();
  }

  /** Records a failed request: a connection that never succeeded is forgotten. */
  failed(): void {
    if (this.phase !== 'established') this.forget();
  }

  /** Drops this connection's state. */
  forget(): void {
    this.phase = 'closed';
    this.lastRequest = undefined;
    this.returned = undefined;
    this.asked = undefined;
    this.next = undefined;
    this.eventCtx = undefined;
    this.owner.remove(this);
  }

  /** Closes the old path for a reselect; failures are logged, not fatal (the old path may be gone). */
  async closeForReselect(ctx: ChainContext): Promise<void> {
    if (this.phase !== 'established' || this.lastRequest?.connection === undefined || this.next === undefined) return;
    const [closeCtx, cancel] = ctx.withCancel(RESELECT_CLOSE_TIMEOUT_MS);
    try {
      await this.next.close(this.lastRequest.connection, this.withFactory(closeCtx.withValue(RESELECT_CLOSE, true)));
    } catch (error) {
      ctx.logger.warn('begin: closing the old path before reselect failed', { id: this.id, error: errorMessage(error) });
    } finally {
      cancel();
    }
  }

  request(options: EventOptions = {}): Promise<Connection> {
    return this.queue.run(async () => {
      const next = this.next;
      const stored = this.lastRequest;
      if (this.phase !== 'established' || !this.current || next === undefined || stored?.connection === undefined) {
        throw statusError(status.FAILED_PRECONDITION, `begin: connection ${this.id} is not established`);
      }
      const [eventCtx, cancel] = eventContext(options.ctx ?? this.eventCtx ?? this.owner.background, options);
      try {
        return await this.runRequest(next, stored, eventCtx, options.reselect === true);
      } finally {
        cancel();
      }
    });
  }

  private async runRequest(
    next: NetworkServiceHandler,
    stored: NetworkServiceRequest,
    eventCtx: ChainContext,
    reselect: boolean,
  ): Promise<Connection> {
    const request = NetworkServiceRequest.fromPartial(stored);
    if (reselect) {
      await this.closeForReselect(eventCtx);
      const conn = request.connection;
      if (conn !== undefined) {
        conn.mechanism = undefined;
        conn.networkServiceEndpointName = '';
        conn.state = State.RESELECT_REQUESTED;
        // Addresses and routes were the old endpoint's to give, except those the caller asked for in
        // its first request (upstream sdk#1582): those go back to what was asked; the rest of the IP
        // context the client asked for (excluded prefixes, DNS, extra prefixes) stays as it is.
        const ip = conn.context?.ipContext;
        if (ip !== undefined) {
          const asked = this.asked;
          ip.srcIpAddrs = [...(asked?.srcIpAddrs ?? [])];
          ip.dstIpAddrs = [...(asked?.dstIpAddrs ?? [])];
          ip.srcRoutes = (asked?.srcRoutes ?? []).map((r) => Route.fromPartial(r));
          ip.dstRoutes = (asked?.dstRoutes ?? []).map((r) => Route.fromPartial(r));
        }
      }
      // The old path is gone: a later retry or refresh must reselect too, not revive it.
      this.lastRequest = request;
    }
    // A failed event keeps the connection: the caller (refresh, heal) decides whether to retry.
    const conn = await next.request(request, this.withFactory(eventCtx));
    // The stored context stays the long-lived one: this event's may carry a deadline or a signal.
    this.established(request, conn, this.eventCtx ?? eventCtx.detach(), next, false);
    return conn;
  }

  close(options: Omit<EventOptions, 'reselect'> = {}): Promise<void> {
    return this.queue.run(async () => {
      const next = this.next;
      const conn = this.lastRequest?.connection;
      if (this.phase !== 'established' || !this.current || next === undefined || conn === undefined) return;
      const [ctx, cancel] = eventContext(options.ctx ?? this.eventCtx ?? this.owner.background, options);
      try {
        await next.close(conn, this.withFactory(ctx));
      } finally {
        cancel();
        this.forget();
        // The server that returned this connection to the peer stops holding it.
        ctx.value(ON_CLOSED_BY_CHAIN)?.();
      }
    });
  }
}

/** The per-id registry of connection states of one `begin` element. */
export class ConnectionStates {
  private readonly states = new Map<string, ConnectionState>();

  /** Context for events when none was recorded (never used for an established connection). */
  readonly background: ChainContext;

  constructor(background: ChainContext) {
    this.background = background;
  }

  /** The state of connection `id`, if there is one. */
  get(id: string): ConnectionState | undefined {
    return this.states.get(id);
  }

  /** The state of connection `id`, made in the `initial` phase when there is none. */
  getOrCreate(id: string): ConnectionState {
    let state = this.states.get(id);
    if (state === undefined) {
      state = new ConnectionState(id, this);
      this.states.set(id, state);
    }
    return state;
  }

  /** Drops `state`, unless another state has replaced it for its id. */
  remove(state: ConnectionState): void {
    if (this.states.get(state.id) === state) this.states.delete(state.id);
  }

  /** How many connections have a state. */
  get size(): number {
    return this.states.size;
  }
}
