import type { ChainContext } from '../../../networkservice/core/context.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import type { PathPolicy } from '../../../tools/policy/path.js';
import { firstViolation, permissionDenied } from '../../../tools/policy/types.js';
import type { Security } from '../../../tools/security/index.js';
import { channelPeer } from '../../../tools/spiffe/tls.js';
import type { RegistryHandler } from '../../core/types.js';
import { registryChannelFrom } from '../dial/index.js';
import { registryPathFrom } from '../grpcmetadata/path.js';
import { NullRegistry } from '../null/index.js';
import { registryPathSide } from './common.js';

/** Client side of registry `authorize`: see the module documentation. */
export class AuthorizeRegistryClient<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'authorize/client';
  private readonly policies: readonly PathPolicy[];

  constructor(
    private readonly security: Security,
    policies?: readonly PathPolicy[],
  ) {
    super();
    this.policies = policies ?? security.policies.client;
  }

  override async register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    const registered = await next.register(item, ctx);
    // `grpcmetadata` has put the path the registry sent back into the context's path.
    const path = registryPathFrom(ctx);
    if (this.policies.length === 0 || path === undefined) return registered;
    const failed = await firstViolation(this.policies, registryPathSide(path, 'client', channelPeer(registryChannelFrom(ctx)), this.security));
    if (failed === undefined) return registered;
    // A registration the registry holds for a peer we do not trust: take it back before refusing.
    try {
      await next.unregister(registered, ctx);
    } catch (error) {
      ctx.logger.warn('authorize: unregistering a refused registration failed', { error: errorMessage(error) });
    }
    throw permissionDenied(failed.policy.name, failed.violation);
  }
}

/** A registry `authorize` client element (default: the security's client policies). */
export function authorizeRegistryClient<R, Q>(security: Security, policies?: readonly PathPolicy[]): AuthorizeRegistryClient<R, Q> {
  return new AuthorizeRegistryClient(security, policies);
}
