/**
 * `updatetoken`: signs this hop's path segment. Each hop writes a fresh token and its expiry into its
 * own segment on every Request and Close, so the path records who took part and until when; refreshes
 * renew the tokens before they expire. The server side also copies the token the caller sent in the
 * gRPC metadata (`nsm-client-token`, `nsm-client-token-expires`) into the caller's segment, so the token
 * in a segment is the one its hop really presented to the next hop; the client side sends that metadata.
 * `authorize` then checks the tokens. Put it after `updatepath`, which makes the segment it signs.
 * @module
 */
export { UpdateTokenServer, updateTokenServer } from './server.js';
export { UpdateTokenClient, updateTokenClient } from './client.js';
