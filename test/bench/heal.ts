/**
 * Heal time, local and remote, over 20 runs each, each in a fresh sandbox domain:
 * - endpoint killed: from killing the endpoint a client is connected to, to the client's connection UP
 *   on the other endpoint of the service (as the client's own monitor reports it);
 * - forwarder killed: each node has two forwarders; from killing the one on the connection's path (on
 *   the client's node for local, the endpoint's node for remote), to the connection UP through the other.
 */
import { State, type Connection } from '../../src/api/gen/connection.js';
import { createDomain } from '../../src/tools/sandbox/index.js';
import { fmt } from './stats.js';

type Victim = 'endpoint' | 'forwarder';

const pathNames = (c: Connection): string[] => c.path?.pathSegments.map((s) => s.name) ?? [];

async function healOnce(remote: boolean, victim: Victim): Promise<number> {
  const domain = await createDomain({ nodes: remote ? 2 : 1, forwarders: victim === 'forwarder' ? 2 : 1 });
  try {
    await domain.registerService({ name: 'svc' });
    const node = domain.nodes[remote ? 1 : 0]!;
    const endpoints = [await node.addEndpoint({ name: 'nse-a', networkServices: ['svc'] })];
    if (victim === 'endpoint') endpoints.push(await node.addEndpoint({ name: 'nse-b', networkServices: ['svc'] }));
    const client = domain.nodes[0]!.client({ name: 'bench-nsc' });
    const conn = await client.request({ connection: { networkService: 'svc' } });
    let kill: () => Promise<void>;
    let healedWhen: (c: Connection) => boolean;
    if (victim === 'endpoint') {
      const dead = endpoints.find((e) => e.name === conn.networkServiceEndpointName)!;
      const survivor = endpoints.find((e) => e !== dead)!;
      kill = () => dead.kill();
      healedWhen = (c) => c.networkServiceEndpointName === survivor.name;
    } else {
      // The forwarder on the path at the node in question (the client's node for local, else node 1).
      const at = domain.nodes[remote ? 1 : 0]!;
      const index = at.forwarders.findIndex((f) => pathNames(conn).includes(f.name));
      const dead = at.forwarders[index]!.name;
      const other = at.forwarders.find((f) => f.name !== dead)!.name;
      kill = () => at.killForwarder(index);
      healedWhen = (c) => pathNames(c).includes(other) && !pathNames(c).includes(dead);
    }
    const healed = new Promise<number>((resolve) => {
      const subscription = client.watch(conn).subscribe((c: Connection) => {
        if (c.state === State.UP && healedWhen(c)) {
          resolve(performance.now());
          queueMicrotask(() => subscription.unsubscribe());
        }
      });
    });
    const start = performance.now();
    await kill();
    const end = await Promise.race([healed, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`no heal in 30 s (${victim} killed)`)), 30_000).unref())]);
    return end - start;
  } finally {
    await domain.stop();
  }
}

/** Prints heal times through `out`; returns every run's time (ms) by case, for plots. */
export async function healTimes(out: (line?: string) => void): Promise<Record<string, number[]>> {
  const runs = Number(process.env["HEAL_RUNS"] ?? "20");
  const rows: string[] = [];
  const all: Record<string, number[]> = {};
  for (const victim of ['endpoint', 'forwarder'] as const) {
    for (const remote of [false, true]) {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) times.push(await healOnce(remote, victim));
      times.sort((a, b) => a - b);
      const median = ((times[(runs - 1) >> 1] ?? 0) + (times[runs >> 1] ?? 0)) / 2;
      const where = remote ? 'remote' : 'local';
      all[`${victim} killed, ${where}`] = times;
      rows.push(`| ${victim} killed | ${where} | ${fmt(median, 1)} | ${fmt(times[0] ?? 0, 1)} | ${fmt(times.at(-1) ?? 0, 1)} | ${remote ? '≤ 100' : '≤ 50'} |`);
    }
  }
  out('## Heal time');
  out();
  out(`From the kill to the client's connection UP again (${runs} runs each, a fresh sandbox domain per run, the`);
  out('client\'s own monitor decides). Endpoint killed: the service has a second endpoint on the same node; the');
  out('forwarder sees its stream to the endpoint break and reports DOWN up the monitors, and the client\'s heal');
  out('reselects. Forwarder killed: the node has a second forwarder; the manager sees its stream to the dead');
  out('forwarder break and the heal goes through the other (remote: the forwarder on the endpoint\'s node).');
  out();
  out('| victim | where | median (ms) | best (ms) | worst (ms) | goal median (ms) |');
  out('| --- | --- | --- | --- | --- | --- |');
  for (const line of rows) out(line);
  out();
  return all;
}
