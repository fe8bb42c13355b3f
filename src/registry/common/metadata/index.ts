/**
 * `metadata` for registries: per item name, state that elements after it keep between a Register and the
 * Unregister (a timer, a watch, a channel). Dropped on Unregister and when the first Register fails.
 * Client and server elements get separate halves, as on the Network Service side.
 * @module
 */
import { ContextKey, type ChainContext } from '../../../networkservice/core/context.js';
import { ConnectionMetadata, type MetadataSide } from '../../../networkservice/common/metadata/index.js';
import { statusError, status } from '../../../tools/grpc/status.js';
import type { RegistryKind } from '../../core/kind.js';
import type { RegistryHandler } from '../../core/types.js';
import { NullRegistry } from '../null/index.js';

interface Halves {
  readonly client: ConnectionMetadata;
  readonly server: ConnectionMetadata;
}

const METADATA = new ContextKey<Halves>('registry.metadata');

/**
 * The metadata of the item being registered. Throws FAILED_PRECONDITION when no registry `metadata`
 * element ran before, which is a mistake in how the chain was built.
 */
export function registrationMetadata(ctx: ChainContext, side: MetadataSide): ConnectionMetadata {
  const halves = ctx.value(METADATA);
  if (halves === undefined) {
    throw statusError(status.FAILED_PRECONDITION, 'no registry metadata in context: put a metadata element before this one');
  }
  return halves[side];
}

const fresh = (): Halves => ({ client: new ConnectionMetadata(), server: new ConnectionMetadata() });

/** The registry `metadata` element. */
export class RegistryMetadata<R, Q> extends NullRegistry<R, Q> {
  override readonly name: string;
  private readonly store = new Map<string, Halves>();

  constructor(
    private readonly kind: RegistryKind<R, Q, unknown>,
    side: MetadataSide,
  ) {
    super();
    this.name = `metadata/${side}`;
  }

  /** Names with live metadata (for leak checks). */
  get size(): number {
    return this.store.size;
  }

  override async register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    const name = this.kind.nameOf(item);
    let halves = this.store.get(name);
    const created = halves === undefined;
    if (halves === undefined) {
      halves = fresh();
      this.store.set(name, halves);
    }
    try {
      return await next.register(item, ctx.withValue(METADATA, halves));
    } catch (error) {
      if (created && this.store.get(name) === halves) this.store.delete(name);
      throw error;
    }
  }

  override async unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    const name = this.kind.nameOf(item);
    try {
      await next.unregister(item, ctx.withValue(METADATA, this.store.get(name) ?? fresh()));
    } finally {
      this.store.delete(name);
    }
  }
}

/** A server-side registry `metadata` element. */
export function registryMetadataServer<R, Q>(kind: RegistryKind<R, Q, unknown>): RegistryMetadata<R, Q> {
  return new RegistryMetadata(kind, 'server');
}

/** A client-side registry `metadata` element. */
export function registryMetadataClient<R, Q>(kind: RegistryKind<R, Q, unknown>): RegistryMetadata<R, Q> {
  return new RegistryMetadata(kind, 'client');
}
