/**
 * `limits`: the first element of a served registry chain (a registry's and a manager's). A Register,
 * Find or Unregister whose message is past the size limits shared with the Network Service `validate`
 * element (see `networkservice/common/validate/limits.ts`: 4096 characters in a name, URL, label or path
 * id, 1024 entries in a list or map, Timestamps within years 1 to 9999) is refused with INVALID_ARGUMENT
 * naming the field and the limit, for example
 * `NetworkServiceEndpoint.network_service_names has 10000 entries: at most 1024`.
 *
 * Why at the door: later elements store the item (and every watcher gets a copy), forward it to the
 * registry behind a manager, arm an expiry timer from its expiration time, and echo its name in their
 * own errors; a status message of hundreds of kilobytes never reaches a grpc-js client, so an echoed
 * 1 MB name would look like a hang. Nothing an NSM peer sends comes near these limits.
 * @module
 */
import { defer, throwError, type Observable } from 'rxjs';
import type { ChainContext } from '../../../networkservice/core/context.js';
import { messageProblem } from '../../../networkservice/common/validate/limits.js';
import { statusError, status } from '../../../tools/grpc/status.js';
import type { RegistryKind } from '../../core/kind.js';
import type { FindResult, RegistryHandler } from '../../core/types.js';
import { NullRegistry } from '../null/index.js';

/** The registry `limits` element: refuses oversized items and queries before the rest of the chain sees them. */
export class LimitsRegistry<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'limits';

  constructor(private readonly kind: RegistryKind<R, Q, unknown>) {
    super();
  }

  override register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    const problem = messageProblem(item, this.kind.resource);
    if (problem !== undefined) return Promise.reject(statusError(status.INVALID_ARGUMENT, problem));
    return next.register(item, ctx);
  }

  override find(query: Q, ctx: ChainContext, next: RegistryHandler<R, Q>): Observable<FindResult<R>> {
    // Deferred: a find does nothing before it is subscribed.
    return defer(() => {
      const problem = messageProblem(query, `${this.kind.resource}Query`);
      return problem === undefined ? next.find(query, ctx) : throwError(() => statusError(status.INVALID_ARGUMENT, problem));
    });
  }

  override unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    // Unregister needs only the name, but the whole item travels on to the registry behind a manager.
    const problem = messageProblem(item, this.kind.resource);
    if (problem !== undefined) return Promise.reject(statusError(status.INVALID_ARGUMENT, problem));
    return next.unregister(item, ctx);
  }
}

/** A registry `limits` element for `kind`. */
export function limitsRegistry<R, Q>(kind: RegistryKind<R, Q, unknown>): LimitsRegistry<R, Q> {
  return new LimitsRegistry(kind);
}
