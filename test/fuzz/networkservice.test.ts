/**
 * Property-based fuzzing of the Network Service API (Request, Close, MonitorConnections) of an endpoint,
 * a manager and a forwarder over real gRPC: see docs/fuzz.md. NSM_FUZZ_RUNS cases per RPC (default 200),
 * from NSM_FUZZ_SEED (printed).
 */
import { expect } from 'chai';
import { fuzzRpc, fuzzSettings, selected } from './harness.js';
import { fuzzSuiteHooks } from './hooks.js';
import { domainTargets, endpointTarget, type NetworkServiceTarget } from './ns-targets.js';
import { networkServiceRpcs } from './rpcs.js';

const settings = fuzzSettings();
const RPCS = ['Request', 'Close', 'MonitorConnections'] as const;

describe(`fuzz: Network Service API (${settings.runs} cases per RPC, seed ${settings.seed})`, function () {
  const reports = fuzzSuiteHooks(this, settings);

  /** The tests of one role's three RPCs; `target` is set up by the caller's hooks. */
  function rpcTests(label: string, target: () => NetworkServiceTarget): void {
    for (const rpc of RPCS) {
      const name = `${label} ${rpc}`;
      (selected(name) ? it : it.skip)(`${name}: answers every case with a status, keeps serving and keeps its state`, async function () {
        const t = target();
        const under = networkServiceRpcs(t.known, t.role, settings.deadlineMs).find((r) => r.name === name);
        if (under === undefined) throw new Error(`no RPC ${name}`);
        const report = await fuzzRpc(t, under, settings);
        reports.push(report);
        expect(report.failures.map((f) => `${f.kind}: ${f.detail}`)).to.deep.equal([]);
        expect(report.cases).to.equal(settings.runs);
      });
    }
  }

  describe('endpoint (endpointChain + point2point + kernel)', function () {
    let target: Awaited<ReturnType<typeof endpointTarget>> | undefined;
    before(async () => {
      target = await endpointTarget();
    });
    after(async () => {
      await target?.stop();
    });
    rpcTests('endpoint', () => target as NetworkServiceTarget);
  });

  describe('manager and forwarder (sandbox domain)', function () {
    let targets: Awaited<ReturnType<typeof domainTargets>> | undefined;
    before(async () => {
      targets = await domainTargets();
    });
    after(async () => {
      await targets?.stop();
    });
    rpcTests('nsmgr', () => (targets as NonNullable<typeof targets>).nsmgr);
    rpcTests('forwarder', () => (targets as NonNullable<typeof targets>).forwarder);
  });
});
