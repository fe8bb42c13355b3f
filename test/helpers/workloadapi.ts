/**
 * A fake SPIFFE Workload API for tests: a real grpc-js server on a unix socket serving FetchX509SVID
 * the way a SPIRE agent does (the security header required, the latest SVID sent to each new stream,
 * each change sent to every open stream).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Server, ServerCredentials, status, type ServerWritableStream } from '@grpc/grpc-js';
import {
  SpiffeWorkloadAPIService,
  type X509SVIDRequest,
  type X509SVIDResponse,
} from '../../src/api/gen/spiffe/workload.js';

/** An SVID as the dev trust domain issues it (PEM). */
export interface PemSvid {
  /** The SPIFFE ID the response names. */
  readonly spiffeId: string;
  /** The certificate chain, leaf first. */
  readonly certPem: string;
  /** The leaf's private key. */
  readonly keyPem: string;
  /** The trust bundle. */
  readonly bundlePem: string;
}

/** A running fake Workload API. */
export interface FakeWorkloadApi {
  /** Its address as `SPIFFE_ENDPOINT_SOCKET` holds it: `unix://` + the socket path. */
  readonly address: string;
  /** Sends `svid` to every open stream and to each stream opened later. */
  push(svid: PemSvid): void;
  /** Sends a raw response (e.g. a malformed one) to every open stream and to each stream opened later. */
  pushResponse(response: X509SVIDResponse): void;
  /** Makes new calls fail with `code` (e.g. PERMISSION_DENIED, as SPIRE does for an unregistered workload); `undefined` serves again. */
  failWith(code: status | undefined): void;
  /** The streams open now. */
  streams(): number;
  /** Calls accepted so far (with the header). */
  calls(): number;
  /** The `workload.spiffe.io` header of the last call (`undefined` when it had none). */
  lastMetadataHeader(): string | undefined;
  /** Stops at once (open streams fail) and removes the socket. */
  stop(): Promise<void>;
}

function pemBlocks(pem: string): Buffer[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block).raw);
}

/** The Workload API response of a PEM SVID: DER certificates laid one after another, the key PKCS#8 DER. */
export function svidResponse(svid: PemSvid): X509SVIDResponse {
  return {
    svids: [
      {
        spiffeId: svid.spiffeId,
        x509Svid: Buffer.concat(pemBlocks(svid.certPem)),
        x509SvidKey: createPrivateKey(svid.keyPem).export({ type: 'pkcs8', format: 'der' }),
        bundle: Buffer.concat(pemBlocks(svid.bundlePem)),
        hint: '',
      },
    ],
    crl: [],
    federatedBundles: {},
  };
}

/** Starts a fake Workload API on the unix socket `socketPath`. */
export async function startFakeWorkloadApi(socketPath: string): Promise<FakeWorkloadApi> {
  const server = new Server();
  const open = new Set<ServerWritableStream<X509SVIDRequest, X509SVIDResponse>>();
  let latest: X509SVIDResponse | undefined;
  let header: string | undefined;
  let failure: status | undefined;
  let accepted = 0;
  server.addService(SpiffeWorkloadAPIService, {
    fetchX509Svid: (call: ServerWritableStream<X509SVIDRequest, X509SVIDResponse>) => {
      const value = call.metadata.get('workload.spiffe.io')[0];
      header = value === undefined ? undefined : value.toString();
      if (header !== 'true') {
        // What SPIRE answers to a call without the header.
        call.emit('error', { code: status.INVALID_ARGUMENT, details: 'security header missing from request' });
        return;
      }
      if (failure !== undefined) {
        call.emit('error', { code: failure, details: 'no identity issued' });
        return;
      }
      accepted++;
      open.add(call);
      const drop = (): void => {
        open.delete(call);
      };
      call.on('cancelled', drop);
      call.on('close', drop);
      call.on('error', drop);
      if (latest !== undefined) call.write(latest);
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (error) => (error === null ? resolve() : reject(error)));
  });
  const send = (response: X509SVIDResponse): void => {
    latest = response;
    for (const call of open) call.write(response);
  };
  return {
    address: `unix://${socketPath}`,
    push: (svid) => send(svidResponse(svid)),
    pushResponse: send,
    failWith: (code) => {
      failure = code;
    },
    streams: () => open.size,
    calls: () => accepted,
    lastMetadataHeader: () => header,
    stop: async () => {
      server.forceShutdown();
      open.clear();
      await rm(socketPath, { force: true });
    },
  };
}
