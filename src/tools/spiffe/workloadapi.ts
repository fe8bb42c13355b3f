/**
 * An X.509 source fed by the SPIFFE Workload API, the way a SPIRE agent hands identities to the
 * workloads of its node. The source keeps one `FetchX509SVID` stream open to the agent's socket
 * (`SPIFFE_ENDPOINT_SOCKET`), turns each response into an {@link X509Svid}, and follows rotations for
 * as long as it lives. When the agent goes away (restart, upgrade) the source keeps the SVID it has and
 * dials again with a growing backoff.
 * @module
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { inspect } from 'node:util';
import {
  Client,
  credentials as grpcCredentials,
  Metadata,
  status as grpcStatus,
  type ClientReadableStream,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import { SpiffeWorkloadAPIService, type X509SVID, type X509SVIDResponse } from '../../api/gen/spiffe/workload.js';
import { systemClock, type Clock, type TimerHandle } from '../clock/index.js';
import { BaseX509Source, parseSvid, type X509Svid } from './source.js';

/** The header every Workload API call must carry: agents reject calls without it (SSRF protection, per the spec). */
const SECURITY_HEADER = 'workload.spiffe.io';
/** The first reconnect delay; it doubles on each failure in a row, up to {@link MAX_BACKOFF_MS}. */
const INITIAL_BACKOFF_MS = 100;
/** The longest reconnect delay: an agent restart should not leave a workload without updates for long. */
const MAX_BACKOFF_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 30_000;

/** Options of {@link WorkloadApiSource.connect}. */
export interface WorkloadApiSourceOptions {
  /**
   * Where the Workload API listens, as `SPIFFE_ENDPOINT_SOCKET` names it: `unix:///path`, `unix:/path`
   * or `tcp://<ip>:<port>` (see {@link workloadApiTarget}).
   */
  readonly address: string;
  /** How long {@link WorkloadApiSource.connect} waits for the first SVID (ms); default 30 s. */
  readonly timeoutMs?: number;
  /** The clock of the reconnect backoff and of the connect timeout. */
  readonly clock?: Clock;
  /**
   * Called on each failure the source survives: a stream that ended or failed (it reconnects), a
   * response it could not use (it keeps the current SVID).
   */
  readonly onError?: (error: unknown) => void;
  /** Chooses the SVID among those of a response (a workload may have several); default the first, as the spec makes it the default one. */
  readonly pick?: (svids: readonly X509SVID[]) => X509SVID | undefined;
}

/**
 * The grpc-js target of a `SPIFFE_ENDPOINT_SOCKET` value: `unix:///p` and `unix:/p` become `unix:/p`,
 * `tcp://ip:port` becomes `ip:port`. Throws naming the value for anything the SPIFFE Workload Endpoint
 * specification does not allow (another scheme, a unix URI with an authority, a tcp host that is not an
 * IP address, a missing port, a query or fragment).
 */
export function workloadApiTarget(address: string): string {
  const problem = (why: string): Error => new Error(`the Workload API address ${JSON.stringify(address)} is not valid: ${why}`);
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw problem('expected unix:///path or tcp://ip:port');
  }
  if (url.search !== '' || url.hash !== '') throw problem('it may not have a query or a fragment');
  if (url.username !== '' || url.password !== '') throw problem('it may not have user info');
  if (url.protocol === 'unix:') {
    // `unix://host/path` would silently drop "host" from the path: the spec forbids an authority.
    if (url.host !== '') throw problem('a unix address may not have an authority (write unix:///path)');
    const path = decodeURIComponent(url.pathname);
    if (path === '' || path === '/') throw problem('a unix address needs a socket path');
    return `unix:${path}`;
  }
  if (url.protocol === 'tcp:') {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    // The spec wants an IP address: a name would make the identity depend on DNS.
    if (isIP(host) === 0) throw problem('the tcp host must be an IP address');
    if (url.port === '') throw problem('a tcp address needs a port');
    if (url.pathname !== '' && url.pathname !== '/') throw problem('a tcp address may not have a path');
    return `${url.hostname}:${url.port}`;
  }
  throw problem(`the scheme must be unix or tcp, not ${url.protocol.replace(/:$/, '')}`);
}

/** Splits DER values laid one after another (as the Workload API sends certificates) by their length headers. */
function splitDer(bytes: Uint8Array, what: string): Buffer[] {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    // Each certificate is a SEQUENCE: tag 0x30, then a short (< 128) or long (0x8n + n bytes) length.
    if (data[at] !== 0x30 || at + 2 > data.length) throw new Error(`${what}: not DER certificates (no SEQUENCE at byte ${at})`);
    const first = data[at + 1] ?? 0;
    let length = first;
    let header = 2;
    if (first >= 0x80) {
      const n = first & 0x7f;
      if (n === 0 || n > 4 || at + 2 + n > data.length) throw new Error(`${what}: bad DER length at byte ${at}`);
      length = data.readUIntBE(at + 2, n);
      header = 2 + n;
    }
    const end = at + header + length;
    if (end > data.length) throw new Error(`${what}: DER certificate at byte ${at} runs past the end (${end} > ${data.length})`);
    parts.push(data.subarray(at, end));
    at = end;
  }
  return parts;
}

/** PEM of DER certificates laid one after another; throws when there are none or one does not parse. */
function certificatesPem(bytes: Uint8Array, what: string): string {
  const ders = splitDer(bytes, what);
  if (ders.length === 0) throw new Error(`${what}: no certificate`);
  return ders
    .map((der, i) => {
      try {
        return new X509Certificate(der).toString();
      } catch (error) {
        throw new Error(`${what}: certificate ${i} does not parse`, { cause: error });
      }
    })
    .join('');
}

/** The {@link X509Svid} of one Workload API SVID, checked as {@link parseSvid} checks any SVID. */
function toSvid(svid: X509SVID): X509Svid {
  const certPem = certificatesPem(svid.x509Svid, `X.509-SVID ${svid.spiffeId}`);
  let keyPem: string;
  try {
    keyPem = createPrivateKey({ key: Buffer.from(svid.x509SvidKey), format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch (error) {
    throw new Error(`X.509-SVID ${svid.spiffeId}: the private key is not PKCS#8 DER`, { cause: error });
  }
  const bundlePem = certificatesPem(svid.bundle, `the bundle of ${svid.spiffeId}`);
  const parsed = parseSvid(certPem, keyPem, bundlePem);
  // The field and the certificate must agree, or the agent sent something we do not understand.
  if (svid.spiffeId !== '' && parsed.spiffeId !== svid.spiffeId) {
    throw new Error(`X.509-SVID ${svid.spiffeId}: the certificate names ${parsed.spiffeId}`);
  }
  return parsed;
}

/**
 * Follows the SPIFFE Workload API: the current X.509-SVID of this workload, and each rotation. Only the
 * SVID's own trust domain bundle is kept; federated bundles and CRLs are not used yet.
 */
export class WorkloadApiSource extends BaseX509Source {
  private readonly client: Client;
  private readonly clock: Clock;
  private call: ClientReadableStream<X509SVIDResponse> | undefined;
  private timer: TimerHandle | undefined;
  private backoffMs = INITIAL_BACKOFF_MS;
  private closed = false;
  /** The last failure, for the connect timeout's message: "timed out" alone does not say why. */
  private lastError: unknown;

  private constructor(private readonly options: WorkloadApiSourceOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.client = new Client(workloadApiTarget(options.address), grpcCredentials.createInsecure(), {
      // A unix socket has no authority; keep grpc-js from deriving one from the path.
      'grpc.default_authority': 'localhost',
      // A channel of its own, so closing this source cannot break another user's connection.
      'grpc.use_local_subchannel_pool': 1,
      // grpc-js's own reconnect backoff (1 s growing to 2 min) would hold our retries back long after
      // the agent is up again; keep it within ours.
      'grpc.initial_reconnect_backoff_ms': INITIAL_BACKOFF_MS,
      'grpc.max_reconnect_backoff_ms': MAX_BACKOFF_MS,
    });
  }

  /**
   * Opens the stream to the Workload API at `options.address` and resolves once the first SVID arrived.
   * Rejects (and closes everything) when the address is not valid or no SVID came within
   * `options.timeoutMs`; until then failures are retried, since an agent that is starting or a workload
   * not yet registered (PERMISSION_DENIED) are normal at startup.
   */
  static async connect(options: WorkloadApiSourceOptions): Promise<WorkloadApiSource> {
    const source = new WorkloadApiSource(options);
    const clock = source.clock;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    source.open();
    await new Promise<void>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        const last = source.lastError;
        source.close();
        const why = last === undefined ? 'no response' : `last error: ${last instanceof Error ? last.message : inspect(last)}`;
        reject(new Error(`no X.509-SVID from the Workload API at ${options.address} within ${timeoutMs} ms (${why})`, { cause: last }));
      }, timeoutMs);
      source.ready().then(
        () => {
          clock.clearTimeout(timer);
          resolve();
        },
        (error: unknown) => {
          clock.clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
    return source;
  }

  /** Starts one FetchX509SVID stream; its end, whatever the reason, schedules the next. */
  private open(): void {
    if (this.closed) return;
    const metadata = new Metadata();
    metadata.set(SECURITY_HEADER, 'true');
    const method = SpiffeWorkloadAPIService.fetchX509Svid;
    const call = this.client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, {}, metadata);
    this.call = call;
    let failure: ServiceError | undefined;
    call.on('data', (response: X509SVIDResponse) => this.receive(response));
    // grpc-js emits 'error' before 'status' for a failed call; 'status' comes once for every call, so it
    // is where the reconnect is scheduled. The listener also keeps an error from being thrown.
    call.on('error', (error: ServiceError) => {
      failure = error;
    });
    call.on('status', (status: StatusObject) => {
      if (this.call !== call) return;
      this.call = undefined;
      if (this.closed) return;
      const error = failure ?? new Error(`the Workload API at ${this.options.address} ended the stream (${grpcStatus[status.code]})`);
      this.report(error);
      this.reconnect();
    });
  }

  private reconnect(): void {
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, delay);
  }

  private receive(response: X509SVIDResponse): void {
    if (this.closed) return;
    // A response means the agent is up: the next failure starts the backoff from the beginning.
    this.backoffMs = INITIAL_BACKOFF_MS;
    try {
      const chosen = this.options.pick === undefined ? response.svids[0] : this.options.pick(response.svids);
      if (chosen === undefined) throw new Error(`the Workload API at ${this.options.address} sent no usable X.509-SVID (${response.svids.length} in the response)`);
      const svid = toSvid(chosen);
      const now = this.subject.value;
      // Agents resend the same SVID when only something else (another SVID, a federated bundle)
      // changed; an equal one is no rotation.
      if (now === undefined || now.certPem !== svid.certPem || now.keyPem !== svid.keyPem || now.bundlePem !== svid.bundlePem) {
        this.subject.next(svid);
      }
    } catch (error) {
      this.report(error);
    }
  }

  private report(error: unknown): void {
    this.lastError = error;
    this.options.onError?.(error);
  }

  /** Cancels the stream and any pending reconnect, closes the channel; `updates` completes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    this.client.close();
    this.subject.complete();
  }
}
