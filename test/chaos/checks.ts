/**
 * The end conditions of a chaos run, each a bounded wait that returns whether it held and what it saw
 * (the report prints it). They read the system only through its public interfaces: each client's own
 * monitor, each role's MonitorConnection service, the registry's Find, the OS (processes, socket files).
 * @module
 */
import { Client, credentials } from '@grpc/grpc-js';
import { firstValueFrom } from 'rxjs';
import { State, type Connection } from '../../src/api/gen/connection.js';
import { ChainContext } from '../../src/networkservice/core/context.js';
import { watchConnections } from '../../src/networkservice/common/monitor/index.js';
import { createRegistryClient } from '../../src/registry/chains/client/client.js';
import { grpcTarget, parseAddress } from '../../src/tools/grpc/address.js';
import { errorMessage } from '../../src/tools/grpc/status.js';
import type { ChaosClient, Heal } from './clients.js';
import type { Domain, RoleProcess } from './domain.js';
import type { Security } from '../../src/tools/security/index.js';
import type { ChaosTrust } from './trust.js';
import { pause, until } from './stats.js';

/** One end condition: whether it held, and lines that say what was seen. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: readonly string[];
}

const pathOf = (c: Connection): string => (c.path?.pathSegments ?? []).map((s) => s.name).join('>');

/** Every connection a client still holds is UP in its latest watched state, within `timeoutMs`. */
export async function connectionsUp(clients: readonly ChaosClient[], timeoutMs: number): Promise<Check> {
  const notUp = (): { client: ChaosClient; conn: Connection }[] =>
    clients.flatMap((client) => client.client.connections().filter((c) => client.state(c.id) !== State.UP).map((conn) => ({ client, conn })));
  const started = Date.now();
  const ok = await until(() => notUp().length === 0, timeoutMs);
  const held = clients.reduce((n, c) => n + c.client.connections().length, 0);
  const detail = ok
    ? [`${held} connection(s) held, all UP after ${Date.now() - started} ms`]
    : [
        `${notUp().length} of ${held} connection(s) not UP after ${timeoutMs} ms:`,
        ...notUp().map(({ client, conn }) => {
          const seen = client.history(conn.id).map((s) => `${(s.at / 1000).toFixed(1)}s ${s.state} ${s.path}`);
          return `  ${client.name} ${conn.id} ${State[client.state(conn.id) ?? State.UP] ?? '?'} on ${pathOf(conn)}; seen: ${seen.join(' | ')}`;
        }),
      ];
  return { name: 'held connections UP', ok, detail };
}

/**
 * Once the domain is settled, the held connections stay as they are: no heal starts for `quietMs` from
 * `fromMs` (run time) and every one is UP at the end. Nothing is killed then, so a heal here means the
 * path broke by itself; one token lifetime is enough to see a refresh that does not renew the tokens
 * (a hop then closes the connection when the first token expires).
 */
export async function staysUp(clients: readonly ChaosClient[], heals: readonly Heal[], fromMs: number, quietMs: number, now: () => number): Promise<Check> {
  await pause(Math.max(0, fromMs + quietMs - now()));
  const started = heals.filter((h) => h.startedAt >= fromMs);
  const notUp = clients.flatMap((c) => c.client.connections().filter((conn) => c.state(conn.id) !== State.UP).map((conn) => `${c.name} ${conn.id}`));
  const ok = started.length === 0 && notUp.length === 0;
  const detail = ok
    ? [`no heal in ${((now() - fromMs) / 1000).toFixed(1)} s without kills`]
    : [
        `${started.length} heal(s) started in the ${((now() - fromMs) / 1000).toFixed(1)} s after ${(fromMs / 1000).toFixed(1)}s, with every role up:`,
        ...started.slice(0, 10).map((h) => {
          const client = clients.find((c) => c.name === h.client);
          const seen = (client?.history(h.id) ?? []).map((s) => `${(s.at / 1000).toFixed(1)}s ${s.state} ${s.path}`);
          return `  ${h.client} ${h.id} at ${(h.startedAt / 1000).toFixed(1)}s, ${h.durationMs === undefined ? 'unfinished' : `${h.durationMs} ms`}; seen: ${seen.slice(-6).join(' | ')}`;
        }),
        ...(notUp.length === 0 ? [] : [`  not UP at the end: ${notUp.join(', ')}`]),
      ];
  return { name: 'held connections stay UP once settled', ok, detail };
}

/** The connections one role's MonitorConnections reports in its initial snapshot. */
export async function monitoredConnections(url: string, security?: Security): Promise<Connection[]> {
  const channel = new Client(grpcTarget(parseAddress(url)), security?.channelCredentials() ?? credentials.createInsecure(), {
    'grpc.default_authority': 'localhost',
    ...(security === undefined ? {} : { 'grpc.ssl_target_name_override': 'localhost' }),
  });
  const [ctx, cancel] = ChainContext.background().withCancel(5000);
  try {
    const first = await firstValueFrom(watchConnections(channel, {}, ctx));
    return Object.values(first.connections);
  } finally {
    cancel();
    channel.close();
  }
}

/** After every client closed everything: every live role (but the registry) reports 0 connections, within `timeoutMs`. */
export async function monitorsEmpty(domain: Domain, timeoutMs: number, trust: ChaosTrust): Promise<Check> {
  const roles = (): RoleProcess[] => domain.live().filter((r) => r.spec.kind !== 'registry');
  let left: string[] = [];
  const started = Date.now();
  const ok = await until(async () => {
    left = [];
    for (const role of roles()) {
      try {
        // As the role itself: a caller sees only the connections it is on.
        const conns = await monitoredConnections(role.url, await trust.security(role.spec.kind, role.spec.name));
        if (conns.length > 0) left.push(`  ${role.spec.name}: ${conns.length}: ${conns.slice(0, 5).map((c) => `${c.id} ${State[c.state] ?? '?'} ${pathOf(c)}`).join('; ')}`);
      } catch (error) {
        left.push(`  ${role.spec.name}: MonitorConnections failed: ${errorMessage(error)}`);
      }
    }
    return left.length === 0;
  }, timeoutMs, 1000);
  return {
    name: 'no connection left at any role',
    ok,
    detail: ok ? [`${roles().length} role(s) report 0 connections after ${Date.now() - started} ms`] : [`after ${timeoutMs} ms:`, ...left],
  };
}

/**
 * The registry holds exactly the live forwarders and endpoints, within `timeoutMs`: no registration of a
 * killed process once its lifetime ran out, and none of a live one missing.
 */
export async function registryLive(domain: Domain, registryURL: string, timeoutMs: number, trust: ChaosTrust): Promise<Check> {
  const registry = createRegistryClient({ connectTo: registryURL, chain: { security: await trust.security('admin', 'chaos-checks') } });
  let stale: string[] = [];
  let missing: string[] = [];
  let error = '';
  const started = Date.now();
  try {
    const ok = await until(async () => {
      const live = new Set(domain.live().filter((r) => r.spec.kind === 'forwarder' || r.spec.kind === 'nse').map((r) => r.spec.name));
      try {
        const names = new Set((await registry.findEndpoints({}, { timeoutMs: 5000 })).map((e) => e.name));
        error = '';
        stale = [...names].filter((n) => !live.has(n)).sort();
        missing = [...live].filter((n) => !names.has(n)).sort();
      } catch (e) {
        error = errorMessage(e);
      }
      return error === '' && stale.length === 0 && missing.length === 0;
    }, timeoutMs, 1000);
    const detail = ok
      ? [`only the ${domain.live().filter((r) => r.spec.kind === 'forwarder' || r.spec.kind === 'nse').length} live forwarders and endpoints, after ${Date.now() - started} ms`]
      : [`after ${timeoutMs} ms:`, ...(error === '' ? [] : [`  Find failed: ${error}`]), `  registered but not alive: ${stale.join(', ') || '-'}`, `  alive but not registered: ${missing.join(', ') || '-'}`];
    return { name: 'registry holds only live roles', ok, detail };
  } finally {
    registry.abandon();
  }
}

/**
 * Stops every role with SIGTERM, then: each exited 0, no process is left, and no socket file is left
 * but those of killed processes whose address nothing took over (a SIGKILLed role cannot remove its
 * file; they are listed, then deleted with the directory).
 */
export async function stopClean(domain: Domain): Promise<Check[]> {
  const report = await domain.stopAll();
  const lingering = domain.lingering();
  const stale = new Set(domain.staleSockets());
  const left = domain.sockets().filter((f) => !stale.has(f));
  return [
    {
      name: 'every role exits 0 on SIGTERM',
      ok: report.unclean.length === 0,
      detail: report.unclean.length === 0 ? ['all exited 0'] : report.unclean.map((u) => `  ${u.name} (pid ${u.pid}): ${u.exit === 'timeout' ? 'no exit in 10 s, killed' : `code ${u.exit.code ?? '-'} signal ${u.exit.signal ?? '-'}`}`),
    },
    { name: 'no process left', ok: lingering.length === 0, detail: lingering.length === 0 ? [`${domain.all.length} processes started, none left`] : [`still running: ${lingering.join(', ')}`] },
    {
      name: 'no socket file left',
      ok: left.length === 0,
      detail: [left.length === 0 ? 'none but the killed ones' : `left: ${left.join(', ')}`, `left by SIGKILLed processes (expected): ${[...stale].join(', ') || '-'}`],
    },
  ];
}
