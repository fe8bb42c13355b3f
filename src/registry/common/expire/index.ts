/**
 * `expire`: an endpoint registration lives until its `expiration_time`, then this element unregisters it
 * through `begin` (so the store forgets it and watchers see the delete). The expiration time is the
 * earliest of the one asked for, this hop's token expiry and now + the default lifetime (one minute), so
 * an endpoint that stops refreshing disappears. A refresh moves the deadline; Unregister cancels it.
 * @module
 */
import type { NetworkServiceEndpoint, NetworkServiceEndpointQuery } from '../../../api/gen/registry.js';
import { millisFromTimestamp, timestampFromMillis } from '../../../api/path.js';
import type { ChainContext } from '../../../networkservice/core/context.js';
import { MetadataKey } from '../../../networkservice/common/metadata/index.js';
import type { TimerHandle } from '../../../tools/clock/index.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import type { NSERegistryHandler } from '../../core/types.js';
import { registryEventFactoryFrom } from '../begin/index.js';
import { registrationMetadata } from '../metadata/index.js';
import { NullRegistry } from '../null/index.js';
import { tokenExpiryFrom } from '../updatepath/context.js';

/** The lifetime of a registration that asks for none: one minute, as upstream. */
export const DEFAULT_REGISTRATION_LIFETIME_MS = 60_000;

interface Expiry {
  readonly handle: TimerHandle;
  readonly cancel: () => void;
}

const EXPIRY = new MetadataKey<Expiry>('expire.timer');

/** Options of {@link ExpireServer}. */
export interface ExpireOptions {
  /** The longest lifetime a registration gets (ms); default one minute. */
  readonly defaultLifetimeMs?: number;
}

/** The `expire` NetworkServiceEndpoint registry server (after `begin` and `metadata`). */
export class ExpireServer extends NullRegistry<NetworkServiceEndpoint, NetworkServiceEndpointQuery> {
  override readonly name = 'expire';
  private readonly lifetimeMs: number;
  private readonly timers = new Set<() => void>();

  constructor(options: ExpireOptions = {}) {
    super();
    this.lifetimeMs = options.defaultLifetimeMs ?? DEFAULT_REGISTRATION_LIFETIME_MS;
  }

  override async register(
    item: NetworkServiceEndpoint,
    ctx: ChainContext,
    next: NSERegistryHandler,
  ): Promise<NetworkServiceEndpoint> {
    const clock = ctx.clock;
    let expiresAt = clock.now() + this.lifetimeMs;
    const tokenExpiry = tokenExpiryFrom(ctx);
    if (tokenExpiry !== undefined) expiresAt = Math.min(expiresAt, tokenExpiry);
    if (item.expirationTime !== undefined) expiresAt = Math.min(expiresAt, millisFromTimestamp(item.expirationTime));
    item.expirationTime = timestampFromMillis(expiresAt);

    const response = await next.register(item, ctx);
    if (response.expirationTime !== undefined) expiresAt = Math.min(expiresAt, millisFromTimestamp(response.expirationTime));

    const metadata = registrationMetadata(ctx, 'server');
    metadata.get(EXPIRY)?.cancel();
    const factory = registryEventFactoryFrom<NetworkServiceEndpoint>(ctx);
    if (factory !== undefined) {
      const controller = new AbortController();
      let cancel = (): void => undefined;
      const handle = clock.setTimeout(
        () => {
          // Fired: no longer pending, but its signal must stay live for the unregister it starts.
          this.timers.delete(cancel);
          metadata.delete(EXPIRY);
          ctx.logger.info('registration expired', { name: item.name });
          factory.unregister({ signal: controller.signal }).catch((error: unknown) => {
            ctx.logger.warn('unregistering an expired registration failed', { name: item.name, error: errorMessage(error) });
          });
        },
        Math.max(0, expiresAt - clock.now()),
      );
      cancel = (): void => {
        this.timers.delete(cancel);
        clock.clearTimeout(handle);
        controller.abort();
      };
      this.timers.add(cancel);
      metadata.set(EXPIRY, { handle, cancel });
    }
    return response;
  }

  /** Expiry timers running now (for leak checks). */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Cancels every expiry timer, leaving the registrations where they are: for a registry that stops
   * (with a shared store, another registry or the store's own expiry takes over).
   */
  close(): void {
    for (const cancel of [...this.timers]) cancel();
  }

  override async unregister(item: NetworkServiceEndpoint, ctx: ChainContext, next: NSERegistryHandler): Promise<void> {
    const metadata = registrationMetadata(ctx, 'server');
    metadata.get(EXPIRY)?.cancel();
    metadata.delete(EXPIRY);
    await next.unregister(item, ctx);
  }
}

/** An `expire` element. */
export function expireServer(options?: ExpireOptions): ExpireServer {
  return new ExpireServer(options);
}
