import type { NetworkServiceEndpoint } from '../../../api/gen/registry.js';
import { millisFromTimestamp } from '../../../api/path.js';
import { pathSideInput, type PathPolicyInput } from '../../../tools/policy/path.js';
import type { Security } from '../../../tools/security/index.js';
import type { PeerAuthInfo } from '../../../tools/token/types.js';
import type { RegistryPath } from '../grpcmetadata/path.js';

/** The policy input of one side of a registry path (see `tools/policy/path`); registry segments have no names. */
export function registryPathSide(path: RegistryPath, side: 'server' | 'client', peer: PeerAuthInfo | undefined, security: Security): PathPolicyInput {
  return pathSideInput(
    path.segments.map((segment) => ({ name: '', token: segment.token })),
    path.index,
    side,
    peer,
    security,
  );
}

/** When an endpoint registration ends (its `expiration_time`), for the registrant table. */
export function nseExpiresMs(item: NetworkServiceEndpoint): number | undefined {
  return item.expirationTime === undefined ? undefined : millisFromTimestamp(item.expirationTime);
}
