/**
 * A real etcd for tests: started on free loopback ports with a temporary data directory, stopped and
 * removed afterwards. Where the `etcd` binary is missing the suites that need it are skipped with a loud
 * message, unless NSM_REQUIRE_ETCD=1 (as in CI), which makes that an error.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';

/** A running etcd. */
export interface EtcdInstance {
  /** The client URL, `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** Stops it (SIGTERM, then SIGKILL) and removes its data. */
  stop(): Promise<void>;
}

const INSTALL = 'apt-get install -y etcd-server';
let warned = false;

function etcdAvailable(): boolean {
  return spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/** Starts an etcd, or returns undefined (after one loud warning) when the binary is missing. */
export async function startEtcd(): Promise<EtcdInstance | undefined> {
  if (!etcdAvailable()) {
    if (process.env.NSM_REQUIRE_ETCD === '1') throw new Error(`NSM_REQUIRE_ETCD=1 but etcd is not installed: ${INSTALL}`);
    if (!warned) {
      warned = true;
      console.warn(`\n  !!! etcd is not installed: the etcd store tests are SKIPPED. Install it with: ${INSTALL}\n`);
    }
    return undefined;
  }
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'nsm-etcd-'));
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    'etcd',
    [
      '--name', 'nsm-test',
      '--data-dir', dataDir,
      '--listen-client-urls', endpoint,
      '--advertise-client-urls', endpoint,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `nsm-test=${peer}`,
      '--log-level', 'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited(child);
      clearTimeout(killer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const probe = new Etcd3({ hosts: endpoint, dialTimeout: 500 });
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${stderr}`);
      try {
        await probe.get('nsm-probe').string();
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`etcd did not answer on ${endpoint}: ${String(error)} ${stderr}`, { cause: error });
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    probe.close();
  }
  return { endpoint, stop };
}
