/**
 * `monitor`: the MonitorConnection service of every role, and what feeds it. Each role keeps a
 * {@link ConnectionMonitor} of the connections it holds; `monitorServer` (in the endpoint, manager and
 * forwarder chains) records what the role returns and closes, and watches the next hop's monitor so that a
 * failure further down (an endpoint that died) reaches the client as an UPDATE with state DOWN, hop by hop.
 * `monitorClient` does the same for a client's own connections, so applications can watch them as an rxjs
 * Observable. Watchers choose what they see with a scope selector (path segments, network services).
 * A role watches each next hop over one stream per peer ({@link watchAtPeer}), not one per connection.
 * @module
 */
export { ConnectionMonitor } from './hub.js';
export { MonitorServer, monitorServer, MonitorClient, monitorClient } from './server.js';
export { MONITOR_SERVICE_NAME, monitorImplementation, serveMonitorConnection, watchConnections, type MonitorBinding } from './serve.js';
export { watchAtPeer, ownSegmentName, peerStreams, peerWatchers, type PeerWatcher } from './peer.js';
