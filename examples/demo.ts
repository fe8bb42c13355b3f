/**
 * The demo (`npm run demo`): starts the icmp-responder endpoint and a client as two real processes talking
 * gRPC over a unix socket, prints the connection the client got, and stops everything.
 * Later versions grow this into a whole domain (registry, manager, forwarder).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const tsx = join(here, '..', 'node_modules', '.bin', 'tsx');

function start(script: string, env: Record<string, string>): ChildProcess {
  return spawn(tsx, [join(here, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
}

function firstLine(child: ChildProcess, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout ?? process.stdin });
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms`)), timeoutMs);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with code ${String(code)}`));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

interface PrintedConnection {
  id?: string;
  networkService?: string;
  mechanism?: { cls?: string; type?: string; parameters?: Record<string, string> };
  context?: { ipContext?: { srcIpAddrs?: string[]; dstIpAddrs?: string[] } };
  path?: { pathSegments?: { name?: string; expires?: string }[] };
  networkServiceEndpointName?: string;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nsm-demo-'));
  const socket = `unix://${join(dir, 'icmp-responder.sock')}`;
  const children: ChildProcess[] = [];
  try {
    console.log(`[demo] starting icmp-responder on ${socket}`);
    const endpoint = start('icmp-responder.ts', { NSM_LISTEN_ON: socket, NSM_CIDR_PREFIX: '172.16.0.0/24', NSM_LOG_LEVEL: 'warn' });
    children.push(endpoint);
    console.log(`[demo] ${await firstLine(endpoint, 'icmp-responder', 30000)}`);

    console.log('[demo] client requests kernel://icmp-responder/nsm-1');
    const client = start('client.ts', {
      NSM_CONNECT_TO: socket,
      NSM_NETWORK_SERVICES: 'kernel://icmp-responder/nsm-1?app=demo',
      NSM_LOG_LEVEL: 'warn',
    });
    children.push(client);
    const conn = JSON.parse(await firstLine(client, 'client', 30000)) as PrintedConnection;
    const ip = conn.context?.ipContext;
    console.log('[demo] connection established:');
    console.log(`  id:        ${conn.id ?? ''}`);
    console.log(`  service:   ${conn.networkService ?? ''} via endpoint ${conn.networkServiceEndpointName ?? ''}`);
    console.log(`  path:      ${(conn.path?.pathSegments ?? []).map((s) => s.name).join(' -> ')}`);
    console.log(`  mechanism: ${conn.mechanism?.cls ?? ''}/${conn.mechanism?.type ?? ''} interface ${conn.mechanism?.parameters?.['name'] ?? ''}`);
    console.log(`  addresses: client ${(ip?.srcIpAddrs ?? []).join(', ')}  endpoint ${(ip?.dstIpAddrs ?? []).join(', ')}`);
    const clientCode = await exited(client);
    if (clientCode !== 0) throw new Error(`client exited with code ${String(clientCode)}`);
    console.log('[demo] client closed its connection');

    endpoint.kill('SIGTERM');
    const endpointCode = await exited(endpoint);
    if (endpointCode !== 0) throw new Error(`icmp-responder exited with code ${String(endpointCode)}`);
    console.log('[demo] icmp-responder stopped; done');
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`[demo] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
