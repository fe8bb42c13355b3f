/**
 * `connect`: where a chain meets the network. The client element makes the real gRPC call over the
 * channel held for the connection (see `dial`/`clientconn`) and ends the client chain. The server element
 * runs a whole client chain (towards the next hop), then the rest of the server chain with the connection
 * it got back; if the rest fails, it closes what it opened downstream, so a failed request leaks nothing.
 * @module
 */
export { ConnectClient, connectClient } from './client.js';
export { ConnectServer, connectServer, type ConnectServerOptions } from './server.js';
