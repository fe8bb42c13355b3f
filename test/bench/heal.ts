/**
 * Heal time: from killing the endpoint a client is connected to, to the client's connection UP on another
 * endpoint (as the client's own monitor reports it), local and remote, over 20 runs each. Each run uses
 * a fresh sandbox domain with two endpoints of the service on the endpoint node.
 */
import { State, type Connection } from '../../src/api/gen/connection.js';
import { createDomain } from '../../src/tools/sandbox/index.js';
import { fmt } from './stats.js';

async function healOnce(remote: boolean): Promise<number> {
  const domain = await createDomain({ nodes: remote ? 2 : 1 });
  try {
    await domain.registerService({ name: 'svc' });
    const node = domain.nodes[remote ? 1 : 0]!;
    const endpoints = [
      await node.addEndpoint({ name: 'nse-a', networkServices: ['svc'] }),
      await node.addEndpoint({ name: 'nse-b', networkServices: ['svc'] }),
    ];
    const client = domain.nodes[0]!.client({ name: 'bench-nsc' });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    const victim = endpoints.find((e) => e.name === conn.networkServiceEndpointName)!;
    const survivor = endpoints.find((e) => e !== victim)!;
    const healed = new Promise<number>((resolve) => {
      const subscription = client.watch(conn).subscribe((c: Connection) => {
        if (c.state === State.UP && c.networkServiceEndpointName === survivor.name) {
          resolve(performance.now());
          queueMicrotask(() => subscription.unsubscribe());
        }
      });
    });
    const start = performance.now();
    await victim.kill();
    const end = await Promise.race([healed, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('no heal in 30 s')), 30_000).unref())]);
    return end - start;
  } finally {
    await domain.stop();
  }
}

/** Prints heal times through `out`. */
export async function healTimes(out: (line?: string) => void): Promise<void> {
  const runs = 20;
  const rows: string[] = [];
  for (const remote of [false, true]) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await healOnce(remote));
    times.sort((a, b) => a - b);
    const median = ((times[(runs - 1) >> 1] ?? 0) + (times[runs >> 1] ?? 0)) / 2;
    rows.push(`| ${remote ? 'remote (endpoint on node 1)' : 'local'} | ${fmt(median, 1)} | ${fmt(times[0] ?? 0, 1)} | ${fmt(times.at(-1) ?? 0, 1)} |`);
  }
  out('## Heal time');
  out();
  out(`From killing the endpoint a client is connected to, to the client's connection UP on the other endpoint of`);
  out(`the service (${runs} runs each, a fresh sandbox domain per run). The forwarder sees its stream to the endpoint`);
  out('break and reports DOWN; the report travels up the monitors to the client, whose heal reselects. Target: a');
  out('median under 300 ms.');
  out();
  out('| | median (ms) | best (ms) | worst (ms) |');
  out('| --- | --- | --- | --- |');
  for (const line of rows) out(line);
  out();
}
