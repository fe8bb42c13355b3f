/** Small statistics helpers for benchmarks. */

export interface LatencySummary {
  readonly count: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

export function summarize(samplesNs: readonly bigint[]): LatencySummary {
  const us = samplesNs.map((n) => Number(n) / 1000).sort((a, b) => a - b);
  const at = (q: number): number => us[Math.min(us.length - 1, Math.floor(q * us.length))] ?? 0;
  const mean = us.reduce((a, b) => a + b, 0) / Math.max(1, us.length);
  return { count: us.length, meanUs: mean, p50Us: at(0.5), p99Us: at(0.99) };
}

/** Runs `op` sequentially `count` times and returns each duration. */
export async function latency(count: number, op: () => Promise<unknown>): Promise<bigint[]> {
  const samples: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await op();
    samples.push(process.hrtime.bigint() - start);
  }
  return samples;
}

/** Per-operation latencies (µs) of `total` operations run by `concurrency` callers, and the rate. */
export async function loaded(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<{ samplesUs: number[]; opsPerSecond: number }> {
  const samples: number[] = [];
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const begun = process.hrtime.bigint();
        await op(i);
        samples.push(Number(process.hrtime.bigint() - begun) / 1000);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { samplesUs: samples, opsPerSecond: total / seconds };
}

/** Runs `op` with `concurrency` workers for `total` operations; returns operations per second. */
export async function throughput(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  return (await loaded(total, concurrency, op)).opsPerSecond;
}

export function fmt(n: number, digits = 1): string {
  return n.toFixed(digits);
}
