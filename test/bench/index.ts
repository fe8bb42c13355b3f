/**
 * `npm run bench`: builds, then prints every figure of the performance goals next to its baseline measured
 * in the same run, and writes them with SVG plots to docs/benchmarks.md and docs/bench/. Nothing here
 * asserts a time. `npm run bench -- endpoint mesh` runs only the named sections (and writes nothing).
 *
 * chain     a request through 100 `null` elements;
 * endpoint  the icmp-responder chain vs a bare grpc-js endpoint, same bare client, 64 concurrent;
 * client    our client chain and the endpoint in one process vs raw grpc-js on both sides;
 * registry  Find by service among 10,000 endpoints, in process and over gRPC;
 * security  authorize's default policies over an ES256 token path; Request+Close with mTLS vs insecure;
 * watchers  100 watchers see a registration;
 * startup   `nsm` roles from the built package, start to ready;
 * mesh      Request+Close through 4 and 6 roles, one process each, vs raw relays of as many hops;
 * sandbox   the same through a sandbox domain (all roles in this process);
 * scale     10,000 connections: heap per connection and sockets per role, refresh CPU;
 * heal      endpoint killed and forwarder killed, local and remote;
 * profile   where the endpoint spends its time (node --cpu-prof).
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
import { startRelay } from './relay.js';
import { registryFind } from './registry.js';
import { securityFigures } from './security.js';
import { meshRequests } from './mesh.js';
import { healTimes } from './heal.js';
import { endpointFigures } from './endpoint.js';
import { startupTimes } from './startup.js';
import { processMesh } from './procmesh.js';
import { scaleFigures } from './scale.js';
import { watcherLatency } from './watchers.js';
import { cdfPlot, linePlot, writePlot } from './svg.js';
import { printProfile, profileEndpoint } from './profile.js';
import { fmt, latency, summarize, throughput, type LatencySummary } from './stats.js';

const lines: string[] = [];
function out(line = ''): void {
  console.log(line);
  lines.push(line);
}

function row(name: string, s: LatencySummary): string {
  return `| ${name} | ${fmt(s.meanUs)} | ${fmt(s.p50Us)} | ${fmt(s.p99Us)} |`;
}

function series(samples: Record<string, number[]>): { label: string; values: number[] }[] {
  return Object.entries(samples).map(([label, values]) => ({ label, values }));
}

/** The sections asked for on the command line; none means all, and only then are the docs written. */
const only = process.argv.slice(2);

/** Writes a plot under docs/bench/ and links it from the page (a partial run writes no files). */
function plot(name: string, svg: string): void {
  if (only.length > 0) return;
  out(`![${name}](${writePlot(name, svg)})`);
  out();
}

async function profileSection(): Promise<void> {
  const ops = 5000;
  const { summary, pairsPerSecond } = await profileEndpoint(ops);
  out('## Where the endpoint spends its time');
  out();
  out(`The built icmp-responder under \`node --cpu-prof\`, ${ops} Request+Close pairs from 64 callers over one`);
  out(`channel (${fmt(pairsPerSecond, 0)} pairs/s under the profiler; the callers share the machine). Self time`);
  out('grouped by where the code lives, then the busiest functions (`npm run bench:profile` prints more):');
  out();
  printProfile(out, summary, 15);
  out('Before the changes of 2026-12-03 the same profile had, among its top entries: `CancelledError`');
  out('(a stack trace captured per served call) 4.5%, AbortController/AbortSignal 3.8%, HMAC signing with a');
  out('key object made per token 6.3% (crypto), a warning line per request 3.5% (log), and the monitor building');
  out('events for no watcher. Contexts now make their signal only when asked, cancellation reasons carry no');
  out('stack, a token is signed once per second and audience, the missing-token line is at debug level, and');
  out('our own code (`nsm-sdk src/networkservice/core`) fell from 9.0% to about 5%. What is left is mostly');
  out('HTTP/2 and grpc-js, protobuf, and GC: the floor every Node endpoint pays.');
  out();
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
  const raw = await startRelay(rawUrl);
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
    out('## Our client chain and the example endpoint, in one process, vs raw grpc-js');
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
  out('Figures vary with the machine and its load; compare ratios rather than absolute times. What the');
  out('figures mean, which goals are met, and what the remaining costs are: [performance](performance.md).');
  out();
  const sections: Record<string, () => Promise<void>> = {
    chain: nullChain,
    endpoint: async () => {
      const { samples } = await endpointFigures(out);
      plot('endpoint-latency', cdfPlot('Request+Close at 64 concurrent: endpoint chain vs bare grpc-js', 'µs', series(samples)));
    },
    client: endpointVsRaw,
    registry: () => registryFind(out),
    security: () => securityFigures(out),
    watchers: () => watcherLatency(out),
    startup: () => startupTimes(out),
    profile: profileSection,
    mesh: async () => {
      const { samples } = await processMesh(out);
      plot('mesh-latency', cdfPlot('Request+Close through the mesh, one process per role, vs raw relays', 'µs', series(samples)));
    },
    sandbox: () => meshRequests(out),
    scale: async () => {
      const { points } = await scaleFigures(out);
      const roles = Object.keys(points.at(-1)?.heapPerConnKb ?? {});
      const lines = roles.map((role) => ({
        label: role,
        points: points.filter((p) => p.connections > 0).map((p): [number, number] => [p.connections, p.heapPerConnKb[role] ?? Number.NaN]),
      }));
      plot('heap-per-connection', linePlot('Heap per connection, by role', 'connections held', 'KB per connection', lines));
    },
    heal: async () => {
      const times = await healTimes(out);
      plot('heal-times', cdfPlot('Heal: from the kill to UP again', 'ms', series(times)));
    },
  };
  // `npm run bench -- endpoint mesh` runs only those sections and leaves docs/benchmarks.md alone.
  const unknown = only.filter((name) => !(name in sections));
  if (unknown.length > 0) {
    console.error(`unknown bench section(s) ${unknown.join(', ')}; known: ${Object.keys(sections).join(', ')}`);
    process.exit(2);
  }
  for (const [name, run] of Object.entries(sections)) if (only.length === 0 || only.includes(name)) await run();
  if (only.length > 0) return;
  const target = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
  writeFileSync(target, `${lines.join('\n')}\n`);
  console.log(`(written to ${target})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
