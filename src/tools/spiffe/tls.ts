/**
 * mTLS with X.509-SVIDs, on grpc-js. Both sides present the role's current SVID and check the other's
 * against the trust bundle; on top of the chain check that TLS does, the peer must be an SVID: a leaf
 * (no CA certificate), with exactly one `spiffe://` URI SAN, of a trusted trust domain.
 *
 * Rotation: the credentials read the source through grpc-js certificate providers, so a new SVID is used
 * for the next handshake (a server swaps its secure context) while established connections, and every
 * call on them, go on: a peer's HTTP/2 session is not dropped because a certificate was renewed.
 * @module
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate as TlsPeerCertificate } from 'node:tls';
import {
  experimental,
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status,
  type ChannelCredentials,
  type Client,
  type ServerCredentials,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import type { AuthContext } from '@grpc/grpc-js/build/src/auth-context.js';
import type { PeerAuthInfo } from '../token/types.js';
import { parseSpiffeId } from './id.js';
import type { X509Source, X509Svid } from './source.js';

/** grpc-js's certificate provider interface (experimental API), which the SVID provider implements. */
export type CertificateProvider = experimental.CertificateProvider;
type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/**
 * A grpc-js certificate provider over an {@link X509Source}: the CA side gives the bundle, the identity
 * side the SVID chain and key. Listeners get the current values at once and each rotation after.
 */
export class SvidCertificateProvider implements CertificateProvider {
  private readonly ca = new Set<CaListener>();
  private readonly identity = new Set<IdentityListener>();
  private latest: X509Svid | undefined;
  private readonly subscription;

  constructor(source: X509Source) {
    this.subscription = source.updates.subscribe((svid) => {
      this.latest = svid;
      for (const listener of this.ca) listener({ caCertificate: Buffer.from(svid.bundlePem) });
      for (const listener of this.identity) listener({ certificate: Buffer.from(svid.certPem), privateKey: Buffer.from(svid.keyPem) });
    });
  }

  // The current values go to a new listener on the next tick, never inside `add...Listener`: grpc-js
  // registers its listeners before it initialises the state they write to, so a synchronous call is
  // overwritten and the credentials stay without a certificate (as grpc-js's own providers do).
  addCaCertificateListener(listener: CaListener): void {
    this.ca.add(listener);
    process.nextTick(() => {
      if (this.latest !== undefined && this.ca.has(listener)) listener({ caCertificate: Buffer.from(this.latest.bundlePem) });
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.ca.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identity.add(listener);
    process.nextTick(() => {
      if (this.latest !== undefined && this.identity.has(listener)) {
        listener({ certificate: Buffer.from(this.latest.certPem), privateKey: Buffer.from(this.latest.keyPem) });
      }
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identity.delete(listener);
  }

  /** Stops following the source. */
  close(): void {
    this.subscription.unsubscribe();
  }
}

/** The certificate forms a peer's leaf comes in. */
/** A peer certificate as node gives it: a parsed X.509 certificate or a TLS socket's peer certificate. */
export type AnyPeerCertificate = X509Certificate | TlsPeerCertificate;

function sanOf(cert: AnyPeerCertificate): string {
  return (cert instanceof X509Certificate ? cert.subjectAltName : cert.subjectaltname) ?? '';
}

function isCa(cert: AnyPeerCertificate): boolean {
  return cert instanceof X509Certificate ? cert.ca : cert.ca === true;
}

/**
 * What makes `cert` unacceptable as a peer's X.509-SVID, or undefined when it is one: a CA certificate
 * as a leaf, no or several `spiffe://` URI SANs, or a trust domain not in `trustDomains`.
 */
export function svidProblem(cert: AnyPeerCertificate, trustDomains: ReadonlySet<string>): string | undefined {
  if (isCa(cert)) return 'the peer presented a CA certificate as its leaf, not an X.509-SVID';
  const uris = sanOf(cert)
    .split(', ')
    .filter((entry) => entry.startsWith('URI:spiffe://'));
  if (uris.length !== 1) return `the peer's certificate has ${uris.length} spiffe:// URI SANs; an X.509-SVID has exactly one`;
  let trustDomain: string;
  try {
    trustDomain = parseSpiffeId((uris[0] ?? '').slice(4)).trustDomain;
  } catch (error) {
    return `the peer's SPIFFE ID is invalid: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (!trustDomains.has(trustDomain)) return `the peer's trust domain "${trustDomain}" is not trusted here`;
  return undefined;
}

/** The SPIFFE ID of a certificate that passed {@link svidProblem}. */
function spiffeIdOfPeer(cert: AnyPeerCertificate): string {
  const uri = sanOf(cert)
    .split(', ')
    .find((entry) => entry.startsWith('URI:spiffe://'));
  return uri?.slice(4) ?? '';
}

/** The peer identity of a verified leaf. */
export function peerAuthInfoOf(cert: X509Certificate): PeerAuthInfo {
  return { spiffeId: spiffeIdOfPeer(cert), notAfter: new Date(cert.validTo), certificate: cert };
}

/** Options of the SPIFFE credentials. */
export interface SpiffeTlsOptions {
  /** Trust domains whose peers are accepted; default the trust domain of the source's own SVID. */
  readonly trustDomains?: readonly string[];
}

function trustedDomains(source: X509Source, options: SpiffeTlsOptions): ReadonlySet<string> {
  return new Set(options.trustDomains ?? [parseSpiffeId(source.current().spiffeId).trustDomain]);
}

/**
 * Server credentials (one provider per role: see {@link SvidCertificateProvider}) that require a client certificate chained to the bundle. Whether the client's
 * leaf is an SVID of a trusted domain is checked per call by {@link PeerVerifier} (grpc-js has no
 * handshake hook on the server side), before any element runs.
 */
export function spiffeServerCredentials(provider: SvidCertificateProvider): ServerCredentials {
  return experimental.createCertificateProviderServerCredentials(provider, provider, true);
}

/**
 * Channel credentials that present the SVID and accept a server only when its leaf is an SVID of a
 * trusted domain, chained to the bundle. The host name is not checked: a SPIFFE peer is named by its
 * ID, not by DNS (and unix sockets have no host). `onPeer` learns who answered each handshake, so the
 * channel knows its peer (see {@link channelPeer}).
 */
export function spiffeChannelCredentials(
  provider: SvidCertificateProvider,
  source: X509Source,
  options: SpiffeTlsOptions = {},
  onPeer?: (peer: PeerAuthInfo) => void,
): ChannelCredentials {
  return experimental.createCertificateProviderChannelCredentials(provider, provider, {
    checkServerIdentity: (_host, cert) => {
      const problem = svidProblem(cert, trustedDomains(source, options));
      if (problem !== undefined) return new Error(problem);
      if (onPeer !== undefined) onPeer(peerAuthInfoOf(new X509Certificate(cert.raw)));
      return undefined;
    },
  });
}

const peers = new WeakMap<Client, () => PeerAuthInfo | undefined>();

/** Tells {@link channelPeer} how to learn the peer of `client` (the channel pool does). */
export function trackChannelPeer(client: Client, peer: () => PeerAuthInfo | undefined): void {
  peers.set(client, peer);
}

/** The verified identity of the server a channel is connected to; undefined on insecure channels. */
export function channelPeer(client: Client | undefined): PeerAuthInfo | undefined {
  return client === undefined ? undefined : peers.get(client)?.();
}

/**
 * Turns the TLS peer of an incoming call into its {@link PeerAuthInfo}, once per certificate: many calls
 * arrive over one session with the same certificate, and parsing it is the expensive part.
 */
export class PeerVerifier {
  /** Per certificate: why it is refused, or '' when it is an SVID of a trusted domain. */
  private readonly problems = new Map<string, string>();

  constructor(private readonly trustDomains: () => ReadonlySet<string>) {}

  /** The peer of a call, from its auth context; a string says why the peer is refused. */
  peerOf(cert: TlsPeerCertificate | undefined): PeerAuthInfo | string {
    if (cert?.raw === undefined) return 'the call came without a client certificate';
    const fingerprint = cert.fingerprint256;
    let problem = this.problems.get(fingerprint);
    if (problem === undefined) {
      problem = svidProblem(cert, this.trustDomains()) ?? '';
      if (this.problems.size >= 1024) this.problems.clear();
      this.problems.set(fingerprint, problem);
    }
    return problem !== '' ? problem : (callPeer({ sslPeerCertificate: cert }) ?? 'the call came without a client certificate');
  }

  /** A verifier for the peers of a server whose own identity comes from `source`. */
  static forSource(source: X509Source, options: SpiffeTlsOptions = {}): PeerVerifier {
    return new PeerVerifier(() => trustedDomains(source, options));
  }
}

/**
 * A server interceptor that refuses, with UNAUTHENTICATED and the reason, every call whose TLS peer is
 * not an X.509-SVID of a trusted domain, before any service (health included) sees it. The chain check
 * itself was TLS's; this adds what TLS does not know about SPIFFE.
 */
export function svidServerInterceptor(verifier: PeerVerifier): ServerInterceptor {
  return (_method, call) => {
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const peer = verifier.peerOf(call.getAuthContext().sslPeerCertificate);
        if (typeof peer === 'string') call.sendStatus({ code: status.UNAUTHENTICATED, details: `mTLS: ${peer}` });
        else next(metadata);
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}

const callPeers = new Map<string, PeerAuthInfo>();

/**
 * The TLS identity of an incoming call (its auth context), or undefined on a plaintext call. Parsed once
 * per certificate, for the interceptor and the serving layer alike; the interceptor has already refused
 * every peer that is not an SVID.
 */
export function callPeer(auth: Pick<AuthContext, 'sslPeerCertificate'> | null | undefined): PeerAuthInfo | undefined {
  const cert = auth?.sslPeerCertificate;
  if (cert?.raw === undefined) return undefined;
  let info = callPeers.get(cert.fingerprint256);
  if (info === undefined) {
    info = peerAuthInfoOf(new X509Certificate(cert.raw));
    if (callPeers.size >= 1024) callPeers.clear();
    callPeers.set(cert.fingerprint256, info);
  }
  return info;
}
