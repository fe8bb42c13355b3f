/**
 * The short chaos run (`npm run chaos` is the full one): a 3-node domain of real `nsm` processes, 5
 * in-process clients running 60 request/refresh/close cycles while every kind of role is SIGKILLed once
 * in each mode (restarted as itself, and replaced by a new one). Then the end conditions: the held
 * connections UP, no connection left at any role once the clients closed theirs, only live roles in the
 * registry, a clean SIGTERM stop with no process and no socket file left. `NSM_CHAOS_SEED` replays a
 * run; the summary (and where the role logs were kept) is in the failure message.
 */
import { expect } from 'chai';
import { formatResult } from './report.js';
import { runChaos } from './run.js';
import { seedFrom } from './stats.js';

describe('chaos (short): real role processes killed and brought back while clients cycle', function () {
  // The run bounds itself (durationLimitMs); this only catches a run that hangs anyway.
  this.timeout(240_000);

  it('converges after every kind of kill: connections UP, nothing left behind, registry holds only live roles', async () => {
    const seed = seedFrom(process.env);
    const result = await runChaos({
      cycles: 60,
      clients: 5,
      nodes: 3,
      endpoints: 4,
      killIntervalMs: 800,
      downtimeMs: [300, 800],
      holdMs: [200, 1500],
      maxKills: 8,
      coverAll: true,
      seed,
      durationLimitMs: 180_000,
      logLevel: 'info',
    });
    const summary = formatResult(result).join('\n');
    expect(result.kills.length, summary).to.be.greaterThan(0);
    expect(result.cycles.done, summary).to.equal(60);
    for (const check of result.checks) expect(check.ok, `${check.name}\n${summary}`).to.equal(true);
    expect(result.failures, summary).to.deep.equal([]);
    expect(result.passed, summary).to.equal(true);
  });
});
