/**
 * A role's identity as a process takes it: none is a configuration error (exit 2, one line naming the
 * variables), insecure is said at start, `nsm trust-domain issue` files are accepted with NSM_SVID_DIR,
 * and roles with identities from different sources of one trust domain work together.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { e2eTrustDomainDir, exited, killAll, nsm, READY, signalAndTime, startRole, waitForLine, waitForStderr, type Proc } from './nsm.js';

describe('role identity (e2e)', function () {
  this.timeout(60_000);
  const procs: Proc[] = [];
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nsm-identity-'));
  });
  afterEach(() => {
    killAll(procs);
    procs.length = 0;
    rmSync(dir, { recursive: true, force: true });
  });

  it('no identity: exit 2 with one line naming SPIFFE_ENDPOINT_SOCKET, NSM_TRUST_DOMAIN_DIR and NSM_INSECURE', async () => {
    const proc = nsm('registry', { NSM_TRUST_DOMAIN_DIR: '', NSM_LISTEN_ON: 'tcp://127.0.0.1:0' });
    procs.push(proc);
    expect(await exited(proc)).to.equal(2);
    const lines = proc.stderr.trim().split('\n');
    expect(lines, proc.stderr).to.have.length(1);
    for (const name of ['SPIFFE_ENDPOINT_SOCKET', 'NSM_TRUST_DOMAIN_DIR', 'NSM_INSECURE']) expect(lines[0]).to.contain(name);
    expect(proc.lines.some((line) => READY.test(line)), 'it never served').to.equal(false);
  });

  it('a CA directory that is not one: exit 2 naming the variable', async () => {
    const proc = nsm('registry', { NSM_TRUST_DOMAIN_DIR: join(dir, 'missing'), NSM_LISTEN_ON: 'tcp://127.0.0.1:0' });
    procs.push(proc);
    expect(await exited(proc)).to.equal(2);
    expect(proc.stderr.trim().split('\n')).to.have.length(1);
    expect(proc.stderr).to.match(/NSM_TRUST_DOMAIN_DIR=.*missing/);
  });

  it('NSM_INSECURE=true runs plaintext and says so at start', async () => {
    const proc = nsm('registry', { NSM_INSECURE: 'true', NSM_LISTEN_ON: 'tcp://127.0.0.1:0' });
    procs.push(proc);
    await waitForLine(proc, READY);
    expect(proc.stderr).to.match(/running INSECURE \(NSM_INSECURE\)/);
    const [code] = await signalAndTime(proc);
    expect(code).to.equal(0);
  });

  it('nsm trust-domain issue files, taken with NSM_SVID_DIR, work beside roles minting from the CA', async () => {
    const ca = e2eTrustDomainDir();
    const svidDir = join(dir, 'registry-svid');
    const issue = nsm(['trust-domain', 'issue', ca, '--spiffe-id', 'spiffe://e2e.nsm/registry/from-files', '--out', svidDir], {});
    expect(await exited(issue), issue.stderr).to.equal(0);
    const [registry, registryURL] = await startRole(procs, 'registry', { NSM_SVID_DIR: svidDir, NSM_LISTEN_ON: 'tcp://127.0.0.1:0', NSM_LOG_LEVEL: 'info' });
    await waitForStderr(registry, /identity spiffe:\/\/e2e\.nsm\/registry\/from-files \(from NSM_SVID_DIR\)/);
    const [, managerURL] = await startRole(procs, 'nsmgr', { NSM_NAME: 'nsmgr-id', NSM_LISTEN_ON: 'tcp://127.0.0.1:0', NSM_REGISTRY_URL: registryURL });
    await startRole(procs, 'forwarder', { NSM_NAME: 'fwd-id', NSM_LISTEN_ON: `unix://${join(dir, 'fwd.sock')}`, NSM_CONNECT_TO: managerURL });
    await startRole(procs, 'nse', { NSM_NAME: 'nse-id', NSM_LISTEN_ON: `unix://${join(dir, 'nse.sock')}`, NSM_CONNECT_TO: managerURL, NSM_SERVICE_NAMES: 'svc-id' });
    const client = nsm('nsc', { NSM_NAME: 'nsc-id', NSM_CONNECT_TO: managerURL, NSM_NETWORK_SERVICES: 'kernel://svc-id/nsm-1' });
    procs.push(client);
    const line = await waitForLine(client, /^\{.*\}$/);
    const conn = JSON.parse(line[0]) as { path?: { pathSegments?: { name?: string }[] }; networkServiceEndpointName?: string };
    expect(conn.networkServiceEndpointName).to.equal('nse-id');
    expect(conn.path?.pathSegments?.map((s) => s.name)).to.deep.equal(['nsc-id', 'nsmgr-id', 'fwd-id', 'nse-id']);
    // An insecure client is refused by the secured manager: it never gets a connection.
    const plain = nsm('nsc', { NSM_NAME: 'plain', NSM_INSECURE: 'true', NSM_CONNECT_TO: managerURL, NSM_NETWORK_SERVICES: 'kernel://svc-id/nsm-1', NSM_START_TIMEOUT: '2s' });
    procs.push(plain);
    expect(await exited(plain)).to.equal(1);
    expect(plain.lines.filter((l) => l.startsWith('{')), 'no connection').to.deep.equal([]);
    for (const proc of [...procs].reverse()) {
      if (proc.child.exitCode !== null) continue;
      const [code] = await signalAndTime(proc);
      expect(code, proc.stderr).to.equal(0);
    }
  });
});
