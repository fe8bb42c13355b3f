/**
 * `heal` for registry clients. After a successful Register it watches the item it registered; when that
 * watch breaks (the registry restarted or went away) or reports the item deleted, it registers again
 * through `begin` (and so through `retry`, until the registry is back). A watching Find whose stream
 * breaks is opened again after a pause, until the caller unsubscribes. Unregister stops both, and so
 * does aborting the `signal` option (the chain's lifetime: a closed client must not keep registering).
 * @module
 */
import { defer, EMPTY, repeat, retry, Subject, Subscription, takeUntil, timer, type Observable } from 'rxjs';
import type { ChainContext } from '../../../networkservice/core/context.js';
import { MetadataKey } from '../../../networkservice/common/metadata/index.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import type { RegistryKind } from '../../core/kind.js';
import type { FindResult, RegistryHandler } from '../../core/types.js';
import { registryEventFactoryFrom } from '../begin/index.js';
import { registrationMetadata } from '../metadata/index.js';
import { NullRegistry } from '../null/index.js';

const WATCH = new MetadataKey<() => void>('heal.stop');

/** Options of {@link HealRegistryClient}. */
export interface RegistryHealOptions {
  /** Pause before reopening a broken watch (ms); default 200. */
  readonly reconnectDelayMs?: number;
  /** The chain's lifetime: aborting it stops every self-watch and ends every healed Find. */
  readonly signal?: AbortSignal | undefined;
}

/** The registry `heal` client element (after `begin`, `metadata` and `retry`). */
export class HealRegistryClient<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'heal';
  private readonly delayMs: number;
  private readonly signal: AbortSignal | undefined;
  /** Stops the self-watches still running, for the lifetime signal. */
  private readonly watches = new Set<() => void>();
  /**
   * Emits once when the lifetime signal aborts. Healed Finds end on it rather than on an abort listener of
   * their own each: a manager or forwarder discovers many times at once, and more than ten listeners on
   * one AbortSignal make Node warn of a leak.
   */
  private readonly ended = new Subject<void>();

  constructor(
    private readonly kind: RegistryKind<R, Q, unknown>,
    options: RegistryHealOptions = {},
  ) {
    super();
    this.delayMs = options.reconnectDelayMs ?? 200;
    this.signal = options.signal;
    this.signal?.addEventListener(
      'abort',
      () => {
        [...this.watches].forEach((stop) => stop());
        this.ended.next();
        this.ended.complete();
      },
      { once: true },
    );
  }

  /** Self-watches running (for leak checks). */
  get size(): number {
    return this.watches.size;
  }

  override async register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    const response = await next.register(item, ctx);
    const metadata = registrationMetadata(ctx, 'client');
    metadata.get(WATCH)?.();
    metadata.delete(WATCH);
    const factory = registryEventFactoryFrom<R>(ctx);
    if (factory === undefined || this.signal?.aborted === true) return response;

    const name = this.kind.nameOf(response);
    const controller = new AbortController();
    const [watchCtx, cancelWatch] = ctx.detach().withCancel();
    let triggered = false;
    // A parent subscription: if the watch breaks while subscribing, unsubscribing the parent first makes
    // the inner subscription end as soon as it is added.
    const subscription = new Subscription();
    const reregister = (why: string): void => {
      if (triggered || controller.signal.aborted) return;
      triggered = true;
      subscription.unsubscribe();
      ctx.logger.info(`registry heal: ${why}, registering ${name} again`);
      factory.register({ signal: controller.signal }).catch((error: unknown) => {
        if (!controller.signal.aborted) ctx.logger.warn('registry heal failed', { name, error: errorMessage(error) });
      });
    };
    subscription.add(
      next.find(this.kind.makeQuery(this.kind.named(name), true), watchCtx).subscribe({
      next: (result) => {
        if (result.deleted && this.kind.nameOf(result.item) === name) reregister('the registration was deleted');
      },
      error: (error: unknown) => reregister(`the watch broke (${errorMessage(error)})`),
      complete: () => reregister('the watch ended'),
      }),
    );
    const stop = (): void => {
      this.watches.delete(stop);
      controller.abort();
      subscription.unsubscribe();
      cancelWatch();
    };
    this.watches.add(stop);
    metadata.set(WATCH, stop);
    return response;
  }

  override find(query: Q, ctx: ChainContext, next: RegistryHandler<R, Q>): Observable<FindResult<R>> {
    if (!this.kind.readQuery(query).watch) return next.find(query, ctx);
    const again = { delay: () => timer(this.delayMs) };
    const healed = defer(() => next.find(query, ctx)).pipe(retry(again), repeat(again));
    const signal = this.signal;
    if (signal === undefined) return healed;
    // Deferred: the signal may abort between now and the subscription, and `ended` emits only once.
    return defer(() => (signal.aborted ? EMPTY : healed.pipe(takeUntil(this.ended))));
  }

  override async unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    const metadata = registrationMetadata(ctx, 'client');
    metadata.get(WATCH)?.();
    metadata.delete(WATCH);
    await next.unregister(item, ctx);
  }
}

/** A registry `heal` element. */
export function healRegistryClient<R, Q>(kind: RegistryKind<R, Q, unknown>, options?: RegistryHealOptions): HealRegistryClient<R, Q> {
  return new HealRegistryClient(kind, options);
}
