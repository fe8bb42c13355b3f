/**
 * The fuzz harness: sends generated cases to one RPC of a role over real gRPC (raw bytes, identity
 * serializers, bounded concurrency), and checks the four properties:
 *
 * 1. every answer is a success or a gRPC status with a non-empty message, before the call's deadline
 *    (DEADLINE_EXCEEDED is a hang; INTERNAL or UNKNOWN from the role's own code is a non-status error);
 * 2. after each batch, a well-formed request from a real client still works;
 * 3. after each batch, the role's state (its snapshot) is what it was before the fuzz started: what a
 *    case created successfully is undone by the RPC's cleanup, what it was refused left nothing behind;
 * 4. no unhandled rejection, uncaught exception or process warning happened.
 *
 * Cases come from `fc.sample` in batches, each batch with its own seed derived from the run's seed, the
 * RPC's name and the batch number, so a failure names the seed, batch and case that reproduce it.
 */
import { status, type ChannelCredentials } from '@grpc/grpc-js';
import fc from 'fast-check';
import { Caller, type CallResult, type WireCase } from './caller.js';
import { ProcessWatch } from './process.js';

export { Caller, type CallResult, type WireCase } from './caller.js';

/** One RPC under fuzz. */
export interface FuzzRpc<T> {
  /** Shown in reports, e.g. `endpoint Request`. */
  readonly name: string;
  /** The gRPC method path, e.g. `/networkservice.NetworkService/Request`. */
  readonly method: string;
  /** Server-streaming (Find, MonitorConnections) rather than unary. */
  readonly streaming: boolean;
  /** The generated inputs. */
  readonly cases: fc.Arbitrary<T>;
  /** Puts an input on the wire. */
  toWire(input: T): WireCase;
  /** A one-line description of an input for failure reports. */
  describe(input: T): string;
  /** Undoes what a successful call created (closes the connection, unregisters the item). */
  cleanup?(input: T, result: CallResult, call: Caller): Promise<void>;
}

/** A role under fuzz. */
export interface FuzzTarget {
  /** The role's name in reports. */
  readonly name: string;
  /** Its grpc-js target (`127.0.0.1:port` or `unix:///path`). */
  readonly address: string;
  /** The fuzz caller's credentials (mTLS as a workload of the target's trust domain); plaintext when absent. */
  readonly credentials?: () => ChannelCredentials;
  /** Its observable state, by aspect; each aspect is compared as JSON. */
  snapshot(): Promise<Record<string, unknown>>;
  /** Throws unless a well-formed request from a real client works. */
  healthy(): Promise<void>;
}

/** Run settings; {@link fuzzSettings} reads them from the environment. */
export interface FuzzSettings {
  /** Cases per RPC. */
  readonly runs: number;
  /** The run's seed. */
  readonly seed: number;
  /** Cases in flight at once. */
  readonly concurrency: number;
  /** Deadline of every call (ms): past it the role counts as hung. */
  readonly deadlineMs: number;
  /** Print every case's outcome. */
  readonly trace: boolean;
}

/** Cases per batch: fixed, so that a seed reproduces the same batches whatever the number of runs. */
export const BATCH = 50;

/** Cases per RPC in the test suite. */
export const DEFAULT_RUNS = 200;

/**
 * Reads NSM_FUZZ_RUNS (default `defaultRuns`), NSM_FUZZ_SEED (default fixed), NSM_FUZZ_CONCURRENCY
 * (default 16), NSM_FUZZ_DEADLINE_MS (default 15000) and NSM_FUZZ_TRACE (`1`: print every case).
 */
export function fuzzSettings(defaultRuns = DEFAULT_RUNS): FuzzSettings {
  const env = process.env;
  const number = (name: string, fallback: number): number => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value)) throw new Error(`${name} must be an integer, got ${env[name]}`);
    return value;
  };
  return {
    runs: number('NSM_FUZZ_RUNS', defaultRuns),
    seed: number('NSM_FUZZ_SEED', 20260101),
    concurrency: number('NSM_FUZZ_CONCURRENCY', 16),
    deadlineMs: number('NSM_FUZZ_DEADLINE_MS', 15_000),
    trace: env.NSM_FUZZ_TRACE === '1',
  };
}

/** Whether NSM_FUZZ_ONLY (a substring, if set) selects the RPC called `name`. */
export function selected(name: string): boolean {
  const only = process.env.NSM_FUZZ_ONLY;
  return only === undefined || only === '' || name.includes(only);
}

/** One property violation. */
export interface Failure {
  /** hang, empty-message, non-status, cleanup, state, unhealthy or process. */
  readonly kind: string;
  /** What happened, with the case that did it when there is one. */
  readonly detail: string;
}

/** What a run of one RPC found. */
export interface FuzzReport {
  /** The RPC's name. */
  readonly rpc: string;
  /** Outcomes by gRPC status name (OK, INVALID_ARGUMENT, ...) and by failure kind. */
  readonly counts: Map<string, number>;
  /** Property violations. */
  readonly failures: Failure[];
  /** Cases sent. */
  cases: number;
}

/** gRPC status names by code. */
export const STATUS_NAMES = new Map<number, string>(Object.entries(status).filter((e): e is [string, number] => typeof e[1] === 'number').map(([k, v]) => [v, k]));

/**
 * INTERNAL answers that do not come from the role's code: grpc-js' own when a message does not decode,
 * and HTTP/2's reset of a stream whose headers are too large (Node refuses them before grpc-js sees them).
 */
function libraryInternal(details: string): string | undefined {
  if (details.startsWith('Error deserializing request')) return 'INTERNAL (undecodable)';
  if (details.startsWith('Received RST_STREAM')) return 'INTERNAL (transport reset)';
  return undefined;
}

/** The failure kind of a call result, or undefined when the answer is acceptable. */
export function classify(result: CallResult): string | undefined {
  if (result.code === status.OK) return undefined;
  if (result.code === status.DEADLINE_EXCEEDED) return 'hang';
  if (result.details.trim() === '') return 'empty-message';
  // Any other INTERNAL or UNKNOWN is an error that left the role's code without a status of its own
  // (a TypeError, a RangeError, ...): the chain turns those into INTERNAL.
  if ((result.code === status.INTERNAL || result.code === status.UNKNOWN) && libraryInternal(result.details) === undefined) return 'non-status';
  return undefined;
}

/** The key an outcome is counted under. */
function outcomeKey(result: CallResult): string {
  return (result.code === status.INTERNAL ? libraryInternal(result.details) : undefined) ?? STATUS_NAMES.get(result.code) ?? `code ${result.code}`;
}

/** Aspects of `after` that differ from `before` (compared as JSON). */
export function changedAspects(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}

/** `seed` mixed with `name` and `batch`, so every RPC and batch gets its own reproducible sequence. */
export function batchSeed(seed: number, name: string, batch: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const c of `${name}#${batch}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h | 0;
}

function truncate(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} chars)`;
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Waits until the snapshot equals `baseline` (up to `waitMs`: closes and expiries settle); returns the aspects that still differ, and the snapshot. */
async function settledChanges(target: FuzzTarget, baseline: Record<string, unknown>, waitMs = 3000): Promise<[string[], Record<string, unknown>]> {
  const until = Date.now() + waitMs;
  for (;;) {
    const now = await target.snapshot();
    const changed = changedAspects(baseline, now);
    if (changed.length === 0 || Date.now() > until) return [changed, now];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sends `settings.runs` cases of `rpc` to `target`, checking the properties; never throws for a violation. */
export async function fuzzRpc<T>(target: FuzzTarget, rpc: FuzzRpc<T>, settings: FuzzSettings): Promise<FuzzReport> {
  const report: FuzzReport = { rpc: rpc.name, counts: new Map(), failures: [], cases: 0 };
  const count = (key: string): void => void report.counts.set(key, (report.counts.get(key) ?? 0) + 1);
  const fail = (failure: Failure): void => void report.failures.push(failure);
  const watch = new ProcessWatch();
  const baseline = await target.snapshot();
  try {
    for (let batch = 0; batch * BATCH < settings.runs && report.failures.length < 20; batch++) {
      const seed = batchSeed(settings.seed, rpc.name, batch);
      const inputs = fc.sample(rpc.cases, { seed, numRuns: Math.min(BATCH, settings.runs - batch * BATCH) });
      const caller = new Caller(target.address, target.credentials?.());
      const where = (index: number): string => `seed ${settings.seed}, batch ${batch}, case ${index}`;
      await pool(inputs, settings.concurrency, async (input, index) => {
        const wire = rpc.toWire(input);
        const started = Date.now();
        const result = rpc.streaming
          ? await caller.stream(rpc.method, wire, settings.deadlineMs, { firstOnly: rpc.method.endsWith('/MonitorConnections'), graceMs: 100, firstGraceMs: 500 })
          : await caller.unary(rpc.method, wire, settings.deadlineMs);
        report.cases++;
        const kind = classify(result);
        if (settings.trace) console.log(`  [${rpc.name}] ${where(index)}: ${STATUS_NAMES.get(result.code)} in ${Date.now() - started} ms: ${truncate(result.details, 120)} <- ${truncate(rpc.describe(input), 200)}`);
        count(kind ?? outcomeKey(result));
        if (kind !== undefined) {
          fail({ kind, detail: `${where(index)}: ${STATUS_NAMES.get(result.code)} "${truncate(result.details)}" for ${rpc.describe(input)}` });
          return;
        }
        if (result.code === status.OK && rpc.cleanup !== undefined) {
          await rpc.cleanup(input, result, caller).catch((error: unknown) => {
            fail({ kind: 'cleanup', detail: `${where(index)}: undoing a success failed: ${String(error)} for ${rpc.describe(input)}` });
          });
        }
      });
      caller.close();
      const [changed, now] = await settledChanges(target, baseline);
      for (const aspect of changed) {
        fail({ kind: 'state', detail: `after batch ${batch} (seed ${settings.seed}): ${aspect} was ${truncate(JSON.stringify(baseline[aspect]))}, is ${truncate(JSON.stringify(now[aspect]))}` });
        // Counted once: later batches compare that aspect with what it is now.
        baseline[aspect] = now[aspect];
      }
      await target.healthy().catch((error: unknown) => fail({ kind: 'unhealthy', detail: `after batch ${batch} (seed ${settings.seed}): ${String(error)}` }));
      for (const event of watch.take()) fail({ kind: 'process', detail: `batch ${batch} (seed ${settings.seed}): ${event.text}` });
    }
  } finally {
    watch.stop();
  }
  return report;
}
