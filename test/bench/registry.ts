/**
 * Registry figures: Find by network service among 10,000 registered endpoints in the memory store, in
 * process (the server chain alone) and over gRPC on a unix socket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, toArray } from 'rxjs';
import { NetworkServiceEndpoint } from '../../src/api/gen/registry.js';
import { ChainContext } from '../../src/networkservice/core/context.js';
import { createRegistryClient } from '../../src/registry/chains/client/index.js';
import { serveRegistryServer } from '../../src/registry/chains/server/index.js';
import { fmt, latency, summarize } from './stats.js';

const ENDPOINTS = 10_000;
const SERVICES = 100;

export async function registryFind(out: (line?: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nsm-bench-registry-'));
  // A lifetime longer than the run: the figures are about finding, not expiry.
  const registry = await serveRegistryServer(`unix://${join(dir, 'registry.sock')}`, { defaultLifetimeMs: 3_600_000 });
  const client = createRegistryClient({ connectTo: registry.url, chain: { heal: false } });
  const ctx = ChainContext.background();
  try {
    const start = process.hrtime.bigint();
    for (let batch = 0; batch < ENDPOINTS; batch += 500) {
      await Promise.all(
        Array.from({ length: 500 }, (_, i) => {
          const n = batch + i;
          const service = `service-${n % SERVICES}`;
          return registry.nseChain.register(
            NetworkServiceEndpoint.fromPartial({
              name: `nse-${n}`,
              networkServiceNames: [service],
              networkServiceLabels: { [service]: { labels: { app: `app-${n % 7}` } } },
              url: `tcp://127.0.0.1:${20000 + (n % 40000)}`,
            }),
            ctx,
          );
        }),
      );
    }
    const registerUs = Number(process.hrtime.bigint() - start) / 1000 / ENDPOINTS;
    const query = (i: number) => ({
      networkServiceEndpoint: NetworkServiceEndpoint.fromPartial({ networkServiceNames: [`service-${i % SERVICES}`] }),
      watch: false,
    });
    // Hold one registration through the client, as an endpoint or manager does: its channel is then
    // shared by the finds instead of each find dialing its own.
    await client.registerEndpoint({ name: 'bench-client', networkServiceNames: ['bench'], url: 'tcp://127.0.0.1:1' });
    let i = 0;
    const inProcess = async (): Promise<void> => {
      const found = await firstValueFrom(registry.nseChain.find(query(i++), ctx).pipe(toArray()));
      if (found.length !== ENDPOINTS / SERVICES) throw new Error(`found ${found.length}`);
    };
    const overGrpc = async (): Promise<void> => {
      const found = await client.findEndpoints({ networkServiceNames: [`service-${i++ % SERVICES}`] });
      if (found.length !== ENDPOINTS / SERVICES) throw new Error(`found ${found.length}`);
    };
    for (let w = 0; w < 50; w++) {
      await inProcess();
      await overGrpc();
    }
    const local = summarize(await latency(500, inProcess));
    const remote = summarize(await latency(500, overGrpc));
    out('## Registry: Find among 10,000 endpoints');
    out();
    out(`${ENDPOINTS} endpoints in the memory store, ${SERVICES} services of ${ENDPOINTS / SERVICES} endpoints each;`);
    out('one Find by network service returns 100 endpoints (500 sequential Finds):');
    out();
    out('| | mean µs | p50 µs | p99 µs | goal |');
    out('| --- | --- | --- | --- | --- |');
    out(`| in process (server chain) | ${fmt(local.meanUs)} | ${fmt(local.p50Us)} | ${fmt(local.p99Us)} | ≤ 1000 |`);
    out(`| over gRPC (unix socket, client chain) | ${fmt(remote.meanUs)} | ${fmt(remote.p50Us)} | ${fmt(remote.p99Us)} | ≤ 3000 |`);
    out();
    out(`Registering the 10,000 (in process, 500 at a time): ${fmt(registerUs, 1)} µs per endpoint.`);
    out();
  } finally {
    await client.close();
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
