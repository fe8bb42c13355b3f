/**
 * `null`: a registry element that passes everything on. A placeholder where a chain takes an optional
 * element, and the base class of elements that act on one call only.
 * @module
 */
import type { Observable } from 'rxjs';
import type { ChainContext } from '../../../networkservice/core/context.js';
import type { FindResult, RegistryElement, RegistryHandler } from '../../core/types.js';

/** Passes Register, Find and Unregister on unchanged; subclasses override what they act on. */
export class NullRegistry<R, Q> implements RegistryElement<R, Q> {
  readonly name: string = 'null';

  /** Passes the registration on unchanged. */
  register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    return next.register(item, ctx);
  }

  /** Passes the query on unchanged. */
  find(query: Q, ctx: ChainContext, next: RegistryHandler<R, Q>): Observable<FindResult<R>> {
    return next.find(query, ctx);
  }

  /** Passes the unregistration on unchanged. */
  unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    return next.unregister(item, ctx);
  }
}

/** A registry `null` element. */
export function nullRegistry<R, Q>(): NullRegistry<R, Q> {
  return new NullRegistry();
}
