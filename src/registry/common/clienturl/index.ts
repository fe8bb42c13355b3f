/**
 * `clienturl` for registries: the URL of the registry (or manager) the client talks to, for `dial`.
 * @module
 */
import type { Observable } from 'rxjs';
import type { ChainContext } from '../../../networkservice/core/context.js';
import { withClientURL } from '../../../networkservice/common/clienturl/index.js';
import type { FindResult, RegistryHandler } from '../../core/types.js';
import { NullRegistry } from '../null/index.js';

/** Puts a fixed URL in the context of every call. */
export class ClientURLRegistry<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'clienturl';

  constructor(private readonly url: string) {
    super();
  }

  override register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    return next.register(item, withClientURL(ctx, this.url));
  }

  override find(query: Q, ctx: ChainContext, next: RegistryHandler<R, Q>): Observable<FindResult<R>> {
    return next.find(query, withClientURL(ctx, this.url));
  }

  override unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    return next.unregister(item, withClientURL(ctx, this.url));
  }
}

/** A registry `clienturl` element. */
export function clientURLRegistry<R, Q>(url: string): ClientURLRegistry<R, Q> {
  return new ClientURLRegistry(url);
}
