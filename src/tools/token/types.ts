/**
 * The token generator type and what it knows about the peer.
 * @module
 */
import type { X509Certificate } from 'node:crypto';
import { ContextKey } from '../../networkservice/core/context.js';

/**
 * What the transport knows about the other side of a call. Empty on insecure channels; with mTLS it
 * carries the peer's SPIFFE identity, so that a token can name its audience and never outlive the
 * peer's certificate.
 */
export interface PeerAuthInfo {
  /** The peer's SPIFFE ID (the URI SAN of its X.509 SVID), e.g. `spiffe://example.org/nsmgr`. */
  readonly spiffeId?: string;
  /** When the peer's certificate stops being valid. */
  readonly notAfter?: Date;
  /** The peer's leaf certificate, when the transport has one. */
  readonly certificate?: X509Certificate;
}

/** A token and the moment it stops being valid. */
export interface GeneratedToken {
  /** The token as sent on the wire (a compact JWT). */
  readonly token: string;
  /** When the token stops being valid. */
  readonly expires: Date;
}

/**
 * Makes a token that proves our identity to `peer` (or to anyone, when the peer is unknown).
 * Rejects when no token can be made.
 */
export type TokenGenerator = (peer: PeerAuthInfo | undefined) => Promise<GeneratedToken>;

/**
 * The TLS identity of the peer of the incoming call. The serving layer sets it when the transport is
 * secure; a server element that makes tokens passes it to its generator.
 */
export const PEER_AUTH_INFO = new ContextKey<PeerAuthInfo>('grpc.peerAuthInfo');
