/**
 * Raw gRPC calls for the fuzz harness: the request as bytes (identity serializers, so that a case may be
 * any bytes at all), metadata as given, a deadline on every call, and results that never reject.
 */
import { Client, credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';

/** A case as it goes on the wire. */
export interface WireCase {
  /** The request message bytes (valid protobuf or not). */
  readonly bytes: Uint8Array;
  /** Metadata sent with the call. */
  readonly metadata: readonly (readonly [string, string])[];
  /** A Find that watches: its stream stays open when it is served, so it is ended after a grace period. */
  readonly watch?: boolean;
}

/** What a call came back with. */
export interface CallResult {
  /** The gRPC status code (OK on success). */
  readonly code: status;
  /** The status message. */
  readonly details: string;
  /** The response (unary) or the messages received (stream). */
  readonly messages: readonly Buffer[];
}

/** Raw calls on one channel. */
export class Caller {
  private readonly client: Client;

  /** `channelCredentials`: mTLS as a workload of the target's trust domain; plaintext without. */
  constructor(address: string, channelCredentials?: ChannelCredentials) {
    // A channel of its own (grpc-js pools transports process-wide by default), so that whatever a case
    // does to its transport stays with this caller and never reaches the real clients or later batches.
    this.client = new Client(address, channelCredentials ?? credentials.createInsecure(), {
      'grpc.use_local_subchannel_pool': 1,
      // A SPIFFE peer is named by its ID, not its host (as the SDK's own channels).
      ...(channelCredentials === undefined ? {} : { 'grpc.ssl_target_name_override': 'localhost' }),
    });
  }

  /** A unary call with `deadlineMs`; never rejects. */
  unary(method: string, wire: WireCase, deadlineMs: number): Promise<CallResult> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(method, identity, identity, toBuffer(wire.bytes), toMetadata(wire.metadata), { deadline: Date.now() + deadlineMs }, (error, response) =>
        resolve(error === null ? { code: status.OK, details: '', messages: response === undefined ? [] : [response] } : fromError(error)),
      );
    });
  }

  /**
   * A server-streaming call: done at its end or error, at its first message when `firstOnly` (a monitor
   * answers at once with its initial state), or, for a watching Find, `graceMs` after the last message
   * (`firstGraceMs` after the start when none came: a refusal may take a while to arrive when the process
   * is busy with the large cases of other calls, and an open watch must not hide it).
   */
  stream(method: string, wire: WireCase, deadlineMs: number, options: { firstOnly: boolean; graceMs: number; firstGraceMs?: number }): Promise<CallResult> {
    return new Promise((resolve) => {
      const messages: Buffer[] = [];
      const call = this.client.makeServerStreamRequest(method, identity, identity, toBuffer(wire.bytes), toMetadata(wire.metadata), { deadline: Date.now() + deadlineMs });
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (result: CallResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        call.cancel();
        resolve(result);
      };
      const ok = (): void => finish({ code: status.OK, details: '', messages });
      const rearm = (): void => {
        clearTimeout(timer);
        const grace = messages.length === 0 ? (options.firstGraceMs ?? options.graceMs) : options.graceMs;
        if (wire.watch === true) timer = setTimeout(ok, grace);
      };
      call.on('data', (message: Buffer) => {
        messages.push(message);
        if (options.firstOnly) ok();
        else rearm();
      });
      call.on('error', (error: ServiceError) => finish(fromError(error)));
      call.on('end', ok);
      rearm();
    });
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }
}

const identity = (value: Buffer): Buffer => value;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toMetadata(entries: WireCase['metadata']): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of entries) metadata.add(key, value);
  return metadata;
}

function fromError(error: ServiceError): CallResult {
  return { code: error.code, details: error.details, messages: [] };
}

