/**
 * The `nsm` sub-commands as separate processes, configured by environment variables only: the demo's
 * domain started by hand, a client that heals to a second endpoint process when the first is killed, and
 * SIGTERM leaving no process, socket file or registration behind. Bad configuration exits non-zero with a
 * one-line reason.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { e2eSecurity, roleEnvironment } from './nsm.js';
import { createRegistryClient } from '../../src/registry/chains/client/client.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = join(root, 'src', 'cli', 'main.ts');
// One process per role (the tsx CLI would put a wrapper process in front, and a SIGKILL would miss the role).
const node = (args: readonly string[]): [string, string[]] => [process.execPath, ['--import', 'tsx', main, ...args]];

interface Proc {
  readonly child: ChildProcess;
  readonly lines: string[];
  stderr: string;
}

function nsm(role: string, env: Record<string, string>): Proc {
  const child = spawn(...node([role]), { cwd: root, env: { ...roleEnvironment(role, env), NSM_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = { child, lines: [], stderr: '' };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => proc.lines.push(line));
  child.stderr?.on('data', (d: Buffer) => (proc.stderr += d.toString()));
  return proc;
}

async function waitForLine(proc: Proc, pattern: RegExp, timeoutMs = 30_000, from = 0): Promise<RegExpExecArray> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const line of proc.lines.slice(from)) {
      const match = pattern.exec(line);
      if (match !== null) return match;
    }
    if (proc.child.exitCode !== null) throw new Error(`process exited (${proc.child.exitCode}): ${proc.stderr}`);
    if (Date.now() > end) throw new Error(`no line matching ${String(pattern)} in ${timeoutMs} ms:\n${proc.lines.join('\n')}\n${proc.stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(proc: Proc): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) resolve(proc.child.exitCode);
    else proc.child.once('exit', (code) => resolve(code));
  });
}

interface Printed {
  readonly state?: string;
  readonly networkServiceEndpointName?: string;
  readonly mechanism?: { readonly type?: string; readonly parameters?: Record<string, string> };
  readonly context?: { readonly ipContext?: { readonly srcIpAddrs?: string[]; readonly dstIpAddrs?: string[] } };
  readonly path?: { readonly pathSegments?: { readonly name?: string }[] };
}

describe('nsm sub-commands as processes (e2e)', function () {
  this.timeout(120_000);
  const procs: Proc[] = [];
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nsm-e2e-'));
  });
  after(() => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the demo domain by hand; the client heals to a second endpoint; SIGTERM leaves nothing behind', async () => {
    const start = async (role: string, env: Record<string, string>): Promise<[Proc, string]> => {
      const proc = nsm(role, env);
      procs.push(proc);
      const match = await waitForLine(proc, /ready on (\S+?),?(\s|$)/);
      return [proc, match[1] ?? ''];
    };
    const [registry, registryURL] = await start('registry', { NSM_LISTEN_ON: 'tcp://127.0.0.1:0' });
    const [nsmgr, managerURL] = await start('nsmgr', { NSM_LISTEN_ON: 'tcp://127.0.0.1:0', NSM_REGISTRY_URL: registryURL });
    const [forwarder] = await start('forwarder', { NSM_NAME: 'forwarder', NSM_LISTEN_ON: `unix://${dir}/forwarder.sock`, NSM_CONNECT_TO: managerURL });
    const [first] = await start('nse', {
      NSM_NAME: 'nse-1',
      NSM_LISTEN_ON: `unix://${dir}/nse-1.sock`,
      NSM_CONNECT_TO: managerURL,
      NSM_CIDR_PREFIX: '172.16.1.0/24',
      NSM_SERVICE_NAMES: 'icmp-responder',
    });
    const nsc = nsm('nsc', { NSM_NAME: 'nsc', NSM_CONNECT_TO: managerURL, NSM_NETWORK_SERVICES: 'kernel://icmp-responder/nsm-1?app=e2e' });
    procs.push(nsc);
    const conn = JSON.parse((await waitForLine(nsc, /^\{.*\}$/))[0]) as Printed;
    expect(conn.path?.pathSegments?.map((s) => s.name)).to.deep.equal(['nsc', 'nsmgr', 'forwarder', 'nse-1']);
    expect(conn.mechanism?.type).to.equal('KERNEL');
    expect(conn.mechanism?.parameters?.['name']).to.equal('nsm-1');
    expect(conn.context?.ipContext?.srcIpAddrs?.[0]).to.match(/^172\.16\.1\.\d+\/32$/);
    expect(conn.context?.ipContext?.dstIpAddrs?.[0]).to.match(/^172\.16\.1\.\d+\/32$/);

    const [second] = await start('nse', {
      NSM_NAME: 'nse-2',
      NSM_LISTEN_ON: `unix://${dir}/nse-2.sock`,
      NSM_CONNECT_TO: managerURL,
      NSM_CIDR_PREFIX: '172.16.2.0/24',
    });
    const printed = nsc.lines.length;
    first.child.kill('SIGKILL');
    const healed = JSON.parse((await waitForLine(nsc, /^\{.*"networkServiceEndpointName":"nse-2".*\}$/, 30_000, printed))[0]) as Printed;
    expect(healed.state ?? 'UP').to.equal('UP');
    expect(healed.path?.pathSegments?.map((s) => s.name)).to.deep.equal(['nsc', 'nsmgr', 'forwarder', 'nse-2']);
    expect(healed.context?.ipContext?.srcIpAddrs?.[0]).to.match(/^172\.16\.2\.\d+\/32$/);

    // SIGTERM: the client closes, the endpoint and the forwarder unregister, the rest stops.
    for (const proc of [nsc, second, forwarder]) {
      proc.child.kill('SIGTERM');
      expect(await exited(proc), proc.stderr).to.equal(0);
    }
    const identity = await e2eSecurity('admin', 'cli-test');
    const admin = createRegistryClient({ connectTo: registryURL, chain: { security: identity.security } });
    try {
      const names = (await admin.findEndpoints({})).map((e) => e.name);
      expect(names, 'stopped roles unregistered (the killed nse-1 stays until it expires)').to.not.include.members(['nse-2', 'forwarder']);
    } finally {
      admin.abandon();
      identity.close();
    }
    for (const proc of [nsmgr, registry]) {
      proc.child.kill('SIGTERM');
      expect(await exited(proc), proc.stderr).to.equal(0);
    }
    expect(procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null)).to.have.length(0);
    expect(existsSync(join(dir, 'nse-2.sock'))).to.equal(false);
    expect(existsSync(join(dir, 'forwarder.sock'))).to.equal(false);
    expect(readdirSync(dir).filter((f) => f !== 'nse-1.sock'), 'socket files left').to.deep.equal([]);
  });

  it('nsm registry --apply loads NetworkService manifests, which endpoints do not overwrite; a bad manifest exits 2 naming the line', async () => {
    const good = join(dir, 'services.yaml');
    writeFileSync(
      good,
      [
        'apiVersion: networkservicemesh.io/v1',
        'kind: NetworkService',
        'metadata:',
        '  name: secure-intranet-connectivity',
        'spec:',
        '  payload: IP',
        '  matches:',
        '    - source_selector: { app: firewall }',
        '      routes:',
        '        - destination_selector: { app: vpn-gateway }',
        '---',
        'apiVersion: networkservicemesh.io/v1',
        'kind: NetworkService',
        'metadata: { name: icmp-responder }',
        '',
      ].join('\n'),
    );
    const registry = nsm('registry', { NSM_LISTEN_ON: 'tcp://127.0.0.1:0', NSM_APPLY: good });
    procs.push(registry);
    await waitForLine(registry, /applied 2 NetworkService/);
    const url = (await waitForLine(registry, /ready on (\S+)/))[1] ?? '';
    // An endpoint offering the service registers it only if it is missing: the matches stay.
    const nsmgr = nsm('nsmgr', { NSM_LISTEN_ON: 'tcp://127.0.0.1:0', NSM_REGISTRY_URL: url });
    procs.push(nsmgr);
    const managerURL = (await waitForLine(nsmgr, /ready on (\S+)/))[1] ?? '';
    const nse = nsm('nse', {
      NSM_NAME: 'gateway',
      NSM_LISTEN_ON: `unix://${dir}/gateway.sock`,
      NSM_CONNECT_TO: managerURL,
      NSM_SERVICE_NAMES: 'secure-intranet-connectivity',
    });
    procs.push(nse);
    await waitForLine(nse, /ready on/);
    const identity = await e2eSecurity('admin', 'cli-test');
    const admin = createRegistryClient({ connectTo: url, chain: { security: identity.security } });
    try {
      const [found] = await admin.findServices({ name: 'secure-intranet-connectivity' });
      expect(found?.matches[0]?.routes[0]?.destinationSelector).to.deep.equal({ app: 'vpn-gateway' });
    } finally {
      admin.abandon();
      identity.close();
    }
    for (const proc of [nse, nsmgr, registry]) {
      proc.child.kill('SIGTERM');
      expect(await exited(proc), proc.stderr).to.equal(0);
    }

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, ['apiVersion: networkservicemesh.io/v1', 'kind: NetworkService', 'metadata: { name: x }', 'spec:', '  paylod: IP', ''].join('\n'));
    const failing = nsm('registry', { NSM_LISTEN_ON: 'tcp://127.0.0.1:0', NSM_APPLY: bad });
    procs.push(failing);
    expect(await exited(failing)).to.equal(2);
    expect(failing.stderr.trim().split('\n'), failing.stderr).to.have.length(1);
    expect(failing.stderr).to.match(/bad\.yaml:5: spec\.paylod: unknown field/);
  });

  it('a SIGTERM sent the moment the ready line is read still stops the role cleanly (exit 0)', async () => {
    for (let i = 0; i < 3; i++) {
      const registry = nsm('registry', { NSM_LISTEN_ON: 'tcp://127.0.0.1:0' });
      procs.push(registry);
      registry.child.stdout?.once('data', () => registry.child.kill('SIGTERM'));
      expect(await exited(registry), registry.stderr).to.equal(0);
    }
  });

  const badConfigs: readonly { what: string; args: string[]; env: Record<string, string>; message: RegExp }[] = [
    {
      what: 'an unknown service URL scheme',
      args: ['nsc'],
      env: { NSM_CONNECT_TO: 'tcp://127.0.0.1:1', NSM_NETWORK_SERVICES: 'foo://icmp-responder' },
      message: /NSM_NETWORK_SERVICES.*unknown mechanism "foo"/,
    },
    { what: 'an unparsable address', args: ['nsmgr'], env: { NSM_REGISTRY_URL: 'tcp://127.0.0.1:1', NSM_LISTEN_ON: 'http//nowhere' }, message: /NSM_LISTEN_ON/ },
    { what: 'a missing registry', args: ['nsmgr'], env: { NSM_LISTEN_ON: 'tcp://127.0.0.1:0' }, message: /NSM_REGISTRY_URL is required/ },
    { what: 'an unknown flag', args: ['nse', '--bogus', 'x'], env: { NSM_CONNECT_TO: 'tcp://127.0.0.1:1' }, message: /bogus/ },
    { what: 'an unknown command', args: ['frobnicate'], env: {}, message: /unknown command "frobnicate"/ },
    {
      what: 'an interface name longer than 15 bytes',
      args: ['nsc'],
      env: { NSM_CONNECT_TO: 'tcp://127.0.0.1:1', NSM_NETWORK_SERVICES: 'kernel://icmp-responder/a-very-long-interface-name' },
      message: /NSM_NETWORK_SERVICES/,
    },
    { what: 'a tunnel address that is not an IP', args: ['forwarder'], env: { NSM_CONNECT_TO: 'tcp://127.0.0.1:1', NSM_TUNNEL_IP: 'node-1' }, message: /NSM_TUNNEL_IP/ },
    {
      what: 'a mechanism the client has no support for',
      args: ['nsc'],
      env: { NSM_NETWORK_SERVICES: 'memif://icmp-responder' },
      message: /^nsm nsc: --network-services \/ NSM_NETWORK_SERVICES: memif:\/\/icmp-responder asks for MEMIF/,
    },
    { what: 'a duration without a unit', args: ['nsc'], env: { NSM_NETWORK_SERVICES: 'kernel://a', NSM_REQUEST_TIMEOUT: '15' }, message: /NSM_REQUEST_TIMEOUT: "15" is not a duration/ },
    { what: 'an upstream feature nsm lacks', args: ['nse'], env: { NSM_PPROF_ENABLED: 'true' }, message: /^nsm nse: NSM_PPROF_ENABLED=true: pprof/ },
    { what: "another command's flag", args: ['nsmgr', '--connect-to', 'tcp://127.0.0.1:1'], env: {}, message: /--connect-to is not a setting of nsm nsmgr/ },
    { what: 'a list where one address is read', args: ['forwarder'], env: { NSM_LISTEN_ON: 'unix:///tmp/a.sock,unix:///tmp/b.sock' }, message: /nsm forwarder takes one address/ },
    { what: 'an unknown log level', args: ['registry'], env: { NSM_LOG_LEVEL: 'loud' }, message: /NSM_LOG_LEVEL: unknown log level "loud"/ },
  ];
  it('nsm --version prints the version, nsm <role> --help the flags that role reads', async () => {
    const output = async (args: string[]): Promise<[number | null, string]> => {
      const child = spawn(...node(args), { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      return [await new Promise<number | null>((resolve) => child.once('exit', resolve)), stdout];
    };
    const [[versionCode, version], [helpCode, help]] = await Promise.all([output(['--version']), output(['forwarder', '--help'])]);
    expect(versionCode).to.equal(0);
    expect(version.trim()).to.match(/^\d+\.\d+\.\d+/);
    expect(helpCode).to.equal(0);
    expect(help).to.match(/--tunnel-ip\s+NSM_TUNNEL_IP\s+.*\[default: 127\.0\.0\.1\]/);
    expect(help).to.not.include('NSM_NETWORK_SERVICES');
  });

  for (const bad of badConfigs) {
    it(`bad configuration (${bad.what}) exits non-zero with a one-line reason`, async () => {
      const env: Record<string, string> = { ...roleEnvironment(bad.args[0] ?? '', bad.env), NSM_REGISTRY_URL: '', NSM_LISTEN_ON: '', ...bad.env };
      const child = spawn(...node(bad.args), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, stderr).to.equal(2);
      expect(stderr.trim().split('\n'), stderr).to.have.length(1);
      expect(stderr).to.match(bad.message);
    });
  }
});
