/**
 * The chaos run's clients: in-process {@link NsmClient}s, each connected to one node's manager over TCP.
 * Each holds one long-lived connection through the whole run (the one the end checks expect UP) and runs
 * its share of request / refresh / hold / close cycles next to it. Every client's monitor is watched: a
 * connection seen leaving UP and coming back is one heal, timed from the first non-UP state to the next UP.
 * @module
 */
import type { Subscription } from 'rxjs';
import { type Connection, ConnectionEventType, State } from '../../src/api/gen/connection.js';
import { createClient, type NsmClient } from '../../src/networkservice/chains/client/client.js';
import { kernelMechanismPreference } from '../../src/networkservice/mechanisms/kernel/index.js';
import { errorMessage } from '../../src/tools/grpc/status.js';
import type { Security } from '../../src/tools/security/index.js';
import { pause, reasonOf, type Prng } from './stats.js';
import { SERVICE } from './topology.js';

/** Where a cycle failed. */
export type Stage = 'request' | 'refresh' | 'close';

/** A failed cycle: the stage and the error's message (and its shape, for grouping). */
export interface CycleFailure {
  readonly stage: Stage;
  readonly reason: string;
  readonly message: string;
}

/** One heal seen by a client: when it started (ms since the run began), how long it took (undefined while unfinished). */
export interface Heal {
  readonly client: string;
  readonly id: string;
  readonly startedAt: number;
  durationMs: number | undefined;
  /** Closed by the application before it was UP again. */
  abandoned: boolean;
}

/** What one connection looked like over time (for a failure report): state and path, with times. */
export interface Seen {
  readonly at: number;
  readonly state: string;
  readonly path: string;
}

/** Options of {@link ChaosClient}. */
export interface ChaosClientOptions {
  /** `nsc-<index>`. */
  readonly index: number;
  /** Its node's manager. */
  readonly connectTo: string;
  /** Its own sequence of choices. */
  readonly prng: Prng;
  /** Token lifetime of its path segment (ms): what a manager keeps of it when it stops hearing from it. */
  readonly tokenLifetimeMs: number;
  /** The client's identity (its tokens live `tokenLifetimeMs`). */
  readonly security: Security;
  /** Time limit of one request or close (ms). */
  readonly callTimeoutMs: number;
  /** Range of how long a cycle holds its connection (ms). */
  readonly holdMs: readonly [number, number];
  /** Milliseconds since the run began. */
  readonly now: () => number;
  /** Heals of every client go here. */
  readonly heals: Heal[];
  /** Heal causes reported by `onHeal`. */
  readonly onHealCause: (cause: string) => void;
}

const MECHANISMS = [kernelMechanismPreference()];
const pathOf = (c: Connection): string => (c.path?.pathSegments ?? []).map((s) => s.name).join('>');

/** One chaos client. */
export class ChaosClient {
  readonly name: string;
  readonly client: NsmClient;
  /** The connection it keeps through the run. */
  held: Connection | undefined;
  private readonly subscription: Subscription;
  private readonly states = new Map<string, { state: State; heal: Heal | undefined; seen: Seen[] }>();

  constructor(private readonly options: ChaosClientOptions) {
    this.name = `nsc-${options.index}`;
    this.client = createClient({
      name: this.name,
      connectTo: options.connectTo,
      security: options.security,
      heal: { onHeal: (event) => event.phase === 'start' && options.onHealCause(event.cause) },
    });
    this.subscription = this.client.events().subscribe((event) => {
      for (const conn of Object.values(event.connections)) {
        if (event.type === ConnectionEventType.DELETE) this.deleted(conn.id);
        else this.updated(conn);
      }
    });
  }

  /** Requests the long-lived connection, trying again until `deadline` (the domain may still be settling). */
  async hold(deadline: number): Promise<void> {
    for (;;) {
      try {
        this.held = await this.client.request(this.request(), { timeoutMs: this.options.callTimeoutMs });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`${this.name}: its long-lived connection failed: ${errorMessage(error)}`, { cause: error });
        await pause(500);
      }
    }
  }

  /** One cycle: request, refresh once or twice, hold a random time, close. Resolves with the failure, if any. */
  async cycle(signal: AbortSignal): Promise<CycleFailure | undefined> {
    const prng = this.options.prng;
    const refreshes = prng.int(1, 2);
    const hold = prng.int(this.options.holdMs[0], this.options.holdMs[1]);
    const call = { timeoutMs: this.options.callTimeoutMs, signal };
    let conn: Connection;
    try {
      conn = await this.client.request(this.request(), call);
    } catch (error) {
      // An application would not retry at once either; without a pause the cycles of a client whose
      // manager is dead would all fail within a moment.
      await pause(prng.int(300, 700), signal);
      return failure('request', error);
    }
    let failed: CycleFailure | undefined;
    for (let i = 0; i < refreshes && failed === undefined; i++) {
      await pause(hold / (refreshes + 1), signal);
      try {
        conn = await this.client.request({ connection: conn, mechanismPreferences: MECHANISMS }, call);
      } catch (error) {
        failed = failure('refresh', error);
      }
    }
    await pause(hold / (refreshes + 1), signal);
    try {
      // Not the caller's signal: a run that is being stopped still releases what it holds.
      await this.client.close(conn, { timeoutMs: this.options.callTimeoutMs });
    } catch (error) {
      failed ??= failure('close', error);
    }
    return failed;
  }

  /** The latest state its monitor showed for `id` (undefined when it holds no such connection). */
  state(id: string): State | undefined {
    return this.states.get(id)?.state;
  }

  /** What the client saw of `id`, oldest first (the last 20 changes). */
  history(id: string): readonly Seen[] {
    return this.states.get(id)?.seen ?? [];
  }

  /** Closes every connection it holds; resolves with the errors. */
  async closeAll(): Promise<string[]> {
    const errors: string[] = [];
    for (const conn of this.client.connections()) {
      await this.client.close(conn, { timeoutMs: this.options.callTimeoutMs }).catch((error: unknown) => errors.push(`${this.name} close ${conn.id}: ${errorMessage(error)}`));
    }
    this.held = undefined;
    return errors;
  }

  /** Stops the client's background work (after {@link closeAll}). */
  async dispose(): Promise<void> {
    await this.client.dispose({ timeoutMs: 1000 });
    this.subscription.unsubscribe();
  }

  private request(): { connection: { networkService: string; labels: Record<string, string> }; mechanismPreferences: typeof MECHANISMS } {
    return { connection: { networkService: SERVICE, labels: { app: 'chaos', client: this.name } }, mechanismPreferences: MECHANISMS };
  }

  private updated(conn: Connection): void {
    const now = this.options.now();
    const entry = this.states.get(conn.id) ?? { state: State.UP, heal: undefined, seen: [] };
    this.states.set(conn.id, entry);
    entry.seen.push({ at: now, state: State[conn.state] ?? String(conn.state), path: pathOf(conn) });
    if (entry.seen.length > 20) entry.seen.shift();
    entry.state = conn.state;
    if (conn.state !== State.UP && entry.heal === undefined) {
      entry.heal = { client: this.name, id: conn.id, startedAt: now, durationMs: undefined, abandoned: false };
      this.options.heals.push(entry.heal);
    } else if (conn.state === State.UP && entry.heal !== undefined) {
      entry.heal.durationMs = now - entry.heal.startedAt;
      entry.heal = undefined;
    }
  }

  private deleted(id: string): void {
    const entry = this.states.get(id);
    if (entry?.heal !== undefined) entry.heal.abandoned = true;
    this.states.delete(id);
  }
}

function failure(stage: Stage, error: unknown): CycleFailure {
  const message = errorMessage(error);
  return { stage, reason: `${stage}: ${reasonOf(message)}`, message };
}
