/**
 * `npm run bench`: prints the figures and writes them to docs/benchmarks.md. Nothing here asserts a time.
 *
 * (a) the cost of one request through a chain of 100 `null` elements;
 * (b) latency (sequential) and throughput (64 concurrent) of a Request to the icmp-responder example over
 *     a unix socket, next to a raw grpc-js echo of the same message on the same kind of socket;
 * (c) Find by network service among 10,000 endpoints in the memory registry;
 * (d) local and remote requests through a sandbox domain next to a raw grpc-js chain of as many hops;
 * (e) heal time: from killing an endpoint to the client's connection UP on another one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, credentials } from '@grpc/grpc-js';
import { Connection } from '../../src/api/gen/connection.js';
import { NetworkServiceRequest, NetworkServiceService } from '../../src/api/gen/networkservice.js';
import { chain } from '../../src/networkservice/core/chain.js';
import { ChainContext } from '../../src/networkservice/core/context.js';
import { nullElement } from '../../src/networkservice/common/null/index.js';
import { unaryCall } from '../../src/tools/grpc/call.js';
import { createClient } from '../../src/networkservice/chains/client/index.js';
import { kernelMechanismPreference } from '../../src/index.js';
import { startIcmpResponder } from '../../examples/icmp-responder.js';
import { startRawEcho } from './raw.js';
import { registryFind } from './registry.js';
import { meshRequests } from './mesh.js';
import { healTimes } from './heal.js';
import { fmt, latency, summarize, throughput, type LatencySummary } from './stats.js';

const lines: string[] = [];
function out(line = ''): void {
  console.log(line);
  lines.push(line);
}

function row(name: string, s: LatencySummary): string {
  return `| ${name} | ${fmt(s.meanUs)} | ${fmt(s.p50Us)} | ${fmt(s.p99Us)} |`;
}

async function nullChain(): Promise<void> {
  const c = chain(...Array.from({ length: 100 }, () => nullElement()));
  const ctx = ChainContext.background();
  const request = NetworkServiceRequest.fromPartial({ connection: { id: 'bench', networkService: 'ns' } });
  const n = 20000;
  for (let i = 0; i < 2000; i++) await c.request(request, ctx); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await c.request(request, ctx);
  const perRequestUs = Number(process.hrtime.bigint() - start) / n / 1000;
  out('## Chain overhead');
  out();
  out(`A request through a chain of 100 \`null\` elements (${n} requests, sequential, in-process):`);
  out();
  out(`- ${fmt(perRequestUs, 2)} µs per request, ${fmt((perRequestUs * 1000) / 100, 0)} ns per element`);
  out();
}

async function endpointVsRaw(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nsm-bench-'));
  const rawUrl = `unix://${join(dir, 'raw.sock')}`;
  const nseUrl = `unix://${join(dir, 'nse.sock')}`;
  const raw = await startRawEcho(rawUrl);
  const nse = await startIcmpResponder({ name: 'icmp-responder', listenOn: nseUrl, cidrPrefixes: ['10.0.0.0/8'] });
  const rawClient = new Client(rawUrl, credentials.createInsecure());
  const nsmClient = createClient({ name: 'bench-nsc', connectTo: nseUrl });
  // The same client chain over one shared channel: separates the cost of dialing per connection.
  const sharedChannel = new Client(nseUrl, credentials.createInsecure());
  // Without heal: heal watches each connection over its channel, and many connections cancelling their
  // watches over one shared HTTP/2 session would look like a rapid-reset attack to the server.
  const sharedClient = createClient({ name: 'bench-nsc-shared', channel: sharedChannel, heal: false });
  const ctx = ChainContext.background();
  const message = (i: number): NetworkServiceRequest =>
    NetworkServiceRequest.fromPartial({
      connection: { id: `raw-${i}`, networkService: 'icmp-responder', path: { pathSegments: [{ name: 'nsc', id: `raw-${i}` }] } },
      mechanismPreferences: [kernelMechanismPreference('nsm-1')],
    });
  // Each NSM request is a new connection (request + close), so the endpoint's state does not grow.
  const nsmRequestWith = (client: typeof nsmClient) => async (): Promise<void> => {
    const conn: Connection = await client.request({
      connection: { networkService: 'icmp-responder' },
      mechanismPreferences: [kernelMechanismPreference('nsm-1')],
    });
    await client.close(conn);
  };
  const nsmRequest = nsmRequestWith(nsmClient);
  const sharedRequest = nsmRequestWith(sharedClient);
  const rawRequest = async (i: number): Promise<void> => {
    await unaryCall(rawClient, NetworkServiceService.request, message(i), ctx);
    await unaryCall(rawClient, NetworkServiceService.close, Connection.fromPartial({ id: `raw-${i}` }), ctx);
  };
  try {
    for (let i = 0; i < 200; i++) {
      await rawRequest(i);
      await nsmRequest();
      await sharedRequest();
    }
    const n = 1000;
    const rawLatency = summarize(await latency(n, () => rawRequest(0)));
    const nsmLatency = summarize(await latency(n, nsmRequest));
    const sharedLatency = summarize(await latency(n, sharedRequest));
    const total = 5000;
    const rawOps = await throughput(total, 64, rawRequest);
    const nsmOps = await throughput(total, 64, () => nsmRequest());
    const sharedOps = await throughput(total, 64, () => sharedRequest());
    out('## Request to the example endpoint vs raw grpc-js');
    out();
    out('One operation is a Request followed by a Close, over a unix socket. "raw" is a grpc-js server that');
    out('echoes the same message with no chain; "nsm-sdk" is the icmp-responder example behind the client chain');
    out('(path, tokens, IPAM, mechanism selection), which opens one channel per connection as NSM does and');
    out('heals (a monitor stream per connection); "nsm-sdk, shared channel" is the same chain given one channel');
    out('for all connections, without heal.');
    out();
    out(`Latency, sequential, ${n} operations (µs):`);
    out();
    out('| | mean | p50 | p99 |');
    out('| --- | --- | --- | --- |');
    out(row('raw grpc-js', rawLatency));
    out(row('nsm-sdk', nsmLatency));
    out(row('nsm-sdk, shared channel', sharedLatency));
    const ratio = (a: LatencySummary): string =>
      `${fmt(a.meanUs / rawLatency.meanUs, 2)} | ${fmt(a.p50Us / rawLatency.p50Us, 2)} | ${fmt(a.p99Us / rawLatency.p99Us, 2)}`;
    out(`| ratio nsm-sdk / raw | ${ratio(nsmLatency)} |`);
    out(`| ratio nsm-sdk, shared channel / raw | ${ratio(sharedLatency)} |`);
    out();
    out(`Throughput, 64 concurrent, ${total} operations:`);
    out();
    out(`- raw grpc-js: ${fmt(rawOps, 0)} ops/s`);
    out(`- nsm-sdk: ${fmt(nsmOps, 0)} ops/s`);
    out(`- nsm-sdk, shared channel: ${fmt(sharedOps, 0)} ops/s`);
    out(`- ratio nsm-sdk / raw: ${fmt(nsmOps / rawOps, 2)}`);
    out(`- ratio nsm-sdk, shared channel / raw: ${fmt(sharedOps / rawOps, 2)}`);
    out();
  } finally {
    rawClient.close();
    sharedChannel.close();
    await nse.stop();
    await raw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  out('# Benchmarks');
  out();
  out(`Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}).`);
  out('Figures vary with the machine and its load; compare ratios rather than absolute times.');
  out();
  await nullChain();
  await endpointVsRaw();
  await registryFind(out);
  await meshRequests(out);
  await healTimes(out);
  const target = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
  writeFileSync(target, `${lines.join('\n')}\n`);
  console.log(`(written to ${target})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
