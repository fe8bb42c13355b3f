/**
 * The printed summary of a chaos run: the seed (to reproduce it), the cycle and heal figures, the kills,
 * and each end check with what it saw.
 * @module
 */
import type { ChaosResult } from './run.js';

/** The summary of `result`, one line per entry. */
export function formatResult(result: ChaosResult): string[] {
  const h = result.heals;
  const kinds = new Map<string, number>();
  for (const k of result.kills) kinds.set(`${k.kind} ${k.mode}`, (kinds.get(`${k.kind} ${k.mode}`) ?? 0) + 1);
  return [
    `chaos run: ${result.passed ? 'PASSED' : 'FAILED'} in ${(result.durationMs / 1000).toFixed(1)} s (seed ${result.seed}; reproduce with NSM_CHAOS_SEED=${result.seed})`,
    `roles from ${result.built ? 'dist/' : 'src/ (tsx)'}; lifetime settings: ${result.lifetimeSettings.join(', ') || 'none in the CLI'}`,
    `cycles: ${result.cycles.done} done, ${result.cycles.ok} ok, ${result.cycles.failed} failed`,
    ...result.cycles.reasons.map((r) => `  ${String(r.count).padStart(5)}  ${r.key}\n         ${r.first.toFixed(1)}s-${r.last.toFixed(1)}s, e.g. ${r.example.split('\n')[0] ?? ''}`),
    `kills: ${result.kills.length} (${[...kinds.entries()].map(([k, n]) => `${n} ${k}`).join(', ') || 'none'})`,
    ...result.kills.map((k) => `  ${k.at.toFixed(1).padStart(6)}s ${k.name} (${k.kind}) ${k.mode} as ${k.as} after ${k.downMs} ms${k.error === undefined ? '' : ` FAILED: ${k.error.split('\n')[0] ?? ''}`}`),
    `heals: ${h.count} finished, p50 ${h.p50} ms, p90 ${h.p90} ms, p99 ${h.p99} ms, max ${h.max} ms; ${h.unfinished} unfinished, ${h.abandoned} closed while healing`,
    `heal causes (onHeal): ${h.causes.map((c) => `${c.key} ${c.count}`).join(', ') || 'none'}`,
    'checks:',
    ...result.checks.flatMap((c) => [`  [${c.ok ? 'ok' : 'FAIL'}] ${c.name}`, ...c.detail.map((d) => `         ${d}`)]),
    'role logs (above debug, grouped; the 12 most frequent):',
    ...result.logs.slice(0, 12).map((l) => `  ${String(l.count).padStart(5)}  ${l.key}  [${l.roles.length > 4 ? `${l.roles.slice(0, 4).join(', ')}, ...` : l.roles.join(', ')}]`),
    ...(result.failures.length === 0 ? [] : ['failures:', ...result.failures.map((f) => `  - ${f}`)]),
    ...(result.dir === undefined ? [] : [`role logs kept in ${result.dir}/logs`]),
  ];
}
