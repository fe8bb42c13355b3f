/**
 * One role of the scale benchmark (see `scale.ts`), run as a child process from the build:
 * `fork('dist/test/bench/scale-role.js', [role, JSON.stringify(config)], { execArgv: ['--expose-gc'] })`.
 *
 * Roles: `registry`, `nsmgr`, `forwarder`, `nse` (an icmp-responder: point-to-point IPAM from 10.0.0.0/8,
 * kernel and VXLAN mechanisms, registering its service and itself through the manager). Each listens on
 * `unix://<dir>/<role>.sock`; every token it mints lives `lifetimeMs`, signed with the sandbox key (all
 * roles trust each other, as in the sandbox).
 *
 * IPC (process.send / 'message'), parent → child, each message with an `id` echoed in the reply:
 * - `{type: 'measure', id, gc?}` → `{type: 'measure', id, heapUsed, rss, external, cpuUser, cpuSystem,
 *   sockets, connections, warnings, errors, lastWarning}`: `global.gc()` twice first (unless `gc: false`),
 *   CPU (µs, `process.cpuUsage()`) read before that collection; `sockets` counts /proc/self/fd entries that
 *   are sockets (the IPC channel and the listener included); `connections` is what the role's server holds.
 * - `{type: 'snapshot', id, file}` → `{type: 'snapshot', id, file}`: a heap snapshot (for a look at what holds memory).
 * - `{type: 'stop', id}` → `{type: 'stopped', id}`, then the process exits. SIGTERM, SIGINT and the loss of
 *   the IPC channel stop it too.
 * Once serving, the child sends `{type: 'ready', url}`; if it cannot start, `{type: 'failed', error}` and exits 1.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { NetworkService, NetworkServiceEndpoint } from '../../src/api/gen/registry.js';
import { ChainContext } from '../../src/networkservice/core/context.js';
import { serveRegistryServer } from '../../src/registry/chains/server/serve.js';
import { serveNsmgr } from '../../src/networkservice/chains/nsmgr/serve.js';
import { serveForwarder } from '../../src/networkservice/chains/forwarder/serve.js';
import { noopDataplane } from '../../src/networkservice/chains/forwarder/chain.js';
import { endpointChain } from '../../src/networkservice/chains/endpoint/chain.js';
import { serveEndpoint } from '../../src/networkservice/chains/endpoint/serve.js';
import { mechanismsServer } from '../../src/networkservice/common/mechanisms/index.js';
import { kernelMechanismServer } from '../../src/networkservice/mechanisms/kernel/index.js';
import { vxlanMechanismServer } from '../../src/networkservice/mechanisms/vxlan/index.js';
import { point2pointServer } from '../../src/networkservice/ipam/point2point/index.js';
import { createRegistryClient } from '../../src/registry/chains/client/client.js';
import { createLogger } from '../../src/tools/log/index.js';
import { errorMessage } from '../../src/tools/grpc/status.js';
import { testTokenGenerator } from '../../src/tools/sandbox/helpers.js';

/** The roles this script runs. */
export type ScaleRole = 'registry' | 'nsmgr' | 'forwarder' | 'nse';

/** What the parent gives a role (argv[3], as JSON). */
export interface ScaleRoleConfig {
  /** Directory of the unix sockets. */
  readonly dir: string;
  /** Lifetime of every token the role mints (ms). */
  readonly lifetimeMs: number;
  /** The registry's URL (for `nsmgr`). */
  readonly registryURL?: string;
  /** The manager's URL (for `forwarder` and `nse`). */
  readonly nsmgrURL?: string;
  /** The network service the endpoint offers (for `nse`); default `icmp-responder`. */
  readonly networkService?: string;
}

/** A `measure` reply. */
export interface RoleMeasurement {
  readonly heapUsed: number;
  readonly rss: number;
  readonly external: number;
  /** µs, from `process.cpuUsage()`. */
  readonly cpuUser: number;
  readonly cpuSystem: number;
  /** Open file descriptors that are sockets. */
  readonly sockets: number;
  /** Connections the role's server holds; undefined for the registry. */
  readonly connections: number | undefined;
  /** Warnings and errors the role logged so far, and the last one. */
  readonly warnings: number;
  readonly errors: number;
  readonly lastWarning: string | undefined;
}

/** A role once it serves. */
interface Started {
  readonly url: string;
  readonly connections: () => number | undefined;
  readonly stop: () => Promise<void>;
}

/** Counts this process's sockets: /proc/self/fd entries whose link reads `socket:[inode]`. */
export function countSockets(): number {
  let sockets = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(join('/proc/self/fd', fd)).startsWith('socket:')) sockets++;
    } catch {
      // Closed between the listing and the readlink (the listing's own descriptor, for one).
    }
  }
  return sockets;
}

const log = { warnings: 0, errors: 0, last: undefined as string | undefined };
const logger = createLogger('warn', (level, line) => {
  if (level === 'error') log.errors++;
  else log.warnings++;
  log.last = line.length > 400 ? `${line.slice(0, 400)}…` : line;
});
const ctx = ChainContext.background({ logger });

async function start(role: ScaleRole, config: ScaleRoleConfig): Promise<Started> {
  const address = `unix://${join(config.dir, `${role}.sock`)}`;
  const tokens = testTokenGenerator(role, config.lifetimeMs);
  const need = (value: string | undefined, what: string): string => {
    if (value === undefined) throw new Error(`${role}: ${what} missing from the config`);
    return value;
  };
  switch (role) {
    case 'registry': {
      const served = await serveRegistryServer(address, { ctx, name: 'registry', tokenGenerator: tokens, server: { drainTimeoutMs: 500 } });
      return { url: served.url, connections: () => undefined, stop: () => served.stop() };
    }
    case 'nsmgr': {
      const served = await serveNsmgr(address, {
        name: 'nsmgr-0',
        registryURL: need(config.registryURL, 'registryURL'),
        ctx,
        tokenGenerator: tokens,
        env: { NODE_NAME: 'node-0' },
        server: { drainTimeoutMs: 500 },
      });
      return { url: served.url, connections: () => served.binding.held.size, stop: () => served.stop() };
    }
    case 'forwarder': {
      const served = await serveForwarder(address, {
        name: 'forwarder-0',
        connectTo: need(config.nsmgrURL, 'nsmgrURL'),
        ctx,
        tokenGenerator: tokens,
        dataplane: noopDataplane(),
        server: { drainTimeoutMs: 500 },
      });
      return { url: served.url, connections: () => served.binding.held.size, stop: () => served.stop() };
    }
    case 'nse': {
      const service = config.networkService ?? 'icmp-responder';
      const lifetime = new AbortController();
      const chain = endpointChain({
        name: 'nse-0',
        signal: lifetime.signal,
        tokenGenerator: tokens,
        additionalFunctionality: [
          // A /8: 10,000 point-to-point connections take 20,000 addresses.
          point2pointServer(['10.0.0.0/8']),
          mechanismsServer({ KERNEL: kernelMechanismServer(), VXLAN: vxlanMechanismServer({ dstIP: '127.0.0.1' }) }),
        ],
      });
      const served = await serveEndpoint(address, chain, { ctx, drainTimeoutMs: 500 });
      const registry = createRegistryClient({ connectTo: need(config.nsmgrURL, 'nsmgrURL'), ctx });
      try {
        await registry.registerService(NetworkService.fromPartial({ name: service }));
        await registry.registerEndpoint(
          NetworkServiceEndpoint.fromPartial({
            name: 'nse-0',
            url: served.url,
            networkServiceNames: [service],
            networkServiceLabels: { [service]: { labels: {} } },
          }),
        );
      } catch (error) {
        await served.server.kill();
        registry.abandon();
        lifetime.abort();
        throw error;
      }
      return {
        url: served.url,
        connections: () => served.connections.size,
        stop: async () => {
          await Promise.all([served.stop(), registry.close({ timeoutMs: 1000 })]);
          lifetime.abort();
        },
      };
    }
  }
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with --expose-gc');
  collect();
  collect();
}

function send(message: object): void {
  if (process.connected) process.send?.(message);
}

async function main(): Promise<void> {
  const role = process.argv[2] as ScaleRole | undefined;
  if (role === undefined || !['registry', 'nsmgr', 'forwarder', 'nse'].includes(role)) {
    throw new Error(`usage: scale-role.js registry|nsmgr|forwarder|nse '<config JSON>' (got ${String(role)})`);
  }
  if (process.send === undefined) throw new Error('scale-role.js runs as a child process with an IPC channel (child_process.fork)');
  const config = JSON.parse(process.argv[3] ?? '{}') as ScaleRoleConfig;
  let started: Started | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (code: number): Promise<void> =>
    (stopping ??= (async () => {
      // Bounded: the parent kills what is still there after a while anyway.
      const bound = setTimeout(() => process.exit(code), 10_000);
      bound.unref();
      await started?.stop().catch((error: unknown) => console.error(`${role}: stop failed: ${errorMessage(error)}`));
    })());
  const exitAfterStop = (code: number): void => void stop(code).then(() => process.exit(code));
  process.on('SIGTERM', () => exitAfterStop(0));
  process.on('SIGINT', () => exitAfterStop(0));
  // The parent died or let go: nothing will ever ask again.
  process.on('disconnect', () => exitAfterStop(0));
  process.on('message', (raw: unknown) => {
    const message = raw as { type?: string; id?: number; gc?: boolean; file?: string };
    const id = message.id;
    switch (message.type) {
      case 'measure': {
        const cpu = process.cpuUsage();
        if (message.gc !== false) gc();
        const memory = process.memoryUsage();
        const reply: RoleMeasurement & { type: string; id: number | undefined } = {
          type: 'measure',
          id,
          heapUsed: memory.heapUsed,
          rss: memory.rss,
          external: memory.external,
          cpuUser: cpu.user,
          cpuSystem: cpu.system,
          sockets: countSockets(),
          connections: started?.connections(),
          warnings: log.warnings,
          errors: log.errors,
          lastWarning: log.last,
        };
        send(reply);
        return;
      }
      case 'snapshot': {
        gc();
        const file = writeHeapSnapshot(message.file);
        send({ type: 'snapshot', id, file });
        return;
      }
      case 'stop':
        void stop(0).then(() => {
          send({ type: 'stopped', id });
          process.exit(0);
        });
        return;
      default:
        send({ type: 'error', id, error: `unknown message ${JSON.stringify(raw)}` });
    }
  });
  try {
    started = await start(role, config);
  } catch (error) {
    send({ type: 'failed', error: `${role}: ${errorMessage(error)}` });
    process.exit(1);
  }
  send({ type: 'ready', url: started.url });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
