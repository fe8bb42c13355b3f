/**
 * Certificates TLS alone would accept but an X.509-SVID check must not: a CA certificate presented as a
 * leaf (it chains to the bundle: it is the bundle), and a leaf of the trust domain's CA without a SPIFFE
 * ID. Both are refused by the serving layer (UNAUTHENTICATED "mTLS: ...") before any chain element runs.
 */
import 'reflect-metadata';
import { expect } from 'chai';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { createClient } from '../../../src/networkservice/chains/client/client.js';
import { endpointChain } from '../../../src/networkservice/chains/endpoint/chain.js';
import { serveEndpoint } from '../../../src/networkservice/chains/endpoint/serve.js';
import { ChannelPool } from '../../../src/networkservice/common/dial/index.js';
import { status } from '../../../src/tools/grpc/status.js';
import { mtlsSecurity } from '../../../src/tools/security/index.js';
import type { X509Svid } from '../../../src/tools/spiffe/index.js';
import { svidProblem } from '../../../src/tools/spiffe/tls.js';
import { devSource, ManualSource, trustDomain } from '../../helpers/svid.js';
import { statusRejection } from '../../helpers/status.js';
import { tempSocketDir } from '../../helpers/servers.js';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** An SVID object as a forger would hand it to TLS, without the checks `parseSvid` makes. */
function forged(certPem: string, keyPem: string, bundlePem: string, spiffeId: string): X509Svid {
  return { spiffeId, certPem, keyPem, leaf: new X509Certificate(certPem), key: createPrivateKey(keyPem), bundlePem };
}

/** A leaf signed by the CA whose only SAN is a DNS name (or, with `asCa`, a CA certificate that TLS accepts for client auth). */
async function leafWithoutSpiffeId(caCertPem: string, caKeyPem: string, asCa?: { readonly spiffeId: string }): Promise<{ certPem: string; keyPem: string }> {
  const caCert = new x509.X509Certificate(caCertPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', createPrivateKey(caKeyPem).export({ type: 'pkcs8', format: 'der' }), ALGORITHM, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: 'CN=not-an-svid',
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(asCa !== undefined, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | (asCa === undefined ? 0 : x509.KeyUsageFlags.keyCertSign), true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(asCa === undefined ? [{ type: 'dns', value: 'localhost' }] : [{ type: 'url', value: asCa.spiffeId }]),
    ],
  });
  const keyPem = webcrypto.subtle.exportKey('pkcs8', keys.privateKey).then((der) => `-----BEGIN PRIVATE KEY-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`);
  return { certPem: cert.toString('pem'), keyPem: await keyPem };
}

describe('certificates that are not X.509-SVIDs (real TLS)', function () {
  this.timeout(20_000);

  it('svidProblem names each fault', async () => {
    const ca = await trustDomain('example.org');
    const trusted = new Set(['example.org']);
    expect(svidProblem(new X509Certificate(ca.certPem), trusted)).to.match(/CA certificate as its leaf/);
    const plain = await leafWithoutSpiffeId(ca.certPem, ca.keyPem);
    expect(svidProblem(new X509Certificate(plain.certPem), trusted)).to.match(/0 spiffe:\/\/ URI SANs/);
    const good = await devSource(ca, 'spiffe://example.org/nsc/a');
    expect(svidProblem(good.current().leaf, trusted)).to.equal(undefined);
    expect(svidProblem(good.current().leaf, new Set(['other.org']))).to.match(/trust domain "example.org" is not trusted/);
    good.close();
  });

  it('a client presenting the CA certificate as its leaf, or a leaf without a SPIFFE ID, is refused before any element runs', async () => {
    const ca = await trustDomain('example.org');
    const sockets = tempSocketDir();
    const serverSource = await devSource(ca, 'spiffe://example.org/nse/target');
    const security = mtlsSecurity(serverSource);
    let requests = 0;
    const chain = endpointChain({
      name: 'target',
      security,
      additionalFunctionality: [{ request: async (r) => (requests++, r.connection!), close: async () => undefined }],
    });
    const served = await serveEndpoint(sockets.socket('target'), chain, { security });
    const pool = new ChannelPool();
    const plain = await leafWithoutSpiffeId(ca.certPem, ca.keyPem);
    const subCa = await leafWithoutSpiffeId(ca.certPem, ca.keyPem, { spiffeId: 'spiffe://example.org/nsc/evil' });
    const attackers = [
      // The root itself has no key usage for TLS client auth: the handshake fails, nothing is served.
      { what: 'the root CA certificate as a leaf', svid: forged(ca.certPem, ca.keyPem, ca.certPem, 'spiffe://example.org'), code: status.UNAVAILABLE, message: /dial .*target\.sock/ },
      // A CA certificate TLS does accept for client auth (it chains to the root): refused as not a leaf.
      { what: 'a CA certificate with a SPIFFE ID', svid: forged(subCa.certPem, subCa.keyPem, ca.certPem, 'spiffe://example.org/nsc/evil'), code: status.UNAUTHENTICATED, message: /mTLS: .*CA certificate as its leaf/ },
      { what: 'a leaf without a SPIFFE ID', svid: forged(plain.certPem, plain.keyPem, ca.certPem, ''), code: status.UNAUTHENTICATED, message: /mTLS: .*0 spiffe:\/\/ URI SANs/ },
    ];
    try {
      for (const attacker of attackers) {
        const source = new ManualSource(attacker.svid);
        const client = createClient({ name: 'attacker', connectTo: served.url, heal: false, security: mtlsSecurity(source, { trustDomains: ['example.org'] }), dialOptions: { pool } });
        try {
          const error = await statusRejection(client.request({ connection: { networkService: 'svc' } }, { timeoutMs: 5000 }));
          expect(error.code, `${attacker.what}: ${error.message}`).to.equal(attacker.code);
          expect(error.message, attacker.what).to.match(attacker.message);
        } finally {
          await client.dispose({ timeoutMs: 500 });
          source.close();
        }
      }
      expect(requests, 'no request reached the endpoint').to.equal(0);
      expect(served.connections.size).to.equal(0);
    } finally {
      pool.closeAll();
      await served.stop();
      serverSource.close();
      sockets.cleanup();
    }
  });
});
