/**
 * `updatetoken` for registry clients: sends this hop's token in the call's metadata (the keys of the
 * Network Service's `updatetoken`), where the registry's `updatepath` reads the caller's token from.
 * With mTLS the token is for the registry dialed (its `aud`), so the registry path is a signed chain
 * from the registrant to the registry, like a connection's path, and the registry can tell who
 * registered a name. Place it after `dial`, which knows the peer.
 * @module
 */
import { Metadata } from '@grpc/grpc-js';
import type { ChainContext } from '../../../networkservice/core/context.js';
import { OUTGOING_METADATA } from '../../../tools/grpc/keys.js';
import { channelPeer } from '../../../tools/spiffe/tls.js';
import { writeTokenMetadata } from '../../../tools/token/metadata.js';
import type { TokenGenerator } from '../../../tools/token/types.js';
import type { RegistryHandler } from '../../core/types.js';
import { registryChannelFrom } from '../dial/index.js';
import { NullRegistry } from '../null/index.js';

/** The registry `updatetoken` client element. */
export class UpdateTokenRegistryClient<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'updatetoken/client';

  constructor(private readonly generator: TokenGenerator) {
    super();
  }

  private async signed(ctx: ChainContext): Promise<ChainContext> {
    const { token, expires } = await this.generator(channelPeer(registryChannelFrom(ctx)));
    // `grpcmetadata` put a copy of its own in the context for this call; add to it, or start one.
    const existing = ctx.value(OUTGOING_METADATA);
    const metadata = existing ?? new Metadata();
    writeTokenMetadata(metadata, token, expires);
    return existing === undefined ? ctx.withValue(OUTGOING_METADATA, metadata) : ctx;
  }

  override async register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    return next.register(item, await this.signed(ctx));
  }

  override async unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    return next.unregister(item, await this.signed(ctx));
  }
}

/** A registry `updatetoken` client element. */
export function updateTokenRegistryClient<R, Q>(generator: TokenGenerator): UpdateTokenRegistryClient<R, Q> {
  return new UpdateTokenRegistryClient(generator);
}
