/**
 * `validate`: the first element of a registry server chain. An item that may not be registered (an empty
 * name, an endpoint without a parsable URL, a match without routes) is refused with INVALID_ARGUMENT
 * saying what is wrong, before any element stores anything. Unregister needs only a name.
 * @module
 */
import type { ChainContext } from '../../../networkservice/core/context.js';
import { statusError, status } from '../../../tools/grpc/status.js';
import type { RegistryKind } from '../../core/kind.js';
import type { RegistryHandler } from '../../core/types.js';
import { NullRegistry } from '../null/index.js';

/** The registry `validate` element. */
export class ValidateRegistry<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'validate';

  constructor(private readonly kind: RegistryKind<R, Q, unknown>) {
    super();
  }

  override register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    const problem = this.kind.validate(item);
    if (problem !== undefined) return Promise.reject(statusError(status.INVALID_ARGUMENT, problem));
    return next.register(item, ctx);
  }

  override unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    if (this.kind.nameOf(item) === '') {
      return Promise.reject(statusError(status.INVALID_ARGUMENT, `${this.kind.resource}.name is empty`));
    }
    return next.unregister(item, ctx);
  }
}

/** A registry `validate` element. */
export function validateRegistry<R, Q>(kind: RegistryKind<R, Q, unknown>): ValidateRegistry<R, Q> {
  return new ValidateRegistry(kind);
}
