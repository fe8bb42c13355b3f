import type { Connection } from '../../../api/gen/connection.js';
import type { PathPolicyInput } from '../../../tools/policy/path.js';
import type { Security } from '../../../tools/security/index.js';
import type { PeerAuthInfo } from '../../../tools/token/types.js';

/** The policy input of one side of a connection's path (see `tools/policy/path`). */
export function pathSide(conn: Connection, side: 'server' | 'client', peer: PeerAuthInfo | undefined, security: Security): PathPolicyInput {
  const segments = conn.path?.pathSegments ?? [];
  const index = conn.path?.index ?? 0;
  // Server: the caller's side, up to and including this hop. Client: this hop and what came back.
  const judged = side === 'server' ? segments.slice(0, index + 1) : segments.slice(index);
  return {
    segments: judged.map((segment) => ({ name: segment.name, token: segment.token })),
    offset: side === 'server' ? 0 : index,
    side,
    peer,
    bundle: security.bundle(),
    verifier: security.verifier,
    now: security.clock.now(),
  };
}
