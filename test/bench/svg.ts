/**
 * A small SVG writer for benchmark figures, with no dependencies: empirical CDFs of latencies
 * ({@link cdfPlot}) and cost against a count ({@link linePlot}), written under docs/bench/ by
 * {@link writePlot}. Every plot is 640 × 360 with a title, axes of 4–6 ticks and a legend.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One distribution of a CDF plot: its samples, in the plot's unit. */
export interface Series {
  readonly label: string;
  readonly values: readonly number[];
}

const WIDTH = 640;
const HEIGHT = 360;
const LEFT = 64;
const RIGHT = 470; // the plot's right edge; the legend is to its right
const TOP = 36;
const BOTTOM = 300; // the plot's bottom edge; tick labels and the axis label below
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** `text` safe inside XML text and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

const colour = (i: number): string => COLOURS[i % COLOURS.length] ?? '#000';
const num = (n: number): string => Number(n.toFixed(2)).toString();
const label = (v: number): string =>
  v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3) ? Number(v.toPrecision(3)).toExponential().replace('e+', 'e') : Number(v.toPrecision(6)).toString();

/** An axis: where its domain maps to on screen, and its tick values. */
interface Axis {
  readonly ticks: readonly number[];
  readonly at: (v: number) => number;
}

/** `[lo, hi]` with `lo < hi`, from the finite values (or 0..1 when there are none). */
function extent(values: readonly number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  if (lo < hi) return [lo, hi];
  return lo === 0 ? [0, 1] : [lo - Math.abs(lo) / 2, hi + Math.abs(hi) / 2];
}

/** Nice linear ticks (steps of 1, 2, 2.5 or 5 × 10^k) covering `[lo, hi]`, 4 to 6 of them when possible. */
function linearTicks(lo: number, hi: number): number[] {
  const base = 10 ** Math.floor(Math.log10((hi - lo) / 10));
  let previous: number[] = [];
  for (let scale = base; ; scale *= 10) {
    for (const m of [1, 2, 2.5, 5]) {
      const step = m * scale;
      const first = Math.floor(lo / step + 1e-9);
      const last = Math.ceil(hi / step - 1e-9);
      const ticks = Array.from({ length: last - first + 1 }, (_, i) => (first + i) * step);
      if (ticks.length > 6) previous = ticks;
      else return ticks.length >= 4 || previous.length === 0 || previous.length - 5 > 5 - ticks.length ? ticks : previous;
    }
  }
}

/** Ticks at 1, 2, 5 × 10^k (or coarser) covering `[lo, hi]` (both > 0), 4 to 6 of them when possible. */
function logTicks(lo: number, hi: number): number[] {
  const sets = [[1, 1.5, 2, 3, 5, 7], [1, 2, 5], [1, 3], [1]];
  const decades = (set: readonly number[], every: number): number[] => {
    const ticks: number[] = [];
    const k0 = Math.floor(Math.log10(lo) + 1e-9); // 10^k0 <= lo: the first tick
    for (let k = k0; ; k++) {
      for (const m of set) {
        const v = m * 10 ** k;
        if ((k - k0) % every !== 0) continue;
        if (v <= lo * (1 + 1e-9)) ticks.length = 0; // start at the last tick at or below lo
        ticks.push(v);
        if (v >= hi * (1 - 1e-9)) return ticks;
      }
    }
  };
  let best = decades([1], 1);
  for (const set of sets) {
    const ticks = decades(set, 1);
    if (ticks.length >= 4 && ticks.length <= 6) return ticks;
    if (Math.abs(ticks.length - 5) < Math.abs(best.length - 5)) best = ticks;
  }
  for (let every = 2; best.length > 6; every++) best = decades([1], every);
  return best;
}

function axis(lo: number, hi: number, from: number, to: number, log: boolean): Axis {
  const ticks = log ? logTicks(lo, hi) : linearTicks(lo, hi);
  const f = log ? Math.log10 : (v: number): number => v;
  const a = f(ticks[0] ?? lo);
  const b = f(ticks.at(-1) ?? hi);
  return { ticks, at: (v) => from + ((f(v) - a) / (b - a || 1)) * (to - from) };
}

/** The frame: title, axes with ticks and grid, axis labels and the legend. */
function frame(title: string, xLabel: string, yLabel: string, x: Axis, y: Axis, fmtY: (v: number) => string, legend: readonly string[]): string[] {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (const t of x.ticks) {
    const px = num(x.at(t));
    parts.push(`<line x1="${px}" y1="${TOP}" x2="${px}" y2="${BOTTOM}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${px}" y="${BOTTOM + 15}" text-anchor="middle">${escapeXml(label(t))}</text>`);
  }
  for (const t of y.ticks) {
    const py = num(y.at(t));
    parts.push(`<line x1="${LEFT}" y1="${py}" x2="${RIGHT}" y2="${py}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeXml(fmtY(t))}</text>`);
  }
  parts.push(`<path d="M${LEFT} ${TOP}V${BOTTOM}H${RIGHT}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${(LEFT + RIGHT) / 2}" y="${BOTTOM + 36}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  const midY = (TOP + BOTTOM) / 2;
  parts.push(`<text x="16" y="${midY}" text-anchor="middle" transform="rotate(-90 16 ${midY})">${escapeXml(yLabel)}</text>`);
  legend.forEach((name, i) => {
    const ly = TOP + 8 + i * 18;
    parts.push(`<line x1="${RIGHT + 14}" y1="${ly}" x2="${RIGHT + 38}" y2="${ly}" stroke="${colour(i)}" stroke-width="2"/>`);
    parts.push(`<text x="${RIGHT + 44}" y="${ly}" dominant-baseline="middle">${escapeXml(name)}</text>`);
  });
  return parts;
}

function polyline(points: readonly (readonly [number, number])[], i: number): string {
  const text = points.map(([px, py]) => `${num(px)},${num(py)}`).join(' ');
  return `<polyline points="${text}" fill="none" stroke="${colour(i)}" stroke-width="1.5"/>`;
}

/**
 * An empirical CDF of each series: x is the value in `unit` (log scale when max/min > 20), y the fraction
 * of samples at or below it. Non-finite values are left out; an empty series draws an empty line.
 */
export function cdfPlot(title: string, unit: string, series: readonly Series[]): string {
  const sorted = series.map((s) => s.values.filter(Number.isFinite).toSorted((a, b) => a - b));
  const [lo, hi] = extent(sorted.flat());
  const log = lo > 0 && hi / lo > 20;
  const x = axis(lo, hi, LEFT, RIGHT, log);
  const y = axis(0, 1, BOTTOM, TOP, false);
  const parts = frame(title, log ? `${unit} (log scale)` : unit, 'fraction of samples ≤ x', x, y, (v) => `${Math.round(v * 100)}%`, series.map((s) => s.label));
  sorted.forEach((values, i) => {
    const n = values.length;
    // A step function: at each sample the fraction rises from i/n to (i+1)/n.
    const points = values.flatMap((v, k): [number, number][] => [
      [x.at(v), y.at(k / n)],
      [x.at(v), y.at((k + 1) / n)],
    ]);
    parts.push(polyline(points, i));
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Lines of (x, y) points on linear axes, each series in its own colour, y from 0 (or below, if negative). */
export function linePlot(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly { label: string; points: readonly [number, number][] }[],
): string {
  const points = series.map((s) => s.points.filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py)).toSorted((a, b) => a[0] - b[0]));
  const [xlo, xhi] = extent(points.flat().map(([px]) => px));
  const [ylo, yhi] = extent([0, ...points.flat().map(([, py]) => py)]);
  const x = axis(xlo, xhi, LEFT, RIGHT, false);
  const y = axis(ylo, yhi, BOTTOM, TOP, false);
  const parts = frame(title, xLabel, yLabel, x, y, label, series.map((s) => s.label));
  points.forEach((line, i) => parts.push(polyline(line.map(([px, py]) => [x.at(px), y.at(py)]), i)));
  parts.push('</svg>');
  return parts.join('\n');
}

/** Writes `svg` to docs/bench/<name>.svg and returns the path to put in docs/*.md: `bench/<name>.svg`. */
export function writePlot(name: string, svg: string): string {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`plot name ${JSON.stringify(name)}: letters, digits, '.', '-' and '_' only`);
  const dir = fileURLToPath(new URL('../../docs/bench/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.svg`), `${svg}\n`);
  return `bench/${name}.svg`;
}
