/**
 * Watch fan-out: 100 watching Finds on one network service, over gRPC on a unix socket, and how long a
 * new registration of that service takes to reach all of them (20 registrations).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { createRegistryClient } from '../../src/registry/chains/client/index.js';
import { serveRegistryServer } from '../../src/registry/chains/server/index.js';
import { fmt } from './stats.js';

const WATCHERS = 100;
const REGISTRATIONS = 20;
const WARM_UP = 5;
const SERVICE = 'svc';
const SEEN_TIMEOUT_MS = 10_000;

/** A registration being waited for: when each watcher saw it (ms, `performance.now()`). */
interface Pending {
  readonly seen: Map<number, number>;
  readonly done: () => void;
  readonly fail: (error: Error) => void;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return ((s[(n - 1) >> 1] ?? 0) + (s[n >> 1] ?? 0)) / 2;
}

/** Prints the watcher figures through `out`. */
export async function watcherLatency(out: (line?: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nsm-bench-watchers-'));
  const registry = await serveRegistryServer(`unix://${join(dir, 'registry.sock')}`, { defaultLifetimeMs: 3_600_000 });
  // The watches share one client, so one channel (the dial element's pool); registrations come from
  // another client on its own channel, as from an endpoint.
  const watching = createRegistryClient({ connectTo: registry.url, chain: { heal: false } });
  const registering = createRegistryClient({ connectTo: registry.url, chain: { heal: false } });
  const subscriptions: Subscription[] = [];
  const pending = new Map<string, Pending>();
  // An object, not a `let`: it is set in callbacks, which flow analysis of the awaits below does not see.
  const state: { failure?: Error } = {};
  const failAll = (error: Error): void => {
    state.failure ??= error;
    for (const p of pending.values()) p.fail(error);
  };
  try {
    for (let w = 0; w < WATCHERS; w++) {
      const subscription = watching.watchEndpoints({ networkServiceNames: [SERVICE] }).subscribe({
        next: ({ item, deleted }) => {
          const p = pending.get(item.name);
          if (deleted || p === undefined || p.seen.has(w)) return;
          p.seen.set(w, performance.now());
          if (p.seen.size === WATCHERS) p.done();
        },
        error: (error: unknown) => failAll(new Error(`watcher ${w} failed: ${String(error)}`)),
        complete: () => failAll(new Error(`watcher ${w} ended`)),
      });
      subscriptions.push(subscription);
    }
    let registered = 0;
    /** Registers `name` and resolves with the time to each watcher (ms) and of the Register call itself. */
    const registerAndWait = async (name: string): Promise<{ toWatchers: number[]; registerMs: number }> => {
      if (state.failure !== undefined) throw state.failure;
      let done = (): void => undefined;
      let fail = (_: Error): void => undefined;
      const allSeen = new Promise<void>((resolve, reject) => {
        done = resolve;
        fail = reject;
      });
      allSeen.catch(() => undefined); // handled: awaited below, unless the Register fails first
      const p: Pending = { seen: new Map(), done, fail };
      pending.set(name, p);
      const timer = setTimeout(() => failAll(new Error(`${name}: ${p.seen.size} of ${WATCHERS} watchers saw it within ${SEEN_TIMEOUT_MS} ms`)), SEEN_TIMEOUT_MS);
      try {
        const start = performance.now();
        await registering.registerEndpoint({ name, networkServiceNames: [SERVICE], url: `tcp://127.0.0.1:${10_000 + registered++}` });
        const registerMs = performance.now() - start;
        await allSeen;
        return { toWatchers: [...p.seen.values()].map((t) => t - start), registerMs };
      } finally {
        clearTimeout(timer);
        pending.delete(name);
      }
    };
    // The first registration is seen once every watch is open on the registry (the memory store sends
    // what is there, then every change): the streams are ready after it. More warm the code paths.
    for (let i = 0; i < WARM_UP; i++) await registerAndWait(`warm-${i}`);
    const maxima: number[] = [];
    const medians: number[] = [];
    const registers: number[] = [];
    for (let i = 0; i < REGISTRATIONS; i++) {
      const { toWatchers, registerMs } = await registerAndWait(`nse-${i}`);
      maxima.push(Math.max(...toWatchers));
      medians.push(median(toWatchers));
      registers.push(registerMs);
    }
    const worst = (values: readonly number[]): number => Math.max(...values);
    out(`## Registry: ${WATCHERS} watchers see a registration`);
    out();
    out(`${WATCHERS} watching Finds on \`networkServiceNames: ['${SERVICE}']\` over gRPC (unix socket, one client and channel for`);
    out(`all of them); ${REGISTRATIONS} times, another client registers a new endpoint of '${SERVICE}' (after ${WARM_UP} unmeasured),`);
    out('timed from the start of its Register to each watcher receiving it. Goal: the last watcher within 10 ms.');
    out();
    out('| per registration | median (ms) | worst (ms) |');
    out('| --- | --- | --- |');
    out(`| last of ${WATCHERS} watchers (max) | ${fmt(median(maxima), 2)} | ${fmt(worst(maxima), 2)} |`);
    out(`| median watcher | ${fmt(median(medians), 2)} | ${fmt(worst(medians), 2)} |`);
    out(`| the Register call itself | ${fmt(median(registers), 2)} | ${fmt(worst(registers), 2)} |`);
    out();
    out(`- goal within 10 ms (last watcher): ${median(maxima) <= 10 ? 'met' : 'missed'} at the median, ${worst(maxima) <= 10 ? 'met' : 'missed'} at worst`);
    out();
  } finally {
    for (const subscription of subscriptions) subscription.unsubscribe();
    await registering.close().catch(() => undefined);
    watching.abandon();
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
