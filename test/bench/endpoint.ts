/**
 * The endpoint chain against the grpc-js floor: the same bare grpc-js client (one channel, a unix
 * socket) sends the same Request then Close to two endpoints, each in its own process from the built
 * package: a bare grpc-js endpoint that answers the connection it got (`relay.js` with no next hop),
 * and the icmp-responder example (its whole endpoint chain: path, tokens, IPAM, mechanism). 64 callers
 * at once; the latency of every operation is recorded, so p50 is the latency under that load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { Connection } from '../../src/api/gen/connection.js';
import { NetworkServiceRequest, NetworkServiceService } from '../../src/api/gen/networkservice.js';
import { kernelMechanismPreference } from '../../src/networkservice/mechanisms/kernel/mechanism.js';
import { ChainContext } from '../../src/networkservice/core/context.js';
import { unaryCall } from '../../src/tools/grpc/call.js';
import { OUTGOING_METADATA } from '../../src/tools/grpc/keys.js';
import { createTestTokenGenerator, writeTokenMetadata } from '../../src/tools/token/index.js';
import { fmt, loaded, summarize, type LatencySummary } from './stats.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Starts `script` from dist with `args`, `env` and node's own `nodeArgs`; resolves once it prints its ready line. */
export async function startBuilt(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, nodeArgs: readonly string[] = []): Promise<ChildProcess> {
  const path = join(root, 'dist', script);
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build first`);
  const child = spawn(process.execPath, [...nodeArgs, path, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      if (/ready on \S/.test(seen)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => void (seen += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`${script} exited (${String(code)}) before it was ready: ${seen.slice(-500)}`)));
  });
  return child;
}

/** Stops a child started by {@link startBuilt} and waits for it to exit. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function summaryOf(samplesUs: readonly number[]): LatencySummary {
  return summarize(samplesUs.map((us) => BigInt(Math.round(us * 1000))));
}

/** What {@link endpointFigures} measured, for plots. */
export interface EndpointFigures {
  readonly samples: Record<string, number[]>;
}

/** Prints the endpoint section through `out`. */
export async function endpointFigures(out: (line?: string) => void): Promise<EndpointFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'nsm-bench-endpoint-'));
  const rawUrl = `unix://${join(dir, 'raw.sock')}`;
  const nseUrl = `unix://${join(dir, 'nse.sock')}`;
  const children: ChildProcess[] = [];
  const clients: Client[] = [];
  try {
    children.push(await startBuilt('test/bench/relay.js', [rawUrl]));
    // Insecure, as the bare grpc-js endpoint it is compared with; the `security` section measures mTLS.
    children.push(await startBuilt('examples/icmp-responder.js', [], { NSM_LISTEN_ON: nseUrl, NSM_CIDR_PREFIX: '10.0.0.0/8', NSM_LOG_LEVEL: 'info', NSM_INSECURE: 'true' }));
    // A real client sends its token with every call; both endpoints get the same one.
    const { token, expires } = await createTestTokenGenerator()(undefined);
    const metadata = new Metadata();
    writeTokenMetadata(metadata, token, expires);
    const ctx = ChainContext.background().withValue(OUTGOING_METADATA, metadata);
    const pairOn = (url: string): ((i: number) => Promise<void>) => {
      const client = new Client(url, credentials.createInsecure());
      clients.push(client);
      return async (i: number): Promise<void> => {
        const id = `bench-${i}`;
        const request = NetworkServiceRequest.fromPartial({
          connection: { id, networkService: 'icmp-responder', path: { index: 0, pathSegments: [{ name: 'nsc', id, token }] } },
          mechanismPreferences: [kernelMechanismPreference('nsm-1')],
        });
        const conn = await unaryCall(client, NetworkServiceService.request, request, ctx);
        await unaryCall(client, NetworkServiceService.close, Connection.fromPartial(conn), ctx);
      };
    };
    const raw = pairOn(rawUrl);
    const nse = pairOn(nseUrl);
    for (let i = 0; i < 500; i++) {
      await raw(i);
      await nse(i);
    }
    const total = 5000;
    // raw, nse, nse, raw: a slow phase of the machine does not land on one side only.
    const order = [raw, nse, nse, raw];
    const runs: { samplesUs: number[]; opsPerSecond: number }[] = [];
    for (const [n, op] of order.entries()) runs.push(await loaded(total, 64, (i) => op(i + (n + 1) * total)));
    const sideOf = (op: typeof raw): { samplesUs: number[]; opsPerSecond: number }[] => runs.filter((_, n) => order[n] === op);
    const rawSamples = sideOf(raw).flatMap((r) => r.samplesUs);
    const nseSamples = sideOf(nse).flatMap((r) => r.samplesUs);
    const rate = (side: { opsPerSecond: number }[]): number => side.reduce((sum, r) => sum + r.opsPerSecond, 0) / side.length;
    const rawRate = rate(sideOf(raw));
    const nseRate = rate(sideOf(nse));
    const rawLatency = summaryOf(rawSamples);
    const nseLatency = summaryOf(nseSamples);
    out('## The endpoint chain against the grpc-js floor');
    out();
    out('The same bare grpc-js client (one channel, unix socket, the same Request then Close with a token in');
    out('the metadata) against two endpoints, each its own process from the built package: a bare grpc-js');
    out('endpoint that answers the connection it got, and the icmp-responder example (its whole endpoint chain).');
    out(`64 callers at once, ${2 * total} operations per endpoint in two alternated runs; latency under that load (µs).`);
    out();
    out('| | p50 | p99 | pairs/s |');
    out('| --- | --- | --- | --- |');
    out(`| bare grpc-js endpoint | ${fmt(rawLatency.p50Us)} | ${fmt(rawLatency.p99Us)} | ${fmt(rawRate, 0)} |`);
    out(`| icmp-responder | ${fmt(nseLatency.p50Us)} | ${fmt(nseLatency.p99Us)} | ${fmt(nseRate, 0)} |`);
    out(`| ratio (goal ≤ 1.2 / ≥ 0.8) | ${fmt(nseLatency.p50Us / rawLatency.p50Us, 2)} | ${fmt(nseLatency.p99Us / rawLatency.p99Us, 2)} | ${fmt(nseRate / rawRate, 2)} |`);
    out();
    return { samples: { 'bare grpc-js endpoint': rawSamples, 'icmp-responder': nseSamples } };
  } finally {
    for (const client of clients) client.close();
    await Promise.all(children.map(stopChild));
    rmSync(dir, { recursive: true, force: true });
  }
}
