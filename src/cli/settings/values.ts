/**
 * Parsing of setting values in the forms upstream's `envconfig` reads them: Go durations (`15s`, `1m30s`),
 * Go booleans (`true`, `1`, `F`), comma-separated lists, and `key=value` / `key:value` labels. Each parser
 * throws a plain Error whose message says what is wrong with the value; the caller names the setting.
 * @module
 */
import type { Labels } from '../../tools/matchutils/labels.js';

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A Go duration (`time.ParseDuration`): a sequence of decimal numbers with units `ns`, `us`, `ms`, `s`, `m`,
 * `h` (`300ms`, `1.5h`, `2h45m`), or `0`; in milliseconds. Negative durations are refused: every duration
 * here is a timeout or a lifetime.
 */
export function parseDuration(text: string): number {
  const value = text.trim();
  if (value === '0') return 0;
  if (value.startsWith('-')) throw new Error(`"${text}" is negative`);
  const body = value.startsWith('+') ? value.slice(1) : value;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let match = part.exec(body); match !== null; match = part.exec(body)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? NaN);
    at = part.lastIndex;
  }
  if (body === '' || at !== body.length || !Number.isFinite(total)) {
    throw new Error(`"${text}" is not a duration (expected a Go duration like 15s, 1m30s or 100ms)`);
  }
  return total;
}

/** Formats milliseconds as a Go duration (`1m30s`, `750ms`, `0s`), the way the settings are written. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${+ms.toFixed(3)}ms`;
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  if (rest > 0 || out === '') out += `${+(rest / 1000).toFixed(3)}s`;
  return out;
}

/** A Go boolean (`strconv.ParseBool`: 1, t, T, TRUE, true, True and their false forms). */
export function parseBool(text: string): boolean {
  const value = text.trim();
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new Error(`"${text}" is not a boolean (expected true or false)`);
}

/** A comma-separated list, items trimmed, empty items dropped. */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Labels `k=v,k2=v2`. Upstream's roles read maps as `k:v` (envconfig) and the client's labels as `k=v`,
 * so either separator is taken: the first `=` or `:` splits.
 */
export function parseLabels(text: string): Labels {
  const labels: Record<string, string> = {};
  for (const item of parseList(text)) {
    const match = /^([^=:]+)[=:](.*)$/.exec(item);
    const key = (match?.[1] ?? '').trim();
    if (match === null || key === '') throw new Error(`"${item}" is not key=value`);
    labels[key] = (match[2] ?? '').trim();
  }
  return labels;
}
