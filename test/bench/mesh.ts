/**
 * Request latency and throughput through a sandbox domain (client → manager → forwarder → endpoint, and
 * the same across two nodes), next to a raw grpc-js chain of the same number of hops: each raw hop is a
 * grpc-js server that passes the message to the next over one shared channel, the last one echoes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, credentials } from '@grpc/grpc-js';
import { Connection } from '../../src/api/gen/connection.js';
import { NetworkServiceRequest, NetworkServiceService } from '../../src/api/gen/networkservice.js';
import { ChainContext } from '../../src/networkservice/core/context.js';
import { unaryCall } from '../../src/tools/grpc/call.js';
import { createDomain } from '../../src/tools/sandbox/index.js';
import { startRelay, type Relay } from './relay.js';
import { fmt, latency, summarize, throughput, type LatencySummary } from './stats.js';

interface RawChain {
  readonly entry: string;
  stop(): Promise<void>;
}

/** `hops` raw relays on unix sockets (see relay.ts), each forwarding to the next, the last echoing. */
async function rawChain(dir: string, hops: number): Promise<RawChain> {
  const relays: Relay[] = [];
  try {
    for (let i = hops - 1; i >= 0; i--) relays.unshift(await startRelay(`unix://${join(dir, `raw-${hops}-${i}.sock`)}`, relays[0]?.url));
  } catch (error) {
    await Promise.all(relays.map((r) => r.stop()));
    throw error;
  }
  return { entry: relays[0]?.url ?? '', stop: async () => void (await Promise.all(relays.map((r) => r.stop()))) };
}

/** Prints the mesh figures through `out`. */
export async function meshRequests(out: (line?: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nsm-bench-mesh-'));
  const domain = await createDomain({ nodes: 2 });
  const raws: RawChain[] = [];
  const ctx = ChainContext.background();
  try {
    await domain.registerService({ name: 'local-svc' });
    await domain.registerService({ name: 'remote-svc' });
    await domain.nodes[0]!.addEndpoint({ name: 'nse-local', networkServices: ['local-svc'], cidr: '10.1.0.0/16' });
    await domain.nodes[1]!.addEndpoint({ name: 'nse-remote', networkServices: ['remote-svc'], cidr: '10.2.0.0/16' });
    const client = domain.nodes[0]!.client({ name: 'bench-nsc' });
    const nsm = (service: string) => async (): Promise<void> => {
      const conn = await client.request({ connection: { networkService: service } });
      await client.close(conn);
    };
    const rows: string[] = [];
    const tputs: string[] = [];
    for (const [name, service, hops] of [
      ['local (3 hops)', 'local-svc', 3],
      ['remote (5 hops)', 'remote-svc', 5],
    ] as const) {
      const raw = await rawChain(dir, hops);
      raws.push(raw);
      const rawClient = new Client(raw.entry, credentials.createInsecure());
      const message = NetworkServiceRequest.fromPartial({ connection: { id: 'raw', networkService: service } });
      const rawOp = async (): Promise<void> => {
        await unaryCall(rawClient, NetworkServiceService.request, message, ctx);
        await unaryCall(rawClient, NetworkServiceService.close, Connection.fromPartial({ id: 'raw' }), ctx);
      };
      try {
        for (let i = 0; i < 50; i++) {
          await rawOp();
          await nsm(service)();
        }
        const n = 300;
        const rawLat = summarize(await latency(n, rawOp));
        const nsmLat = summarize(await latency(n, nsm(service)));
        const r = (a: LatencySummary, b: LatencySummary): string => `${fmt(a.meanUs / b.meanUs, 2)} | ${fmt(a.p99Us / b.p99Us, 2)}`;
        rows.push(`| ${name} | ${fmt(rawLat.meanUs)} | ${fmt(nsmLat.meanUs)} | ${fmt(nsmLat.p99Us)} | ${r(nsmLat, rawLat)} |`);
        const total = 1000;
        const rawOps = await throughput(total, 16, rawOp);
        const nsmOps = await throughput(total, 16, nsm(service));
        tputs.push(`| ${name} | ${fmt(rawOps, 0)} | ${fmt(nsmOps, 0)} | ${fmt(nsmOps / rawOps, 2)} |`);
      } finally {
        rawClient.close();
      }
    }
    out('## Requests through the mesh (sandbox) vs a raw grpc-js chain');
    out();
    out('One operation is a Request followed by a Close from a client on node 0. Local: client → manager →');
    out('forwarder → endpoint; remote: client → manager → forwarder → manager → forwarder → endpoint on node 1');
    out('(managers on loopback TCP, the rest on unix sockets). The raw chain has the same number of hops after');
    out('the client, each a grpc-js server passing the message on over one shared channel, with no chain.');
    out();
    out('Latency, sequential, 300 operations (µs):');
    out();
    out('| | raw mean | nsm-sdk mean | nsm-sdk p99 | ratio mean | ratio p99 |');
    out('| --- | --- | --- | --- | --- | --- |');
    for (const line of rows) out(line);
    out();
    out('Throughput, 16 concurrent, 1000 operations (ops/s):');
    out();
    out('| | raw | nsm-sdk | ratio |');
    out('| --- | --- | --- | --- |');
    for (const line of tputs) out(line);
    out();
  } finally {
    for (const raw of raws) await raw.stop();
    await domain.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
