import type { Connection } from '../../../api/gen/connection.js';
import { pathSideInput, type PathPolicyInput } from '../../../tools/policy/path.js';
import type { Security } from '../../../tools/security/index.js';
import type { PeerAuthInfo } from '../../../tools/token/types.js';

/** The policy input of one side of a connection's path (see `tools/policy/path`). */
export function pathSide(conn: Connection, side: 'server' | 'client', peer: PeerAuthInfo | undefined, security: Security): PathPolicyInput {
  return pathSideInput(conn.path?.pathSegments ?? [], conn.path?.index ?? 0, side, peer, security);
}
