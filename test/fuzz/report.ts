/**
 * What a fuzz run prints: one table row per RPC (cases, answers by status, failures), the seed that
 * reproduces the run, and the first failures of each RPC with the seed, batch and case that did them.
 */
import type { FuzzReport } from './harness.js';

/** Outcome columns shown first, in this order; any other outcome gets a column after them. */
const FIRST = ['OK', 'INVALID_ARGUMENT', 'NOT_FOUND', 'RESOURCE_EXHAUSTED', 'INTERNAL (undecodable)'];

/** Failures printed per RPC (the report keeps up to 20). */
const SHOWN_FAILURES = 5;

/** `reports` as a table, followed by the failures; `seed` is the run's seed. */
export function formatTable(reports: readonly FuzzReport[], seed: number): string {
  const outcomes = new Set<string>(FIRST);
  for (const report of reports) for (const key of report.counts.keys()) outcomes.add(key);
  const columns = ['RPC', 'cases', ...outcomes, 'failures'];
  const rows = reports.map((r) => [r.rpc, String(r.cases), ...[...outcomes].map((k) => String(r.counts.get(k) ?? 0)), String(r.failures.length)]);
  const total = ['total', String(sum(reports.map((r) => r.cases))), ...[...outcomes].map((k) => String(sum(reports.map((r) => r.counts.get(k) ?? 0)))), String(sum(reports.map((r) => r.failures.length)))];
  const table = [columns, ...rows, total];
  const widths = columns.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const failures = reports.flatMap((r) => r.failures.slice(0, SHOWN_FAILURES).map((f) => `  ${r.rpc}: ${f.kind}: ${f.detail}`));
  return [
    `fuzz seed ${seed} (NSM_FUZZ_SEED=${seed} reproduces this run)`,
    line(columns),
    rule,
    ...rows.map(line),
    rule,
    line(total),
    ...(failures.length === 0 ? [] : ['failures:', ...failures]),
  ].join('\n');
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
