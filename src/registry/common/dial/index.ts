/**
 * `dial` for registries: a registration holds a gRPC channel to the URL in the context (see `clienturl`)
 * from its first Register to its Unregister, reused by refreshes (grpc-js reconnects it when the registry
 * restarts); a registration that moves to another URL lets go of the old one. A Find holds a channel
 * while its stream is open. A Register that fails lets go of the channel it took.
 * @module
 */
import type { Client } from '@grpc/grpc-js';
import { defer, finalize, from, mergeMap, type Observable } from 'rxjs';
import { ContextKey, type ChainContext } from '../../../networkservice/core/context.js';
import { clientURLFrom } from '../../../networkservice/common/clienturl/index.js';
import { releaseChannel, type HeldChannel } from '../../../networkservice/common/clientconn/index.js';
import { ChannelPool, type DialOptions } from '../../../networkservice/common/dial/index.js';
import { MetadataKey } from '../../../networkservice/common/metadata/index.js';
import { statusError, status } from '../../../tools/grpc/status.js';
import type { FindResult, RegistryHandler } from '../../core/types.js';
import { registrationMetadata } from '../metadata/index.js';
import { NullRegistry } from '../null/index.js';

const CHANNEL = new ContextKey<Client>('registry.channel');
const HELD = new MetadataKey<HeldChannel>('registry.dial.channel');

/** The channel the current registry call goes through, for `connect`. */
export function registryChannelFrom(ctx: ChainContext): Client | undefined {
  return ctx.value(CHANNEL);
}

/** The context with `client` as the channel for the registry call. */
export function withRegistryChannel(ctx: ChainContext, client: Client): ChainContext {
  return ctx.withValue(CHANNEL, client);
}

function urlFrom(ctx: ChainContext): string {
  const url = clientURLFrom(ctx);
  if (url === undefined) throw statusError(status.FAILED_PRECONDITION, 'no registry URL to dial: put clienturl before dial');
  return url;
}

/**
 * The registry `dial` client element (after `metadata` and `clienturl`). Channels are shared per URL
 * (see `ChannelPool`): a thousand registrations and their watches to one registry use one HTTP/2
 * connection. Without a pool of the role's, the element keeps its own, which closes a channel as soon as
 * the last registration or find using it lets go.
 */
export class DialRegistry<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'dial';
  private readonly pool: ChannelPool;
  private readonly options: DialOptions;

  constructor(options: DialOptions = {}) {
    super();
    this.options = options;
    this.pool = options.pool ?? new ChannelPool({ idleTimeoutMs: 0 });
  }

  /** Channels open now in this element's pool (for leak checks). */
  get openChannels(): number {
    return this.pool.size;
  }

  private acquire(url: string, ctx: ChainContext): Promise<HeldChannel> {
    return this.pool.acquire(url, ctx, this.options);
  }

  private release(held: HeldChannel): void {
    releaseChannel(held);
  }

  override async register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    if (registryChannelFrom(ctx) !== undefined) return next.register(item, ctx);
    const url = urlFrom(ctx);
    const metadata = registrationMetadata(ctx, 'client');
    let held = metadata.get(HELD);
    if (held !== undefined && held.url !== url) {
      metadata.delete(HELD);
      this.release(held);
      held = undefined;
    }
    const fresh = held === undefined;
    held ??= await this.acquire(url, ctx);
    metadata.set(HELD, held);
    try {
      return await next.register(item, withRegistryChannel(ctx, held.client));
    } catch (error) {
      if (fresh) {
        metadata.delete(HELD);
        this.release(held);
      }
      throw error;
    }
  }

  override find(query: Q, ctx: ChainContext, next: RegistryHandler<R, Q>): Observable<FindResult<R>> {
    if (registryChannelFrom(ctx) !== undefined) return next.find(query, ctx);
    return defer(() => {
      let held: HeldChannel | undefined;
      return from(this.acquire(urlFrom(ctx), ctx)).pipe(
        mergeMap((channel) => {
          held = channel;
          return next.find(query, withRegistryChannel(ctx, channel.client));
        }),
        finalize(() => {
          if (held !== undefined) this.release(held);
        }),
      );
    });
  }

  override async unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    if (registryChannelFrom(ctx) !== undefined) return next.unregister(item, ctx);
    const metadata = registrationMetadata(ctx, 'client');
    const held = metadata.get(HELD) ?? (await this.acquire(urlFrom(ctx), ctx));
    metadata.delete(HELD);
    try {
      await next.unregister(item, withRegistryChannel(ctx, held.client));
    } finally {
      this.release(held);
    }
  }
}

/** A registry `dial` element. */
export function dialRegistry<R, Q>(options?: DialOptions): DialRegistry<R, Q> {
  return new DialRegistry(options);
}
