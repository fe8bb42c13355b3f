/**
 * `begin`: the start of every chain's lifecycle handling. Per connection id it runs events one at a time
 * in arrival order (so a refresh never races a Close), closes the last connection the chain returned
 * successfully (so a failed re-request cannot leak the good path), and hands the elements after it an
 * {@link EventFactory} to re-run Request or Close later (refresh, timeout, heal), including a reselect:
 * close the old path, clear the mechanism and endpoint, mark RESELECT_REQUESTED and request again.
 * @module
 */
export { BeginServer, beginServer } from './server.js';
export { BeginClient, beginClient, mergeConnection } from './client.js';
export { eventFactoryFrom, isLocalEvent, isReselectClose, ConnectionState, ConnectionStates, type EventFactory, type EventOptions, type Phase, type AskedAddresses } from './eventfactory.js';
