/**
 * `updatepath` for registries: each registry hop takes its place in the registry path (carried by
 * `grpcmetadata`), stores its token there and the caller's token in the previous segment, and records
 * both hops' SPIFFE ids (the tokens' `sub`) in the item's `path_ids`, so later hops and authorization
 * know who registered an item and through whom. A refresh arrives with the hop's segment already there
 * and only renews tokens. The token expiry is passed on for `expire`. A path that would grow past
 * `MAX_REGISTRY_PATH_LENGTH` with this hop's segment is refused with INVALID_ARGUMENT before the rest of
 * the chain runs: it could not travel back in the response headers.
 * @module
 */
import type { ChainContext } from '../../../networkservice/core/context.js';
import { INCOMING_METADATA } from '../../../tools/grpc/keys.js';
import { statusError, status } from '../../../tools/grpc/status.js';
import { tokenSubject } from '../../../tools/token/jwt.js';
import { readTokenMetadata } from '../../../tools/token/metadata.js';
import { PEER_AUTH_INFO, type TokenGenerator } from '../../../tools/token/types.js';
import type { RegistryKind } from '../../core/kind.js';
import type { RegistryHandler } from '../../core/types.js';
import { formatRegistryPath, MAX_REGISTRY_PATH_LENGTH, registryPathFrom, withRegistryPath, type RegistryPath } from '../grpcmetadata/path.js';
import { NullRegistry } from '../null/index.js';
import { withTokenExpiry } from './context.js';

export { tokenExpiryFrom, withTokenExpiry } from './context.js';

/**
 * Moves `path` to this hop: on a first call the path gets the caller's segment and ours; otherwise the
 * index advances, appending our segment when it is not there yet. Returns the caller's index.
 */
export function advanceRegistryPath(path: RegistryPath, peerToken: string, ownToken: string): number {
  if (path.segments.length === 0) {
    path.segments.push({ token: peerToken }, { token: ownToken });
    path.index = 1;
    return 0;
  }
  if (path.index + 1 > path.segments.length) {
    throw statusError(
      status.INVALID_ARGUMENT,
      `registry path index ${path.index} is beyond its ${path.segments.length} segment(s)`,
    );
  }
  const previous = path.index;
  (path.segments[previous] as { token: string }).token = peerToken;
  path.index = previous + 1;
  const current = path.segments[path.index];
  if (current === undefined) path.segments.push({ token: ownToken });
  else current.token = ownToken;
  return previous;
}

/** The SPIFFE id in a token's `sub`, or '' when the token has none or is not a JWT. */
export const subjectOf = tokenSubject;

function setAt(ids: string[], index: number, id: string): void {
  while (ids.length < index) ids.push('');
  ids[index] = id;
}

/** The registry `updatepath` server element. */
export class UpdatePathRegistry<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'updatepath/server';

  constructor(
    private readonly kind: RegistryKind<R, Q, unknown>,
    private readonly tokenGenerator: TokenGenerator,
  ) {
    super();
  }

  private async enter(item: R, ctx: ChainContext): Promise<[ChainContext, RegistryPath, number]> {
    const path = registryPathFrom(ctx) ?? { index: 0, segments: [] };
    const incoming = ctx.value(INCOMING_METADATA);
    const peer = incoming === undefined ? undefined : readTokenMetadata(incoming);
    const own = await this.tokenGenerator(ctx.value(PEER_AUTH_INFO));
    const previous = advanceRegistryPath(path, peer?.token ?? '', own.token);
    // Checked now, before anything is stored: past the limit, the path this hop sends back in its
    // response headers (and on to the next hop) would not reach the peer (see MAX_REGISTRY_PATH_LENGTH).
    const length = formatRegistryPath(path).length;
    if (length > MAX_REGISTRY_PATH_LENGTH) {
      throw statusError(
        status.INVALID_ARGUMENT,
        `registry path would be ${length} characters long with this hop's segment: at most ${MAX_REGISTRY_PATH_LENGTH}`,
      );
    }
    const ids = [...this.kind.pathIds(item)];
    setAt(ids, previous, subjectOf(peer?.token ?? ''));
    setAt(ids, path.index, subjectOf(own.token));
    this.kind.setPathIds(item, ids);
    return [withTokenExpiry(withRegistryPath(ctx, path), own.expires.getTime()), path, previous];
  }

  override async register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    const [inner, path, previous] = await this.enter(item, ctx);
    const response = await next.register(item, inner);
    path.index = previous;
    return response;
  }

  override async unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    const [inner, path, previous] = await this.enter(item, ctx);
    try {
      await next.unregister(item, inner);
    } finally {
      path.index = previous;
    }
  }
}

/** A registry `updatepath` server element. */
export function updatePathRegistryServer<R, Q>(
  kind: RegistryKind<R, Q, unknown>,
  tokenGenerator: TokenGenerator,
): UpdatePathRegistry<R, Q> {
  return new UpdatePathRegistry(kind, tokenGenerator);
}
