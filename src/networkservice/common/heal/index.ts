/**
 * `heal` (client): keeps a connection alive through the death of anything on its path. After each
 * successful request it watches the next hop's monitor for the connection, and, given one, runs a
 * data-plane liveness check every so often:
 * - the control plane is in trouble: the next hop reports the connection DOWN (something beyond it
 *   died), or deleted (it closed it, for instance because its endpoint no longer matches the
 *   NetworkService), or the stream to the next hop breaks (the local manager died or restarted). With a
 *   liveness check that says traffic still flows, **restore**: request again along the same path, so the
 *   connection comes back on the same endpoint and does not move (a forwarder that restarts, or is
 *   replaced, is not a reason to move). Without a liveness check, or when it fails, **reselect**: close
 *   the old path best effort, clear the mechanism and the endpoint, mark the connection
 *   RESELECT_REQUESTED and request again, so discovery picks an endpoint that works;
 * - the liveness check fails while the control plane is fine: the data plane is broken, reselect.
 * Each attempt goes through `begin`'s event factory (one at a time with the caller's own calls); failed
 * attempts are retried after a pause until one works, the connection is closed, or the chain's lifetime
 * `signal` ends. While it heals, the connection is reported DOWN to the client's monitor.
 * @module
 */
import type { Client, ServiceError } from '@grpc/grpc-js';
import { type Connection, ConnectionEventType, State } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { abortReason, type ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { sleep, type Clock, type TimerHandle } from '../../../tools/clock/index.js';
import type { Logger } from '../../../tools/log/index.js';
import { errorMessage, status } from '../../../tools/grpc/status.js';
import { eventFactoryFrom, isReselectClose, type EventFactory } from '../begin/index.js';
import { loadChannel, type HeldChannel } from '../clientconn/index.js';
import { connectionMetadata, MetadataKey } from '../metadata/index.js';
import type { ConnectionMonitor } from '../monitor/index.js';
import { ownSegmentName, watchAtPeer } from '../monitor/peer.js';

/** Tells whether traffic still flows over a connection's data plane. */
export type LivenessCheck = (conn: Connection, signal: AbortSignal) => Promise<boolean> | boolean;

/**
 * Re-establishes a connection on another endpoint. `attempt` counts from 1; the default closes the old
 * path on the first attempt (`factory.request({ reselect: true })`) and simply requests again after that.
 */
export type ReselectFunction = (factory: EventFactory, conn: Connection, attempt: number, signal: AbortSignal) => Promise<Connection>;

/** Why a heal started. */
export type HealCause = 'down' | 'deleted' | 'data plane' | 'control plane';

/** Options of {@link healClient}. */
export interface HealOptions {
  /** A data-plane liveness check; without one, a lost control plane means reselect. */
  readonly livenessCheck?: LivenessCheck;
  /** How often the liveness check runs while the connection is fine (ms); default 200. */
  readonly livenessCheckIntervalMs?: number;
  /** How long one liveness check may take before it counts as failed (ms); default 1000. */
  readonly livenessCheckTimeoutMs?: number;
  /** Pause between failed heal attempts (ms); default 100. */
  readonly retryDelayMs?: number;
  /** How long one heal attempt may take (ms); default 5000. */
  readonly attemptTimeoutMs?: number;
  /** Replaces the default reselect. */
  readonly reselect?: ReselectFunction;
  /** The chain's lifetime: aborting it stops every watch, check and heal. */
  readonly signal?: AbortSignal;
  /** The client's monitor: heal reports the connection DOWN there while it repairs it. */
  readonly monitor?: ConnectionMonitor;
  /** Called when a heal starts and when it succeeds (for logs, metrics and tests). */
  readonly onHeal?: (event: { readonly id: string; readonly cause: HealCause; readonly phase: 'start' | 'done' }) => void;
}

const HEALER = new MetadataKey<Healer>('heal.healer');

const defaultReselect: ReselectFunction = (factory, _conn, attempt, signal) => factory.request({ reselect: attempt === 1, signal });

/** What heal keeps per connection: its watch, its liveness timer and its heal loop. */
class Healer {
  private watch: { channel: Client; stop: () => void } | undefined;
  private livenessTimer: TimerHandle | undefined;
  private healing = false;
  private lastHealEnd = Number.NEGATIVE_INFINITY;
  private readonly lifetime = new AbortController();
  private conn: Connection | undefined;

  constructor(
    private readonly id: string,
    private readonly factory: EventFactory,
    private readonly options: HealOptions,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly monitor: ConnectionMonitor | undefined,
    private readonly onStop: (healer: Healer) => void,
  ) {}

  get stopped(): boolean {
    return this.lifetime.signal.aborted;
  }

  /** Watches `conn` at the next hop over `held` (keeps watching when the channel did not change). */
  established(conn: Connection, held: HeldChannel | undefined, ctx: ChainContext): void {
    this.conn = conn;
    if (this.stopped) return;
    if (this.watch !== undefined && this.watch.channel === held?.client) {
      this.scheduleLiveness();
      return;
    }
    this.stopWatching();
    if (held !== undefined) {
      const watch = { channel: held.client, stop: (): void => undefined };
      this.watch = watch;
      watch.stop = watchAtPeer(held, ownSegmentName(conn), this.id, {
        event: (theirs, type) => {
          if (type === ConnectionEventType.DELETE) this.start('deleted');
          else if (theirs.state === State.DOWN) this.start('down');
        },
        // The next hop does not know the connection it just returned: it restarted and lost it.
        missing: () => this.start('control plane'),
        broken: () => {
          if (this.watch === watch) this.watch = undefined;
          this.start('control plane');
        },
      }, ctx);
    }
    this.scheduleLiveness();
  }

  private scheduleLiveness(): void {
    const check = this.options.livenessCheck;
    if (check === undefined || this.livenessTimer !== undefined || this.stopped || this.healing) return;
    this.livenessTimer = this.clock.setTimeout(() => {
      this.livenessTimer = undefined;
      void this.alive().then((alive) => {
        if (this.stopped || this.healing) return;
        if (alive) this.scheduleLiveness();
        else this.start('data plane');
      });
    }, this.options.livenessCheckIntervalMs ?? 200);
  }

  /** Runs the liveness check; no check counts as "not known to be alive". */
  private async alive(): Promise<boolean> {
    const check = this.options.livenessCheck;
    const conn = this.conn;
    if (check === undefined || conn === undefined) return false;
    const controller = new AbortController();
    const stop = (): void => controller.abort(new Error('liveness check stopped'));
    this.lifetime.signal.addEventListener('abort', stop, { once: true });
    const timer = this.clock.setTimeout(() => controller.abort(new Error('liveness check timed out')), this.options.livenessCheckTimeoutMs ?? 1000);
    try {
      return await Promise.race([
        Promise.resolve(check(conn, controller.signal)),
        new Promise<boolean>((resolve) => controller.signal.addEventListener('abort', () => resolve(false), { once: true })),
      ]);
    } catch (error) {
      this.logger.debug('heal: liveness check failed', { id: this.id, error: errorMessage(error) });
      return false;
    } finally {
      this.clock.clearTimeout(timer);
      this.lifetime.signal.removeEventListener('abort', stop);
      controller.abort();
    }
  }

  /** Starts healing, unless already healing or stopped. */
  start(cause: HealCause): void {
    if (this.healing || this.stopped || this.conn === undefined) return;
    this.healing = true;
    this.stopWatching();
    this.logger.info(`heal: connection ${this.id} needs healing (${cause})`);
    this.monitor?.update({ ...this.conn, state: State.DOWN });
    this.options.onHeal?.({ id: this.id, cause, phase: 'start' });
    void this.heal(cause).finally(() => {
      this.healing = false;
      this.lastHealEnd = this.clock.now();
    });
  }

  private async heal(cause: HealCause): Promise<void> {
    // A heal right after another (the new watch broke at once) waits first: no busy loop.
    const sinceLast = this.clock.now() - this.lastHealEnd;
    const delay = this.options.retryDelayMs ?? 100;
    if (sinceLast < delay) await sleep(this.clock, delay - sinceLast, this.lifetime.signal).catch(() => undefined);
    // Restore only when the data plane is known to work: a broken data plane, or no way to tell, reselects.
    let reselect = cause === 'data plane' || this.options.livenessCheck === undefined;
    let reselectAttempt = 0;
    const reselectFn = this.options.reselect ?? defaultReselect;
    const signal = this.lifetime.signal;
    while (!this.stopped) {
      if (!reselect && !(await this.alive())) reselect = true;
      if (this.stopped) return;
      const conn = this.conn;
      if (conn === undefined) return;
      const [attemptSignal, cancel] = this.attemptSignal();
      try {
        if (reselect) await reselectFn(this.factory, conn, ++reselectAttempt, attemptSignal);
        else await this.factory.request({ signal: attemptSignal });
        this.logger.info(`heal: connection ${this.id} ${reselect ? 'reselected' : 'restored'}`);
        this.options.onHeal?.({ id: this.id, cause, phase: 'done' });
        return;
      } catch (error) {
        if ((error as Partial<ServiceError>).code === status.FAILED_PRECONDITION && /not established/.test(errorMessage(error))) {
          return; // Closed meanwhile: nothing to heal.
        }
        this.logger.info(`heal: attempt to ${reselect ? 'reselect' : 'restore'} connection ${this.id} failed: ${errorMessage(error)}`);
      } finally {
        cancel();
      }
      await sleep(this.clock, this.options.retryDelayMs ?? 100, signal).catch(() => undefined);
    }
  }

  private attemptSignal(): [AbortSignal, () => void] {
    const controller = new AbortController();
    const stop = (): void => controller.abort(new Error('heal stopped'));
    this.lifetime.signal.addEventListener('abort', stop, { once: true });
    const timer = this.clock.setTimeout(() => controller.abort(new Error('heal attempt timed out')), this.options.attemptTimeoutMs ?? 5000);
    return [
      controller.signal,
      () => {
        this.clock.clearTimeout(timer);
        this.lifetime.signal.removeEventListener('abort', stop);
      },
    ];
  }

  stopWatching(): void {
    this.watch?.stop();
    this.watch = undefined;
    if (this.livenessTimer !== undefined) this.clock.clearTimeout(this.livenessTimer);
    this.livenessTimer = undefined;
  }

  /** Stops for good: the connection is closed, or the chain's lifetime ended. */
  stop(): void {
    this.stopWatching();
    this.lifetime.abort(abortReason('heal stopped'));
    this.onStop(this);
  }
}

/** The `heal` client element (after `clientconn`, before `dial`). */
export class HealClient implements NetworkServiceElement {
  readonly name = 'heal/client';
  private readonly healers = new Set<Healer>();

  constructor(private readonly options: HealOptions = {}) {
    options.signal?.addEventListener('abort', () => [...this.healers].forEach((h) => h.stop()), { once: true });
  }

  /** Connections watched now (for leak checks). */
  get size(): number {
    return this.healers.size;
  }

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = await next.request(request, ctx);
    const factory = eventFactoryFrom(ctx);
    if (factory === undefined || this.options.signal?.aborted === true) return conn;
    const metadata = connectionMetadata(ctx, 'client');
    let healer = metadata.get(HEALER);
    if (healer === undefined || healer.stopped) {
      healer = new Healer(conn.id, factory, this.options, ctx.clock, ctx.logger, this.options.monitor, (h) => this.healers.delete(h));
      this.healers.add(healer);
      metadata.set(HEALER, healer);
    }
    healer.established(conn, loadChannel(ctx), ctx);
    return conn;
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    const metadata = connectionMetadata(ctx, 'client');
    const healer = metadata.get(HEALER);
    if (isReselectClose(ctx)) {
      // A reselect releasing the old path (the heal itself, or an application): stop watching it, keep healing.
      healer?.stopWatching();
    } else {
      healer?.stop();
      metadata.delete(HEALER);
    }
    await next.close(connection, ctx);
  }
}

/** A `heal` client element. */
export function healClient(options: HealOptions = {}): HealClient {
  return new HealClient(options);
}
