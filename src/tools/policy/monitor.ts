/**
 * The MonitorConnection policy: a caller sees only the connections it is part of, those whose path
 * holds a segment signed by its SPIFFE ID. Without it any workload of the trust domain could watch every
 * connection of a manager: who talks to which service, and their addresses. Upstream has the policy but
 * leaves it off; here it is on by default.
 *
 * Monitor policies are synchronous: they filter a stream of events, one connection at a time.
 * @module
 */
import type { Connection } from '../../api/gen/connection.js';
import { tokenSubject } from '../token/jwt.js';
import type { PolicyViolation } from './types.js';

/** What a monitor policy judges: one connection, for one watching caller. */
export interface MonitorPolicyInput {
  /** The watching caller's SPIFFE ID (its TLS identity), or undefined when it has none. */
  readonly caller: string | undefined;
  /** A connection the caller would see. */
  readonly connection: Connection;
}

/** A synchronous policy over what a monitor shows. */
export interface MonitorPolicy {
  /** The policy's name. */
  readonly name: string;
  /** Undefined when the caller may see the connection. */
  check(input: MonitorPolicyInput): PolicyViolation | undefined;
}

/** Whether one of the connection's path segments names `caller` as its signer (an unreadable token names nobody). */
function onPath(connection: Connection, caller: string): boolean {
  return (connection.path?.pathSegments ?? []).some((segment) => tokenSubject(segment.token) === caller);
}

/** The caller sees a connection only when one of its path segments is signed by the caller. */
export const ownConnections: MonitorPolicy = {
  name: 'monitor_own_connections',
  check: (input) => {
    if (input.caller !== undefined && onPath(input.connection, input.caller)) return undefined;
    return { reason: `${input.caller ?? 'a caller without an identity'} is not on the path of connection ${input.connection.id}` };
  },
};

/** The default monitor policies: own connections only. */
export function defaultMonitorPolicies(): MonitorPolicy[] {
  return [ownConnections];
}
