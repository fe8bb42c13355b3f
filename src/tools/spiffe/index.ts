/**
 * SPIFFE identities: SPIFFE IDs and a development trust domain that issues X.509-SVIDs. The X.509
 * source of a role (Workload API, files, dev trust domain) and mTLS build on these (the zero-trust
 * issue).
 * @module
 */
export { type SpiffeId, parseSpiffeId, roleSpiffeId, spiffeIdProblem } from './id.js';
export {
  createDevTrustDomain,
  type DevTrustDomain,
  issueSvid,
  type IssuedSvid,
  readDevTrustDomain,
  SVID_FILES,
  TRUST_DOMAIN_FILES,
  writeDevTrustDomain,
  writeSvidFiles,
} from './devca.js';
export {
  BaseX509Source,
  DevTrustDomainSource,
  type DevTrustDomainSourceOptions,
  FileSource,
  parseSvid,
  spiffeIdOf,
  type X509Source,
  type X509Svid,
} from './source.js';
export type { X509SVID, X509SVIDResponse } from '../../api/gen/spiffe/workload.js';
export { WorkloadApiSource, type WorkloadApiSourceOptions, workloadApiTarget } from './workloadapi.js';
export {
  type AnyPeerCertificate,
  callPeer,
  type CertificateProvider,
  channelPeer,
  PeerVerifier,
  peerAuthInfoOf,
  type SpiffeTlsOptions,
  spiffeChannelCredentials,
  spiffeServerCredentials,
  SvidCertificateProvider,
  svidProblem,
  svidServerInterceptor,
  trackChannelPeer,
} from './tls.js';
