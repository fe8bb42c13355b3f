import type { ChainContext } from '../../../networkservice/core/context.js';
import { statusError, status } from '../../../tools/grpc/status.js';
import type { PathPolicy } from '../../../tools/policy/path.js';
import { RegistrantTable, type RegistryPolicy } from '../../../tools/policy/registry.js';
import { enforce } from '../../../tools/policy/types.js';
import type { Security } from '../../../tools/security/index.js';
import { PEER_AUTH_INFO } from '../../../tools/token/types.js';
import type { RegistryKind } from '../../core/kind.js';
import type { RegistryHandler } from '../../core/types.js';
import { registryPathFrom } from '../grpcmetadata/path.js';
import { NullRegistry } from '../null/index.js';
import { tokenSubject } from '../../../tools/token/jwt.js';
import { registryPathSide } from './common.js';

/** Options of {@link authorizeRegistryServer}. */
export interface AuthorizeRegistryServerOptions<R> {
  /** Policies over the caller's side of the registry path; default the security's. */
  readonly pathPolicies?: readonly PathPolicy[];
  /** Policies over who registers what; default the security's. */
  readonly registryPolicies?: readonly RegistryPolicy[];
  /** When a registration ends (epoch ms), so its owner's claim ends with it; default never. */
  readonly expiresMs?: (item: R) => number | undefined;
}

/** Server side of registry `authorize`: see the module documentation. */
export class AuthorizeRegistryServer<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'authorize/server';
  /** Who registered which name. */
  readonly registrants = new RegistrantTable();
  private readonly pathPolicies: readonly PathPolicy[];
  private readonly registryPolicies: readonly RegistryPolicy[];

  constructor(
    private readonly kind: RegistryKind<R, Q, unknown>,
    private readonly security: Security,
    private readonly options: AuthorizeRegistryServerOptions<R> = {},
  ) {
    super();
    this.pathPolicies = options.pathPolicies ?? security.policies.registryPath;
    this.registryPolicies = options.registryPolicies ?? security.policies.registry;
  }

  /** Checks the call; returns the registrant's SPIFFE ID ('' without policies). */
  private async check(item: R, operation: 'register' | 'unregister', ctx: ChainContext): Promise<string> {
    if (this.pathPolicies.length === 0 && this.registryPolicies.length === 0) return '';
    const path = registryPathFrom(ctx);
    if (path === undefined) throw statusError(status.PERMISSION_DENIED, 'authorize: the call carries no registry path (put grpcmetadata and updatepath before authorize)');
    if (this.pathPolicies.length > 0) await enforce(this.pathPolicies, registryPathSide(path, 'server', ctx.value(PEER_AUTH_INFO), this.security));
    // The registrant is who signed the first segment: a manager passing a registration on is not its owner.
    const registrant = tokenSubject(path.segments[0]?.token ?? '');
    const name = this.kind.nameOf(item);
    const owner = this.registrants.ownerOf(name, this.security.clock.now());
    await enforce(this.registryPolicies, { operation, name, registrant, owner });
    return registrant;
  }

  override async register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    const registrant = await this.check(item, 'register', ctx);
    const registered = await next.register(item, ctx);
    if (registrant !== '') {
      const now = this.security.clock.now();
      this.registrants.claim(this.kind.nameOf(registered), registrant, this.options.expiresMs?.(registered) ?? Number.POSITIVE_INFINITY, now);
    }
    return registered;
  }

  override async unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    const registrant = await this.check(item, 'unregister', ctx);
    await next.unregister(item, ctx);
    if (registrant !== '') this.registrants.release(this.kind.nameOf(item));
  }
}

/** A registry `authorize` server element for `kind`. */
export function authorizeRegistryServer<R, Q>(
  kind: RegistryKind<R, Q, unknown>,
  security: Security,
  options: AuthorizeRegistryServerOptions<R> = {},
): AuthorizeRegistryServer<R, Q> {
  return new AuthorizeRegistryServer(kind, security, options);
}
