/**
 * `begin` for registries: per item name, Register and Unregister run one at a time in arrival order, and
 * an event factory lets later elements (expire, refresh, heal) re-register or unregister the item from
 * here, through the same queue, with the last good registration. A first Register that fails leaves
 * nothing behind; Unregister forgets the item. Aborting the `signal` option (the chain's lifetime) cancels
 * every event in flight and forgets every item, without unregistering anything.
 * @module
 */
import { ContextKey, type ChainContext } from '../../../networkservice/core/context.js';
import { SerialExecutor } from '../../../tools/serial/index.js';
import { statusError, status } from '../../../tools/grpc/status.js';
import type { RegistryKind } from '../../core/kind.js';
import type { RegistryHandler } from '../../core/types.js';
import { NullRegistry } from '../null/index.js';

/** Options of an event re-run from `begin`. */
export interface RegistryEventOptions {
  /** Aborting it cancels the event (a queued event then does nothing). */
  readonly signal?: AbortSignal;
}

/** Re-runs events of one registration from the `begin` that owns it, later and from anywhere. */
export interface RegistryEventFactory<R> {
  /** The name of the item. */
  readonly name: string;
  /** Registers the last good registration again; undefined when it is no longer registered or cancelled. */
  register(options?: RegistryEventOptions): Promise<R | undefined>;
  /** Unregisters the item as a caller's Unregister would; does nothing when it is not registered. */
  unregister(options?: RegistryEventOptions): Promise<void>;
}

const FACTORY = new ContextKey<RegistryEventFactory<unknown>>('registry.begin.eventFactory');

/** The event factory of the registration being processed, set by `begin` for the elements after it. */
export function registryEventFactoryFrom<R>(ctx: ChainContext): RegistryEventFactory<R> | undefined {
  return ctx.value(FACTORY) as RegistryEventFactory<R> | undefined;
}

/** What `begin` keeps per name: the last good registration, the rest of the chain, a queue. */
export class BeginRegistration<R, Q> implements RegistryEventFactory<R> {
  /** Runs this name's calls and events one at a time, in order. */
  readonly queue = new SerialExecutor();
  /** True once a Register succeeded, until the item is unregistered or forgotten. */
  established = false;
  /** The last good registration, as kept for events (see {@link BeginRegistry.remember}). */
  item: R | undefined;
  /** The rest of the chain as the last successful call saw it; events go through it. */
  next: RegistryHandler<R, Q> | undefined;
  /** The context of the last successful call; events run in a detached copy of it. */
  ctx: ChainContext | undefined;

  constructor(
    readonly name: string,
    private readonly owner: BeginRegistry<R, Q>,
  ) {}

  /** Aborted when a caller unregisters: events still running (a heal retrying) give way to it. */
  private events = new AbortController();

  /** Cancels the events in flight (their retries stop) so that a caller's Unregister can run. */
  abortEvents(): void {
    this.events.abort(new Error(`${this.owner.kind.resource} ${this.name} is being unregistered`));
    this.events = new AbortController();
  }

  /** Runs `event` in a detached copy of the last call's context, unless cancelled or not registered. */
  private async runEvent<T>(options: RegistryEventOptions, event: (ctx: ChainContext, next: RegistryHandler<R, Q>, item: R) => Promise<T>): Promise<T | undefined> {
    const { ctx: base, next, item } = this;
    if (!this.established || base === undefined || next === undefined || item === undefined) return undefined;
    if (options.signal?.aborted === true || this.events.signal.aborted) return undefined;
    const [ctx, cancel] = base.detach().withSignal(this.events.signal).withCancel();
    const onAbort = (): void => cancel(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await event(ctx.withValue(FACTORY, this), next, this.owner.kind.clone(item));
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      cancel();
    }
  }

  register(options: RegistryEventOptions = {}): Promise<R | undefined> {
    return this.queue.run(() =>
      this.runEvent(options, async (ctx, next, item) => {
        const response = await next.register(item, ctx);
        this.item = this.owner.remember(response);
        return response;
      }),
    );
  }

  unregister(options: RegistryEventOptions = {}): Promise<void> {
    return this.queue.run(async () => {
      await this.runEvent(options, async (ctx, next, item) => {
        try {
          await next.unregister(item, ctx);
        } finally {
          this.owner.forget(this);
        }
      });
    });
  }
}

/** The `begin` element for one registry kind (same code for the server and the client side). */
export class BeginRegistry<R, Q> extends NullRegistry<R, Q> {
  override readonly name: string;
  private readonly registrations = new Map<string, BeginRegistration<R, Q>>();

  /**
   * @param kind - the registry resource.
   * @param side - on the client side a stored registration drops its expiration time, so a refresh asks
   *   for a fresh lifetime instead of repeating the old one.
   * @param signal - the chain's lifetime: when aborted, events stop and every item is forgotten.
   */
  constructor(
    readonly kind: RegistryKind<R, Q, unknown>,
    private readonly side: 'client' | 'server',
    signal?: AbortSignal,
  ) {
    super();
    this.name = `begin/${side}`;
    signal?.addEventListener(
      'abort',
      () => {
        for (const registration of [...this.registrations.values()]) {
          registration.abortEvents();
          this.forget(registration);
        }
      },
      { once: true },
    );
  }

  /** Names with live state (for leak checks). */
  get size(): number {
    return this.registrations.size;
  }

  /** The copy of a response kept for later events. */
  remember(response: R): R {
    const copy = this.kind.clone(response);
    if (this.side === 'client') this.kind.clearExpiration(copy);
    return copy;
  }

  /** Drops `registration`'s state (unless another has replaced it for its name); it is no longer established. */
  forget(registration: BeginRegistration<R, Q>): void {
    registration.established = false;
    if (this.registrations.get(registration.name) === registration) this.registrations.delete(registration.name);
  }

  private entry(name: string): BeginRegistration<R, Q> {
    let registration = this.registrations.get(name);
    if (registration === undefined) {
      registration = new BeginRegistration(name, this);
      this.registrations.set(name, registration);
    }
    return registration;
  }

  private nameOf(item: R): string {
    const name = this.kind.nameOf(item);
    if (name === '') throw statusError(status.INVALID_ARGUMENT, `${this.kind.resource}.name is empty`);
    return name;
  }

  override async register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    const name = this.nameOf(item);
    const registration = this.entry(name);
    return registration.queue.run(async () => {
      // Unregistered while this call waited in the queue: start over with a fresh entry.
      if (this.registrations.get(name) !== registration) return this.register(item, ctx, next);
      try {
        const response = await next.register(item, ctx.withValue(FACTORY, registration));
        registration.item = this.remember(response);
        registration.next = next;
        registration.ctx = ctx;
        registration.established = true;
        return response;
      } catch (error) {
        if (!registration.established) this.forget(registration);
        throw error;
      }
    });
  }

  override async unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    const name = this.nameOf(item);
    const registration = this.entry(name);
    registration.abortEvents();
    await registration.queue.run(async () => {
      if (this.registrations.get(name) !== registration) return this.unregister(item, ctx, next);
      // Unregister what was registered (the caller may send just a name).
      const current = registration.item ?? item;
      try {
        await next.unregister(this.kind.clone(current), ctx.withValue(FACTORY, registration));
      } finally {
        this.forget(registration);
      }
    });
  }
}

/** A server-side registry `begin`. */
export function beginRegistryServer<R, Q>(kind: RegistryKind<R, Q, unknown>): BeginRegistry<R, Q> {
  return new BeginRegistry(kind, 'server');
}

/**
 * A client-side registry `begin`.
 * @param signal - the chain's lifetime (see {@link BeginRegistry}).
 */
export function beginRegistryClient<R, Q>(kind: RegistryKind<R, Q, unknown>, signal?: AbortSignal): BeginRegistry<R, Q> {
  return new BeginRegistry(kind, 'client', signal);
}
