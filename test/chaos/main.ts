/**
 * `npm run chaos`: the full chaos run (3 nodes, 50 clients, 1,000 cycles, kills every couple of seconds
 * until the cycles are done), built from the current sources first. Prints the figures and exits 0 when
 * every end check held, 1 otherwise. `NSM_CHAOS_SEED` replays a run's schedule; `NSM_CHAOS_KEEP=1` keeps
 * the role logs of a passing run too; `NSM_CHAOS_LOG_LEVEL=debug` makes the roles log every chain step.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './domain.js';
import { formatResult } from './report.js';
import { runChaos } from './run.js';
import { seedFrom } from './stats.js';

const LIMIT_MS = 10 * 60 * 1000;

async function main(): Promise<number> {
  const seed = seedFrom(process.env);
  process.stdout.write(`[chaos] seed ${seed}\n[chaos] building dist/ (npm run build)\n`);
  // Roles start about twice as fast from dist/; a failed build falls back to tsx (see nsmCommand).
  const build = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json')], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) process.stdout.write('[chaos] the build reported errors; roles run from what was emitted, or from src/ through tsx\n');
  // A last resort: whatever happens inside, the process (and, through the domain's exit guard, every role) ends.
  const watchdog = setTimeout(() => {
    process.stdout.write(`[chaos] FAILED: still running ${LIMIT_MS / 60_000 + 1} minutes after the start; giving up\n`);
    process.exit(1);
  }, LIMIT_MS + 60_000);
  watchdog.unref();
  const result = await runChaos({
    cycles: 1000,
    clients: 50,
    nodes: 3,
    endpoints: 6,
    killIntervalMs: 2000,
    seed,
    durationLimitMs: LIMIT_MS,
    keep: process.env['NSM_CHAOS_KEEP'] === '1' ? 'always' : 'on-failure',
    logLevel: process.env['NSM_CHAOS_LOG_LEVEL'] ?? 'info',
    log: (line) => process.stdout.write(`[chaos] ${line}\n`),
  });
  process.stdout.write(`${formatResult(result).join('\n')}\n`);
  return result.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[chaos] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
