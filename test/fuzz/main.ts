/**
 * `npm run fuzz`: every RPC of every role, as the fuzz tests run them, with NSM_FUZZ_RUNS cases per RPC
 * (default 10,000), then the table of counts and the seed. Exits 0 when every property held and nothing
 * was left running, 1 otherwise. NSM_FUZZ_ONLY (a substring of RPC names, such as `endpoint` or
 * `registry NSE`) runs a subset; the other settings are those of the tests (see docs/fuzz.md).
 * @module
 */
import { baseline, expectNoLeaks } from '../helpers/leaks.js';
import { fuzzRpc, fuzzSettings, selected, type FuzzReport, type FuzzRpc, type FuzzTarget } from './harness.js';
import { domainTargets, endpointTarget } from './ns-targets.js';
import { managerRegistryTarget, registryServerTarget } from './registry-targets.js';
import { formatTable } from './report.js';
import { allRegistryRpcs, networkServiceRpcs } from './rpcs.js';

const settings = fuzzSettings(10_000);
const NS_RPCS = ['Request', 'Close', 'MonitorConnections'];
const REGISTRY_RPCS = ['NS Register', 'NS Find', 'NS Unregister', 'NSE Register', 'NSE Find', 'NSE Unregister'];
const reports: FuzzReport[] = [];

/** Whether any RPC of the role `label` is selected: a role none of whose RPCs runs is not started. */
function wanted(labels: readonly string[], rpcs: readonly string[]): boolean {
  return labels.some((label) => rpcs.some((rpc) => selected(`${label} ${rpc}`)));
}

async function fuzzAll(target: FuzzTarget, rpcs: readonly FuzzRpc<unknown>[]): Promise<void> {
  for (const rpc of rpcs.filter((r) => selected(r.name))) {
    const started = Date.now();
    const report = await fuzzRpc(target, rpc, settings);
    reports.push(report);
    process.stdout.write(`[fuzz] ${rpc.name}: ${report.cases} cases in ${((Date.now() - started) / 1000).toFixed(1)} s, ${report.failures.length} failure(s)\n`);
  }
}

async function main(): Promise<number> {
  process.stdout.write(`[fuzz] ${settings.runs} cases per RPC, seed ${settings.seed}\n`);
  const started = Date.now();
  const resources = await baseline();
  if (wanted(['endpoint'], NS_RPCS)) {
    const endpoint = await endpointTarget();
    try {
      await fuzzAll(endpoint, networkServiceRpcs(endpoint.known, endpoint.role, settings.deadlineMs));
    } finally {
      await endpoint.stop();
    }
  }
  if (wanted(['nsmgr', 'forwarder'], NS_RPCS)) {
    const domain = await domainTargets();
    try {
      for (const target of [domain.nsmgr, domain.forwarder]) await fuzzAll(target, networkServiceRpcs(target.known, target.role, settings.deadlineMs));
    } finally {
      await domain.stop();
    }
  }
  for (const [label, make] of [['registry', registryServerTarget], ['nsmgr', managerRegistryTarget]] as const) {
    if (!wanted([label], REGISTRY_RPCS)) continue;
    const target = await make();
    try {
      await fuzzAll(target, allRegistryRpcs(label, target.known, target.live, settings.deadlineMs));
    } finally {
      await target.stop();
    }
  }
  let leaked: string | undefined;
  await expectNoLeaks(resources).catch((error: unknown) => void (leaked = String(error)));
  process.stdout.write(`${formatTable(reports, settings.seed)}\n[fuzz] ${((Date.now() - started) / 1000).toFixed(0)} s in all\n`);
  if (leaked !== undefined) process.stdout.write(`[fuzz] FAILED: ${leaked}\n`);
  const failed = reports.some((r) => r.failures.length > 0 || r.cases !== settings.runs);
  return failed || leaked !== undefined ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stdout.write(`[fuzz] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
