import { ContextKey, type ChainContext } from '../../../networkservice/core/context.js';

const TOKEN_EXPIRES = new ContextKey<number>('registry.updatepath.tokenExpires');

/** The context with the expiry (epoch ms) of the token this hop generated for a registration. */
export function withTokenExpiry(ctx: ChainContext, expiresMs: number): ChainContext {
  return ctx.withValue(TOKEN_EXPIRES, expiresMs);
}

/** When this hop's token for the registration expires (epoch ms), if `updatepath` ran before. */
export function tokenExpiryFrom(ctx: ChainContext): number | undefined {
  return ctx.value(TOKEN_EXPIRES);
}
