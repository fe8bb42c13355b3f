import type { Connection, ConnectionEvent } from '../../../api/gen/connection.js';
import { ConnectionEventType } from '../../../api/gen/connection.js';
import type { MonitorPolicy } from '../../../tools/policy/monitor.js';

/**
 * The MonitorConnection side of `authorize`: a filter over the events one caller receives, keeping the
 * connections every monitor policy lets `caller` see. An update left with no connection is dropped;
 * the initial state is always sent (possibly empty), so a watcher knows it is subscribed. Undefined
 * means "send nothing".
 */
export function authorizeMonitorEvents(
  policies: readonly MonitorPolicy[],
  caller: string | undefined,
): (event: ConnectionEvent) => ConnectionEvent | undefined {
  if (policies.length === 0) return (event) => event;
  const allowed = (connection: Connection): boolean => policies.every((p) => p.check({ caller, connection }) === undefined);
  return (event) => {
    const connections: { [id: string]: Connection } = {};
    let kept = 0;
    for (const [id, connection] of Object.entries(event.connections)) {
      if (!allowed(connection)) continue;
      connections[id] = connection;
      kept++;
    }
    if (kept === 0 && event.type !== ConnectionEventType.INITIAL_STATE_TRANSFER) return undefined;
    return kept === Object.keys(event.connections).length ? event : { ...event, connections };
  };
}
