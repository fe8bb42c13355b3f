/**
 * A development trust domain, for machines without SPIRE: a CA (ECDSA P-256, self-signed, with the trust
 * domain's SPIFFE ID as its URI SAN) that issues X.509-SVIDs as the SPIFFE X.509-SVID specification
 * describes them: a leaf (not a CA), one URI SAN holding the SPIFFE ID, digital signature key usage,
 * client and server authentication, chained to the bundle. The certificates are made by @peculiar/x509
 * (a kept X.509 library over WebCrypto), not by hand-written ASN.1.
 *
 * On disk a trust domain is a directory with `ca.pem`, `ca_key.pem` (mode 0600) and `trust_domain`; an
 * issued SVID is a directory as spiffe-helper writes one: `svid.pem`, `svid_key.pem` (0600) and
 * `svid_bundle.pem`.
 * @module
 */
// @peculiar/x509 resolves its parts through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { createPrivateKey, KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { parseSpiffeId } from './id.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** File names of a trust domain directory and of an SVID directory. */
export const TRUST_DOMAIN_FILES = { cert: 'ca.pem', key: 'ca_key.pem', name: 'trust_domain' } as const;
/** The file names spiffe-helper writes. */
export const SVID_FILES = { cert: 'svid.pem', key: 'svid_key.pem', bundle: 'svid_bundle.pem' } as const;

/** A development CA. */
export interface DevTrustDomain {
  /** The trust domain, e.g. `example.org`. */
  readonly trustDomain: string;
  /** The CA certificate, PEM: the trust bundle of the domain. */
  readonly certPem: string;
  /** The CA's private key, PKCS#8 PEM. */
  readonly keyPem: string;
}

/** An issued X.509-SVID. */
export interface IssuedSvid {
  /** The SPIFFE ID in the certificate's URI SAN. */
  readonly spiffeId: string;
  /** The leaf certificate, PEM. */
  readonly certPem: string;
  /** Its private key, PKCS#8 PEM. */
  readonly keyPem: string;
  /** The trust bundle (the CA certificate), PEM. */
  readonly bundlePem: string;
  /** When the certificate stops being valid. */
  readonly notAfter: Date;
}

function serialNumber(): string {
  // Positive, 16 bytes: the top bit cleared so that DER does not read it as negative.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

async function keyPair(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
}

function pkcs8Pem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

async function importPrivateKey(pem: string): Promise<webcrypto.CryptoKey> {
  const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
}

/** Makes a CA for `trustDomain`, valid for `lifetimeMs` (default ten years). */
export async function createDevTrustDomain(trustDomain: string, lifetimeMs = 10 * 365 * 24 * 3600 * 1000): Promise<DevTrustDomain> {
  const id = parseSpiffeId(`spiffe://${trustDomain}`);
  const keys = await keyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=nsm-sdk development CA, O=${id.trustDomain}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + lifetimeMs),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: id.text }]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { trustDomain: id.trustDomain, certPem: cert.toString('pem'), keyPem: pkcs8Pem(keys.privateKey) };
}

/**
 * Issues an X.509-SVID for `spiffeId` (which must be in the CA's trust domain), valid from a minute ago
 * (clock skew) for `lifetimeMs`, never past the CA's own expiry.
 */
export async function issueSvid(ca: DevTrustDomain, spiffeId: string, lifetimeMs: number): Promise<IssuedSvid> {
  const id = parseSpiffeId(spiffeId);
  if (id.trustDomain !== ca.trustDomain) {
    throw new TypeError(`${spiffeId} is not in the trust domain ${ca.trustDomain} of this CA`);
  }
  if (id.path === '') throw new TypeError(`${spiffeId} names a trust domain, not a workload: an SVID needs a path`);
  if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0) throw new TypeError(`an SVID lifetime must be a positive number of ms, got ${lifetimeMs}`);
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importPrivateKey(ca.keyPem);
  const keys = await keyPair();
  const now = Date.now();
  const notAfter = new Date(Math.min(now + lifetimeMs, caCert.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `O=${id.trustDomain}`,
    issuer: caCert.subject,
    notBefore: new Date(now - 60_000),
    notAfter,
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: id.text }], true),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { spiffeId: id.text, certPem: cert.toString('pem'), keyPem: pkcs8Pem(keys.privateKey), bundlePem: ca.certPem, notAfter };
}

/** Writes a trust domain to `dir` (created when missing; the key readable by its owner only). */
export async function writeDevTrustDomain(dir: string, ca: DevTrustDomain): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, TRUST_DOMAIN_FILES.cert), ca.certPem);
  await writeFile(join(dir, TRUST_DOMAIN_FILES.key), ca.keyPem, { mode: 0o600 });
  await writeFile(join(dir, TRUST_DOMAIN_FILES.name), `${ca.trustDomain}\n`);
}

/** Reads a trust domain written by {@link writeDevTrustDomain}; throws naming the file that is missing or wrong. */
export async function readDevTrustDomain(dir: string): Promise<DevTrustDomain> {
  const read = async (file: string): Promise<string> => {
    try {
      return await readFile(join(dir, file), 'utf8');
    } catch (error) {
      throw new Error(`${join(dir, file)}: cannot read the trust domain (${(error as NodeJS.ErrnoException).code ?? String(error)}); make one with nsm trust-domain init`, { cause: error });
    }
  };
  const trustDomain = (await read(TRUST_DOMAIN_FILES.name)).trim();
  const certPem = await read(TRUST_DOMAIN_FILES.cert);
  const keyPem = await read(TRUST_DOMAIN_FILES.key);
  parseSpiffeId(`spiffe://${trustDomain}`);
  const cert = new X509Certificate(certPem);
  if (!cert.ca) throw new Error(`${join(dir, TRUST_DOMAIN_FILES.cert)} is not a CA certificate`);
  if (!cert.checkPrivateKey(createPrivateKey(keyPem))) {
    throw new Error(`${join(dir, TRUST_DOMAIN_FILES.key)} is not the key of ${join(dir, TRUST_DOMAIN_FILES.cert)}`);
  }
  return { trustDomain, certPem, keyPem };
}

/** Writes an SVID to `dir` as spiffe-helper does (created when missing; the key readable by its owner only). */
export async function writeSvidFiles(dir: string, svid: IssuedSvid): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, SVID_FILES.key), svid.keyPem, { mode: 0o600 });
  await writeFile(join(dir, SVID_FILES.cert), svid.certPem);
  await writeFile(join(dir, SVID_FILES.bundle), svid.bundlePem);
}
