/**
 * Property-based fuzzing of the registry API (NetworkService and NetworkServiceEndpoint Register, Find,
 * Unregister) of a registry server and of a manager's registry side, over real gRPC: see docs/fuzz.md.
 */
import { expect } from 'chai';
import { fuzzRpc, fuzzSettings, selected } from './harness.js';
import { fuzzSuiteHooks } from './hooks.js';
import { managerRegistryTarget, registryServerTarget, type RegistryTarget } from './registry-targets.js';
import { allRegistryRpcs } from './rpcs.js';

const settings = fuzzSettings();
const RPCS = ['NS Register', 'NS Find', 'NS Unregister', 'NSE Register', 'NSE Find', 'NSE Unregister'] as const;

describe(`fuzz: registry API (${settings.runs} cases per RPC, seed ${settings.seed})`, function () {
  const reports = fuzzSuiteHooks(this, settings);

  /** The tests of one role's six RPCs, against the target its describe's hooks set up. */
  function role(label: string, make: () => Promise<RegistryTarget>): void {
    describe(label, function () {
      let target: RegistryTarget | undefined;
      before(async () => {
        target = await make();
      });
      after(async () => {
        await target?.stop();
      });
      for (const rpc of RPCS) {
        const name = `${label} ${rpc}`;
        (selected(name) ? it : it.skip)(`${name}: answers every case with a status, keeps serving and keeps its registrations`, async function () {
          const t = target as RegistryTarget;
          const under = allRegistryRpcs(label, t.known, t.live, settings.deadlineMs).find((r) => r.name === name);
          if (under === undefined) throw new Error(`no RPC ${name}`);
          const report = await fuzzRpc(t, under, settings);
          reports.push(report);
          expect(report.failures.map((f) => `${f.kind}: ${f.detail}`)).to.deep.equal([]);
          expect(report.cases).to.equal(settings.runs);
        });
      }
    });
  }

  role('registry', registryServerTarget);
  role('nsmgr', managerRegistryTarget);
});
