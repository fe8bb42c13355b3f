import type { NetworkServiceEndpoint } from '../../../api/gen/registry.js';
import { millisFromTimestamp } from '../../../api/path.js';
import type { PathPolicyInput } from '../../../tools/policy/path.js';
import type { Security } from '../../../tools/security/index.js';
import type { PeerAuthInfo } from '../../../tools/token/types.js';
import type { RegistryPath } from '../grpcmetadata/path.js';

/** The policy input of one side of a registry path (see `tools/policy/path`); registry segments have no names. */
export function registryPathSide(path: RegistryPath, side: 'server' | 'client', peer: PeerAuthInfo | undefined, security: Security): PathPolicyInput {
  const judged = side === 'server' ? path.segments.slice(0, path.index + 1) : path.segments.slice(path.index);
  return {
    segments: judged.map((segment) => ({ name: '', token: segment.token })),
    offset: side === 'server' ? 0 : path.index,
    side,
    peer,
    bundle: security.bundle(),
    verifier: security.verifier,
    now: security.clock.now(),
  };
}

/** When an endpoint registration ends (its `expiration_time`), for the registrant table. */
export function nseExpiresMs(item: NetworkServiceEndpoint): number | undefined {
  return item.expirationTime === undefined ? undefined : millisFromTimestamp(item.expirationTime);
}
