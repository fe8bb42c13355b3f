/**
 * Context keys for what gRPC carries next to a message: the metadata a server received with a call,
 * the metadata a client element wants sent with its call, and the peer's address.
 * @module
 */
import type { Metadata } from '@grpc/grpc-js';
import { ContextKey } from '../../networkservice/core/context.js';

/** Metadata received with the incoming call (set by the serving layer). */
export const INCOMING_METADATA = new ContextKey<Metadata>('grpc.incomingMetadata');

/**
 * Metadata to send with the outgoing call. Client elements add entries to this mutable object; `connect`
 * attaches it to the call. Created per outgoing call by the client chain's first element that needs it.
 */
export const OUTGOING_METADATA = new ContextKey<Metadata>('grpc.outgoingMetadata');

/** The peer address of the incoming call, as grpc-js reports it. */
export const PEER_ADDRESS = new ContextKey<string>('grpc.peer');

/**
 * Called with the response headers of the outgoing call. A client element that needs what the server sent
 * back in headers (the registry path) sets it; `connect` passes the headers on.
 */
export const RESPONSE_HEADERS = new ContextKey<(headers: Metadata) => void>('grpc.responseHeaders');

/**
 * Headers the serving layer sends back before the response. Created per incoming call; server elements
 * add entries to it (the registry path).
 */
export const SEND_HEADERS = new ContextKey<Metadata>('grpc.sendHeaders');
