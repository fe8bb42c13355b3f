/**
 * The endpoint chain: what a Network Service Endpoint serves. In upstream order: updatepath → begin →
 * updatetoken → metadata → timeout → monitor → trimpath → [your elements]; authorize joins it with the
 * security work. `timeout` closes a connection whose caller stopped refreshing it, before the caller's
 * token expires; `monitor` feeds the MonitorConnection service that {@link serveEndpoint} serves next to
 * NetworkService. It starts with `validate`, which rejects what no NSM peer sends before anything is stored, and
 * `endpointname` stamps the endpoint's name on connections that arrive without one (a client that dialed
 * the endpoint directly, with no manager to choose it).
 * @module
 */
export { endpointChain, isMonitored, withMonitor, type EndpointOptions, type MonitoredChain } from './chain.js';
export { serveEndpoint, type ServedEndpoint } from './serve.js';
