/**
 * `nsm demo`: a whole domain on loopback, one process per role (registry, manager, forwarder,
 * icmp-responder), then a client; prints the connection's path, mechanism and addresses, closes it and
 * stops every process (or, with `--stay`, keeps the domain up until Ctrl-C). The domain is secured like every
 * other: a development trust domain is made for it, every role mints its SVID from it (mTLS, signed
 * tokens, `authorize` with the default policies), and the demo prints the SPIFFE ID that signed each
 * path segment.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Settings } from './config.js';
import { createDevTrustDomain, writeDevTrustDomain } from '../tools/spiffe/devca.js';
import { tokenSubject } from '../tools/token/jwt.js';

/** The demo's trust domain. */
export const DEMO_TRUST_DOMAIN = 'demo.nsm';

/** How to start this same command again as another role (works under tsx and from compiled code). */
function nsm(role: string, env: Record<string, string>): ChildProcess {
  const script = process.argv[1] ?? '';
  return spawn(process.execPath, [...process.execArgv, script, role], {
    // NSM_STAY is the demo's own: the roles would warn that they do not read it.
    env: { ...process.env, NSM_STAY: '', NSM_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Resolves with the first stdout line matching `pattern`; rejects if the process exits first or time runs out. */
export function lineMatching(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout ?? process.stdin });
    const done = (): void => {
      clearTimeout(timer);
      lines.removeListener('line', onLine);
      child.removeListener('exit', onExit);
    };
    const onLine = (line: string): void => {
      const match = pattern.exec(line);
      if (match === null) return;
      done();
      resolve(match);
    };
    const onExit = (code: number | null): void => {
      done();
      reject(new Error(`${what} exited with code ${String(code)}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what} was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    lines.on('line', onLine);
    child.once('exit', onExit);
  });
}

/** Resolves with the exit code, or the name of the signal that ended the process. */
function exited(child: ChildProcess): Promise<number | string> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode ?? 'unknown');
    else child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
}

interface PrintedConnection {
  readonly id?: string;
  readonly networkService?: string;
  readonly networkServiceEndpointName?: string;
  readonly mechanism?: { readonly cls?: string; readonly type?: string; readonly parameters?: Record<string, string> };
  readonly context?: { readonly ipContext?: { readonly srcIpAddrs?: string[]; readonly dstIpAddrs?: string[] } };
  readonly path?: { readonly pathSegments?: { readonly name?: string; readonly token?: string }[] };
}

/** Runs the demo; resolves with the exit code. */
export async function demo(settings: Settings, out: (line: string) => void, signals: NodeJS.EventEmitter): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'nsm-demo-'));
  const caDir = join(dir, 'ca');
  // Every role's identity comes from the demo's CA, whatever the caller's environment says.
  const identity = { NSM_TRUST_DOMAIN_DIR: caDir, SPIFFE_ENDPOINT_SOCKET: '', NSM_SVID_DIR: '', NSM_INSECURE: '' };
  const children: ChildProcess[] = [];
  const roles = new Map<ChildProcess, string>();
  const start = async (role: string, env: Record<string, string>, what: string): Promise<string> => {
    out(`[demo] starting ${what}`);
    const child = nsm(role, { ...identity, ...env });
    children.push(child);
    roles.set(child, what);
    const match = await lineMatching(child, /ready on (\S+?),?(\s|$)/, what);
    out(`[demo] ${what} ready on ${match[1] ?? ''}`);
    return match[1] ?? '';
  };
  try {
    await writeDevTrustDomain(caDir, await createDevTrustDomain(DEMO_TRUST_DOMAIN));
    out(`[demo] trust domain ${DEMO_TRUST_DOMAIN}: a development CA in ${caDir}; every role mints its SVID from it (mTLS, signed tokens, authorize)`);
    const registry = await start('registry', { NSM_LISTEN_ON: 'tcp://127.0.0.1:0' }, 'registry');
    const manager = await start('nsmgr', { NSM_NAME: 'nsmgr', NSM_LISTEN_ON: 'tcp://127.0.0.1:0', NSM_REGISTRY_URL: registry }, 'manager');
    await start('forwarder', { NSM_NAME: 'forwarder', NSM_LISTEN_ON: `unix://${join(dir, 'forwarder.sock')}`, NSM_CONNECT_TO: manager }, 'forwarder');
    await start(
      'nse',
      { NSM_NAME: 'icmp-responder', NSM_LISTEN_ON: `unix://${join(dir, 'nse.sock')}`, NSM_CONNECT_TO: manager, NSM_CIDR_PREFIX: '172.16.0.0/24' },
      'icmp-responder',
    );
    out('[demo] client requests kernel://icmp-responder/nsm-1');
    const client = nsm('nsc', { ...identity, NSM_NAME: 'nsc', NSM_CONNECT_TO: manager, NSM_NETWORK_SERVICES: 'kernel://icmp-responder/nsm-1?app=demo' });
    children.push(client);
    roles.set(client, 'client');
    const line = await lineMatching(client, /^\{.*\}$/, 'client');
    const conn = JSON.parse(line[0]) as PrintedConnection;
    const ip = conn.context?.ipContext;
    out('[demo] connection established:');
    out(`  path:      ${(conn.path?.pathSegments ?? []).map((s) => s.name ?? '').join(' -> ')}`);
    for (const segment of conn.path?.pathSegments ?? []) out(`    ${(segment.name ?? '').padEnd(16)} signed by ${tokenSubject(segment.token ?? '') || 'nobody'}`);
    out(`  service:   ${conn.networkService ?? ''} on endpoint ${conn.networkServiceEndpointName ?? ''}`);
    out(`  mechanism: ${conn.mechanism?.cls ?? ''}/${conn.mechanism?.type ?? ''}, interface ${conn.mechanism?.parameters?.['name'] ?? ''}`);
    out(`  addresses: client ${(ip?.srcIpAddrs ?? []).join(', ')}, endpoint ${(ip?.dstIpAddrs ?? []).join(', ')}`);
    if (settings.flag('stay')) {
      out('[demo] the domain stays up; Ctrl-C stops it');
      await new Promise<void>((resolve) => {
        signals.once('SIGINT', resolve);
        signals.once('SIGTERM', resolve);
      });
    }
    // Stop in reverse order, each cleanly: the client closes its connection, the endpoint and forwarder
    // unregister, the manager and registry stop.
    for (const child of [...children].reverse()) {
      child.kill('SIGTERM');
      const code = await exited(child);
      if (code !== 0) throw new Error(`${roles.get(child) ?? 'a process'} ended with ${String(code)} on SIGTERM`);
    }
    out('[demo] connection closed, every process stopped; done');
    return 0;
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
