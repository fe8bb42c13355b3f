/**
 * `npm run bench:profile`: where an endpoint spends its time under load. Runs the built icmp-responder
 * example in its own process under `node --cpu-prof`, sends it `OPS` Request+Close pairs from 64
 * concurrent callers over one channel on a unix socket, stops it, and prints the self time of the
 * profile grouped by where the code lives (our files by folder, grpc-js, protobuf, node internals, GC).
 *
 * Needs `npm run build` first (it profiles the JavaScript users run, not tsx's transform).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, credentials } from '@grpc/grpc-js';
import { Connection } from '../../src/api/gen/connection.js';
import { NetworkServiceRequest, NetworkServiceService } from '../../src/api/gen/networkservice.js';
import { kernelMechanismPreference } from '../../src/networkservice/mechanisms/kernel/mechanism.js';
import { ChainContext } from '../../src/networkservice/core/context.js';
import { unaryCall } from '../../src/tools/grpc/call.js';
import { startBuilt, stopChild } from './endpoint.js';
import { throughput } from './stats.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A profile's self time per group and per function, in ms. */
export interface ProfileSummary {
  readonly totalMs: number;
  readonly groups: ReadonlyMap<string, number>;
  readonly functions: ReadonlyMap<string, number>;
}

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Where a frame's code lives, in words a reader of docs/benchmarks.md knows. */
function groupOf(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)' || name === '(program)') return name;
  if (url.includes('node_modules/@grpc/grpc-js/')) return 'grpc-js';
  if (url.includes('node_modules/protobufjs/') || url.includes('node_modules/long/')) return 'protobuf runtime';
  if (url.includes('/dist/src/api/gen/')) return 'generated protobuf code';
  const ours = url.indexOf('/dist/');
  if (ours >= 0) {
    const parts = url.slice(ours + '/dist/'.length).split('/');
    return `nsm-sdk ${parts.slice(0, Math.min(parts.length - 1, 4)).join('/')}`;
  }
  if (url.includes('node_modules/')) return `package ${url.split('node_modules/')[1]?.split('/')[0] ?? '?'}`;
  if (url.startsWith('node:')) {
    const module = url.slice(5).split('/').slice(0, 2).join('/');
    return `node ${module}`;
  }
  return url === '' ? 'native / V8' : 'other';
}

/** Sums a V8 CPU profile's self time by group and by function. */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const group = groupOf(url, functionName);
    if (group === '(idle)') continue;
    total += ms;
    groups.set(group, (groups.get(group) ?? 0) + ms);
    const where = url === '' ? '' : ` ${url.replace(`file://${root}`, '').replace(/^.*node_modules\//, '')}:${lineNumber + 1}`;
    const key = `${functionName === '' ? '(anonymous)' : functionName}${where}`;
    functions.set(key, (functions.get(key) ?? 0) + ms);
  }
  return { totalMs: total, groups, functions };
}

/** Profiles the built icmp-responder under `ops` Request+Close pairs; returns the summary and the rate seen. */
export async function profileEndpoint(ops: number): Promise<{ summary: ProfileSummary; pairsPerSecond: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'nsm-profile-'));
  const url = `unix://${join(dir, 'nse.sock')}`;
  const client = new Client(url, credentials.createInsecure());
  let child: ChildProcess | undefined;
  try {
    child = await startBuilt(
      'examples/icmp-responder.js',
      [],
      // Insecure: the bare client below speaks plaintext (the chain's own cost is what is profiled).
      { NSM_LISTEN_ON: url, NSM_CIDR_PREFIX: '10.0.0.0/8', NSM_LOG_LEVEL: 'info', NSM_INSECURE: 'true' },
      ['--cpu-prof', '--cpu-prof-dir', dir],
    );
    const ctx = ChainContext.background();
    const pair = async (i: number): Promise<void> => {
      const id = `profile-${i}`;
      const conn = await unaryCall(
        client,
        NetworkServiceService.request,
        NetworkServiceRequest.fromPartial({
          connection: { id, networkService: 'icmp-responder', path: { pathSegments: [{ name: 'nsc', id }] } },
          mechanismPreferences: [kernelMechanismPreference('nsm-1')],
        }),
        ctx,
      );
      await unaryCall(client, NetworkServiceService.close, Connection.fromPartial(conn), ctx);
    };
    await throughput(500, 64, pair); // warm-up, not in the figure (it is in the profile)
    const pairsPerSecond = await throughput(ops, 64, (i) => pair(i + 500));
    client.close();
    // The profile is written when the process exits.
    await stopChild(child);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error('the endpoint wrote no .cpuprofile');
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    return { summary: summarizeProfile(profile), pairsPerSecond };
  } finally {
    client.close();
    if (child !== undefined) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints the summary as markdown tables: groups, then the `top` functions. */
export function printProfile(out: (line?: string) => void, summary: ProfileSummary, top = 15): void {
  const pct = (ms: number): string => ((100 * ms) / summary.totalMs).toFixed(1);
  out('| where | self time % |');
  out('| --- | --- |');
  for (const [group, ms] of [...summary.groups].sort((a, b) => b[1] - a[1]).slice(0, 12)) out(`| ${group} | ${pct(ms)} |`);
  out();
  out('| function | self time % |');
  out('| --- | --- |');
  for (const [name, ms] of [...summary.functions].sort((a, b) => b[1] - a[1]).slice(0, top)) out(`| \`${name}\` | ${pct(ms)} |`);
  out();
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ops = Number(process.env['OPS'] ?? '5000');
  profileEndpoint(ops).then(
    ({ summary, pairsPerSecond }) => {
      console.log(`${ops} Request+Close pairs at 64 concurrent: ${pairsPerSecond.toFixed(0)} pairs/s (under the profiler)`);
      printProfile((line = '') => console.log(line), summary, Number(process.env['TOP'] ?? '25'));
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
