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
import type { HeldChannel } from '../../../networkservice/common/clientconn/index.js';
import { dialChannel, type DialOptions } from '../../../networkservice/common/dial/index.js';
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

interface PooledChannel {
  readonly url: string;
  readonly ready: Promise<Client>;
  refs: number;
}

/**
 * The registry `dial` client element (after `metadata` and `clienturl`). Channels are shared per URL
 * and counted: a thousand registrations and their watches to one registry use one HTTP/2 connection,
 * and the channel is closed when the last registration or find using it lets go.
 */
export class DialRegistry<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'dial';
  private readonly pool = new Map<string, PooledChannel>();
  private readonly options: DialOptions;

  constructor(options: DialOptions = {}) {
    super();
    // A pooled channel outlives registry restarts, and calls on it fail at once while it is in reconnect
    // backoff. grpc-js's default backoff (1 s, growing to 2 min) kept refreshes failing seconds after a
    // restarted registry was serving again, long enough for tokens to run out; retry within a second.
    this.options = {
      ...options,
      channelOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000, ...options.channelOptions },
    };
  }

  /** Channels open now (for leak checks). */
  get openChannels(): number {
    return this.pool.size;
  }

  private async acquire(url: string, ctx: ChainContext): Promise<HeldChannel> {
    let pooled = this.pool.get(url);
    if (pooled === undefined) {
      const entry: PooledChannel = { url, ready: dialChannel(url, ctx, this.options), refs: 0 };
      pooled = entry;
      this.pool.set(url, entry);
      // A failed dial leaves no entry behind: the next caller dials afresh.
      entry.ready.catch(() => {
        if (this.pool.get(url) === entry) this.pool.delete(url);
      });
    }
    pooled.refs++;
    try {
      return { client: await pooled.ready, url, owned: true };
    } catch (error) {
      pooled.refs--;
      throw error;
    }
  }

  private release(held: HeldChannel): void {
    const pooled = this.pool.get(held.url);
    if (pooled === undefined) return;
    pooled.refs--;
    if (pooled.refs <= 0) {
      this.pool.delete(held.url);
      held.client.close();
    }
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
