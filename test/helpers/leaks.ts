/**
 * A leak check in the spirit of Go's goleak: the process's active handles (sockets, servers, timers)
 * after a test must come back to what they were before it.
 */
import { expect } from 'chai';

/** Active resources by type (`TCPSocketWrap`, `PipeWrap`, `Timeout`, ...). */
export type Resources = ReadonlyMap<string, number>;

/** The process's active resources now. */
export function activeResources(): Resources {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

function excess(before: Resources): string[] {
  const now = activeResources();
  return [...now].filter(([type, n]) => n > (before.get(type) ?? 0)).map(([type, n]) => `${type}: ${before.get(type) ?? 0} -> ${n}`);
}

/**
 * The resources to compare with after the test, taken from an async mocha hook: mocha arms the hook's
 * own timer once the hook returns its promise, so the snapshot waits a tick to count it, as the check
 * in an async afterEach hook will.
 */
export async function baseline(): Promise<Resources> {
  await new Promise((resolve) => setImmediate(resolve));
  return activeResources();
}

/** Waits (up to `waitMs`) until no resource type has more instances than in `before`; fails naming those that do. */
export async function expectNoLeaks(before: Resources, waitMs = 5000): Promise<void> {
  const until = Date.now() + waitMs;
  let left = excess(before);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    left = excess(before);
  }
  expect(left, 'resources left behind').to.deep.equal([]);
}
