/**
 * X.509 sources: where a role gets its identity. A source holds the current X.509-SVID (certificate
 * chain, key, SPIFFE ID) and the trust bundle, and tells when they change, so TLS and token signing
 * always use the newest ones without dropping anything that runs.
 *
 * - {@link DevTrustDomainSource}: mints its own short-lived SVID from a development CA
 *   (`NSM_TRUST_DOMAIN_DIR`) and mints the next one at half its lifetime;
 * - {@link FileSource}: reads `svid.pem`, `svid_key.pem` and `svid_bundle.pem` from a directory (as
 *   spiffe-helper writes them) and reads them again when they change.
 * @module
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BehaviorSubject, filter, type Observable } from 'rxjs';
import { systemClock, type Clock, type TimerHandle } from '../clock/index.js';
import { issueSvid, readDevTrustDomain, SVID_FILES, type DevTrustDomain } from './devca.js';
import { parseSpiffeId } from './id.js';

/** The identity a source holds now. */
export interface X509Svid {
  /** The SPIFFE ID of the leaf's URI SAN. */
  readonly spiffeId: string;
  /** The certificate chain, leaf first, PEM. */
  readonly certPem: string;
  /** The leaf's private key, PEM. */
  readonly keyPem: string;
  /** The leaf, parsed. */
  readonly leaf: X509Certificate;
  /** The private key, parsed. */
  readonly key: KeyObject;
  /** The trust bundle (CA certificates), PEM. */
  readonly bundlePem: string;
}

/** A source of X.509-SVIDs and bundles. */
export interface X509Source {
  /** The current SVID; throws when the source has none yet (see {@link X509Source.ready}). */
  current(): X509Svid;
  /** Resolves with the first SVID. */
  ready(): Promise<X509Svid>;
  /** Every SVID from the current one on (new ones on rotation). */
  readonly updates: Observable<X509Svid>;
  /** Stops rotating and watching; `updates` completes. */
  close(): void;
}

/** The SPIFFE ID of a leaf certificate: its one `spiffe://` URI SAN. Throws when there is none or several. */
export function spiffeIdOf(cert: X509Certificate): string {
  const uris = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4));
  const spiffe = uris.filter((uri) => uri.startsWith('spiffe://'));
  if (spiffe.length !== 1) throw new Error(`an X.509-SVID has exactly one spiffe:// URI SAN; this certificate has ${spiffe.length}`);
  return parseSpiffeId(spiffe[0] ?? '').text;
}

/** Parses and checks an SVID: the key is the leaf's, the leaf is no CA and has one SPIFFE ID. */
export function parseSvid(certPem: string, keyPem: string, bundlePem: string): X509Svid {
  const leaf = new X509Certificate(certPem);
  const key = createPrivateKey(keyPem);
  if (leaf.ca) throw new Error('an X.509-SVID leaf may not be a CA certificate');
  if (!leaf.checkPrivateKey(key)) throw new Error('the private key does not belong to the certificate');
  return { spiffeId: spiffeIdOf(leaf), certPem, keyPem, leaf, key, bundlePem };
}

/**
 * The common part of the sources: the current SVID in a subject, `ready()` resolving with the first one.
 * A source pushes each new SVID with `this.subject.next(...)`, fails a source that never had one with
 * `this.subject.error(...)`, and completes the subject in `close()`.
 */
export abstract class BaseX509Source implements X509Source {
  protected readonly subject = new BehaviorSubject<X509Svid | undefined>(undefined);
  readonly updates: Observable<X509Svid> = this.subject.pipe(filter((svid): svid is X509Svid => svid !== undefined));
  private first: Promise<X509Svid> | undefined;

  current(): X509Svid {
    const svid = this.subject.value;
    if (svid === undefined) throw new Error('the X.509 source has no SVID yet');
    return svid;
  }

  ready(): Promise<X509Svid> {
    this.first ??= new Promise<X509Svid>((resolve, reject) => {
      const subscription = this.subject.subscribe({
        next: (svid) => {
          if (svid === undefined) return;
          resolve(svid);
          queueMicrotask(() => subscription.unsubscribe());
        },
        error: reject,
        complete: () => reject(new Error('the X.509 source closed before it had an SVID')),
      });
    });
    return this.first;
  }

  abstract close(): void;
}

/** Options of {@link DevTrustDomainSource}. */
export interface DevTrustDomainSourceOptions {
  /** The SPIFFE ID to mint, e.g. `spiffe://example.org/nsmgr/node-1`. */
  readonly spiffeId: string;
  /** Each SVID's lifetime (ms); default one hour. The next is minted at half of it. */
  readonly lifetimeMs?: number;
  /** The clock of the rotation timer. */
  readonly clock?: Clock;
  /** Called when minting the next SVID failed (the current one stays; minting is tried again in a tenth of the lifetime). */
  readonly onError?: (error: unknown) => void;
}

/** Mints and rotates its own SVID from a development CA. */
export class DevTrustDomainSource extends BaseX509Source {
  private timer: TimerHandle | undefined;
  private closed = false;
  private readonly lifetimeMs: number;
  private readonly clock: Clock;

  constructor(
    private readonly ca: DevTrustDomain,
    private readonly options: DevTrustDomainSourceOptions,
  ) {
    super();
    this.lifetimeMs = options.lifetimeMs ?? 3_600_000;
    this.clock = options.clock ?? systemClock;
    void this.mint();
  }

  /** Reads the CA in `dir` (`NSM_TRUST_DOMAIN_DIR`) and starts minting. */
  static async fromDir(dir: string, options: DevTrustDomainSourceOptions): Promise<DevTrustDomainSource> {
    const source = new DevTrustDomainSource(await readDevTrustDomain(dir), options);
    await source.ready();
    return source;
  }

  private async mint(): Promise<void> {
    let next = this.lifetimeMs / 2;
    try {
      const svid = await issueSvid(this.ca, this.options.spiffeId, this.lifetimeMs);
      if (this.closed) return;
      this.subject.next(parseSvid(svid.certPem, svid.keyPem, svid.bundlePem));
    } catch (error) {
      if (this.subject.value === undefined) {
        this.subject.error(error);
        return;
      }
      this.options.onError?.(error);
      next = this.lifetimeMs / 10;
    }
    if (!this.closed) this.timer = this.clock.setTimeout(() => void this.mint(), next);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.subject.complete();
  }
}

/** Reads an SVID from files as spiffe-helper writes them, and again whenever they change. */
export class FileSource extends BaseX509Source {
  private watcher: FSWatcher | undefined;
  private reading: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly onError?: (error: unknown) => void,
  ) {
    super();
  }

  /** Reads the SVID in `dir` (failing when it is missing or wrong), then watches the directory. */
  static async fromDir(dir: string, onError?: (error: unknown) => void): Promise<FileSource> {
    const source = new FileSource(dir, onError);
    source.subject.next(await source.read());
    // A change is written as several files, in any order: each event rereads all three, and a
    // half-written set (a key that is not the certificate's) is skipped until the next event.
    source.watcher = watch(dir, () => source.reload());
    return source;
  }

  private async read(): Promise<X509Svid> {
    const files = [SVID_FILES.cert, SVID_FILES.key, SVID_FILES.bundle];
    const results = await Promise.allSettled(files.map((file) => readFile(join(this.dir, file), 'utf8')));
    // The first missing file in a fixed order, so the message does not depend on which read lost the race.
    const texts = results.map((result, i) => {
      if (result.status === 'fulfilled') return result.value;
      const error: unknown = result.reason;
      throw new Error(`${join(this.dir, files[i] ?? '')}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    });
    return parseSvid(texts[0] ?? '', texts[1] ?? '', texts[2] ?? '');
  }

  private reload(): void {
    this.reading = this.reading.then(async () => {
      if (this.closed) return;
      try {
        const svid = await this.read();
        const now = this.subject.value;
        if (!this.closed && (now === undefined || now.certPem !== svid.certPem || now.bundlePem !== svid.bundlePem)) this.subject.next(svid);
      } catch (error) {
        this.onError?.(error);
      }
    });
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    this.subject.complete();
  }
}
