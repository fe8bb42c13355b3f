/**
 * `refresh` for endpoint registrations (client): registers again, through `begin`, at two thirds of the
 * lifetime the registry granted, so a live endpoint never expires. Unregister stops it, and so does
 * aborting the `signal` option (the chain's lifetime).
 * @module
 */
import type { NetworkServiceEndpoint, NetworkServiceEndpointQuery } from '../../../api/gen/registry.js';
import { millisFromTimestamp } from '../../../api/path.js';
import type { ChainContext } from '../../../networkservice/core/context.js';
import { MetadataKey } from '../../../networkservice/common/metadata/index.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import type { NSERegistryHandler } from '../../core/types.js';
import { registryEventFactoryFrom } from '../begin/index.js';
import { registrationMetadata } from '../metadata/index.js';
import { NullRegistry } from '../null/index.js';

const TIMER = new MetadataKey<() => void>('refresh.cancel');

/** Options of {@link RefreshRegistryClient}. */
export interface RegistryRefreshOptions {
  /** The chain's lifetime: aborting it cancels every pending refresh. */
  readonly signal?: AbortSignal | undefined;
}

/** The `refresh` NetworkServiceEndpoint registry client (after `begin` and `metadata`). */
export class RefreshRegistryClient extends NullRegistry<NetworkServiceEndpoint, NetworkServiceEndpointQuery> {
  override readonly name = 'refresh';
  private readonly signal: AbortSignal | undefined;
  /** Cancels the refreshes still pending, for the lifetime signal. */
  private readonly pending = new Set<() => void>();

  constructor(options: RegistryRefreshOptions = {}) {
    super();
    this.signal = options.signal;
    this.signal?.addEventListener('abort', () => [...this.pending].forEach((cancel) => cancel()), { once: true });
  }

  /** Refreshes scheduled (for leak checks). */
  get size(): number {
    return this.pending.size;
  }

  override async register(
    item: NetworkServiceEndpoint,
    ctx: ChainContext,
    next: NSERegistryHandler,
  ): Promise<NetworkServiceEndpoint> {
    const response = await next.register(item, ctx);
    const metadata = registrationMetadata(ctx, 'client');
    metadata.get(TIMER)?.();
    metadata.delete(TIMER);
    const factory = registryEventFactoryFrom<NetworkServiceEndpoint>(ctx);
    if (factory === undefined || response.expirationTime === undefined || this.signal?.aborted === true) return response;
    const clock = ctx.clock;
    const delay = Math.max(0, ((millisFromTimestamp(response.expirationTime) - clock.now()) * 2) / 3);
    const controller = new AbortController();
    const handle = clock.setTimeout(() => {
      this.pending.delete(cancel);
      factory.register({ signal: controller.signal }).catch((error: unknown) => {
        if (!controller.signal.aborted) ctx.logger.warn('registry refresh failed', { name: item.name, error: errorMessage(error) });
      });
    }, delay);
    const cancel = (): void => {
      this.pending.delete(cancel);
      clock.clearTimeout(handle);
      controller.abort();
    };
    this.pending.add(cancel);
    metadata.set(TIMER, cancel);
    return response;
  }

  override async unregister(item: NetworkServiceEndpoint, ctx: ChainContext, next: NSERegistryHandler): Promise<void> {
    const metadata = registrationMetadata(ctx, 'client');
    metadata.get(TIMER)?.();
    metadata.delete(TIMER);
    await next.unregister(item, ctx);
  }
}

/** A registry `refresh` element. */
export function refreshRegistryClient(options?: RegistryRefreshOptions): RefreshRegistryClient {
  return new RefreshRegistryClient(options);
}
