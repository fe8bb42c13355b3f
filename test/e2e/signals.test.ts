/**
 * SIGTERM in every phase of a role's life, and start order: a role started before its manager (or
 * registry) keeps trying, logging each attempt, and stops at once on SIGTERM (exit 0, nothing left
 * behind), or exits 1 with one line saying what it was doing once its start timeout passes. The goal is
 * one second; the tests allow three so a loaded machine does not make them flaky, and print what they measured.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistryClient } from '../../src/registry/chains/client/client.js';
import { e2eSecurity, exited, killAll, nsm, signalAndTime, startRole, waitForLine, waitForStderr, type Proc } from './nsm.js';

const BOUND_MS = 3000;

/** SIGTERMs `proc`, expects exit 0 within the bound, and prints the time. */
async function stopsQuickly(proc: Proc, what: string): Promise<void> {
  const [code, ms] = await signalAndTime(proc);
  console.log(`      SIGTERM ${what}: exit ${String(code)} after ${ms} ms`);
  expect(code, proc.stderr).to.equal(0);
  expect(ms, `${what} took ${ms} ms to stop`).to.be.below(BOUND_MS);
}

describe('nsm roles: SIGTERM in every phase, and start order (e2e)', function () {
  this.timeout(120_000);
  const procs: Proc[] = [];
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nsm-signals-'));
  });
  after(() => {
    killAll(procs);
    rmSync(dir, { recursive: true, force: true });
  });
  const track = (proc: Proc): Proc => {
    procs.push(proc);
    return proc;
  };
  // A manager socket nobody serves: the roles below start "before their manager".
  const nowhere = (): string => `unix://${dir}/no-manager.sock`;
  const attempt = /WARN .* failed \(attempt 2\): .+; retrying/;

  it('nse started before its manager: logs each attempt, stops at once on SIGTERM, leaves no socket', async () => {
    const nse = track(nsm('nse', { NSM_NAME: 'early-nse', NSM_CONNECT_TO: nowhere(), NSM_LISTEN_ON: `unix://${dir}/early-nse.sock` }));
    const line = await waitForStderr(nse, attempt);
    expect(line[0]).to.match(/register early-nse at unix:\/\/.*no-manager\.sock failed/);
    expect(line[0], 'the reason of the failure').to.match(/refused|not serving|ENOENT|no such file/i);
    await stopsQuickly(nse, 'nse while waiting for its manager');
    expect(existsSync(join(dir, 'early-nse.sock'))).to.equal(false);
  });

  it('nse, forwarder and nsc started before their manager give up after NSM_START_TIMEOUT with one line, exit 1', async () => {
    const roles = [
      track(nsm('nse', { NSM_NAME: 'late-nse', NSM_CONNECT_TO: nowhere(), NSM_LISTEN_ON: `unix://${dir}/late-nse.sock`, NSM_START_TIMEOUT: '2s' })),
      track(nsm('forwarder', { NSM_NAME: 'late-fwd', NSM_CONNECT_TO: nowhere(), NSM_LISTEN_ON: `unix://${dir}/late-fwd.sock`, NSM_START_TIMEOUT: '2s' })),
      track(nsm('nsc', { NSM_CONNECT_TO: nowhere(), NSM_NETWORK_SERVICES: 'kernel://icmp-responder', NSM_START_TIMEOUT: '2s' })),
    ];
    const codes = await Promise.all(roles.map(exited));
    expect(codes).to.deep.equal([1, 1, 1]);
    const last = roles.map((p) => p.stderr.trim().split('\n').at(-1) ?? '');
    expect(last[0]).to.match(/^nsm nse: could not register late-nse at unix:\/\/\S+no-manager\.sock: manager not reachable after 2s \(last error: .+\)$/);
    expect(last[1]).to.match(/^nsm forwarder: could not register late-fwd at unix:\/\/\S+no-manager\.sock: manager not reachable after 2s \(last error: .+\)$/);
    expect(last[2]).to.match(/^nsm nsc: could not request icmp-responder at unix:\/\/\S+no-manager\.sock: manager not reachable after 2s \(last error: .+\)$/);
    expect(readdirSync(dir).filter((f) => f.startsWith('late-')), 'socket files left').to.deep.equal([]);
  });

  it('forwarder and nsc started before their manager stop at once on SIGTERM', async () => {
    const forwarder = track(nsm('forwarder', { NSM_NAME: 'early-fwd', NSM_CONNECT_TO: nowhere(), NSM_LISTEN_ON: `unix://${dir}/early-fwd.sock` }));
    const nsc = track(nsm('nsc', { NSM_CONNECT_TO: nowhere(), NSM_NETWORK_SERVICES: 'kernel://icmp-responder' }));
    await Promise.all([waitForStderr(forwarder, attempt), waitForStderr(nsc, attempt)]);
    expect(nsc.stderr).to.match(/request icmp-responder at \S+ failed \(attempt 1\)/);
    await Promise.all([stopsQuickly(forwarder, 'forwarder while waiting for its manager'), stopsQuickly(nsc, 'nsc while waiting for its manager')]);
    expect(existsSync(join(dir, 'early-fwd.sock'))).to.equal(false);
  });

  it('nsmgr started before its registry serves, logs the attempts, stops at once on SIGTERM, and gives up after NSM_START_TIMEOUT', async () => {
    const registryURL = 'tcp://127.0.0.1:1';
    const [manager] = await startRole(procs, 'nsmgr', { NSM_LISTEN_ON: `unix://${dir}/early-mgr.sock`, NSM_REGISTRY_URL: registryURL, NSM_EXCLUDED_PREFIXES_FILE: join(dir, 'none.yaml') });
    await waitForStderr(manager, /reach the registry at tcp:\/\/127\.0\.0\.1:1 failed \(attempt 2\)/);
    await stopsQuickly(manager, 'nsmgr while waiting for its registry');
    expect(existsSync(join(dir, 'early-mgr.sock'))).to.equal(false);

    const [giving] = await startRole(procs, 'nsmgr', {
      NSM_LISTEN_ON: `unix://${dir}/late-mgr.sock`,
      NSM_REGISTRY_URL: registryURL,
      NSM_START_TIMEOUT: '2s',
      NSM_EXCLUDED_PREFIXES_FILE: join(dir, 'none.yaml'),
    });
    expect(await exited(giving)).to.equal(1);
    expect(giving.stderr.trim().split('\n').at(-1)).to.match(/^nsm nsmgr: could not reach the registry at tcp:\/\/127\.0\.0\.1:1: registry not reachable after 2s/);
    expect(existsSync(join(dir, 'late-mgr.sock'))).to.equal(false);
  });

  it('nse registering through a manager whose registry is down stops at once on SIGTERM', async () => {
    const [manager, managerURL] = await startRole(procs, 'nsmgr', {
      NSM_LISTEN_ON: `unix://${dir}/mgr-noreg.sock`,
      NSM_REGISTRY_URL: 'tcp://127.0.0.1:1',
      NSM_EXCLUDED_PREFIXES_FILE: join(dir, 'none.yaml'),
    });
    const nse = track(nsm('nse', { NSM_NAME: 'registering', NSM_CONNECT_TO: managerURL, NSM_LISTEN_ON: `unix://${dir}/registering.sock` }));
    const line = await waitForStderr(nse, /register registering at \S+ failed \(attempt 1\): .+/);
    console.log(`      the manager's answer while its registry is down: ${line[0].replace(/^.*failed \(attempt 1\): /, '')}`);
    await stopsQuickly(nse, 'nse while registering');
    expect(existsSync(join(dir, 'registering.sock'))).to.equal(false);
    await stopsQuickly(manager, 'nsmgr');
  });

  describe('with a domain', () => {
    let registryURL = '';
    let managerURL = '';
    let forwarder: Proc | undefined;
    before(async () => {
      [, registryURL] = await startRole(procs, 'registry', { NSM_LISTEN_ON: 'tcp://127.0.0.1:0' });
      [, managerURL] = await startRole(procs, 'nsmgr', { NSM_LISTEN_ON: 'tcp://127.0.0.1:0', NSM_REGISTRY_URL: registryURL, NSM_EXCLUDED_PREFIXES_FILE: join(dir, 'none.yaml') });
      [forwarder] = await startRole(procs, 'forwarder', { NSM_NAME: 'fwd', NSM_LISTEN_ON: `unix://${dir}/fwd.sock`, NSM_CONNECT_TO: managerURL });
    });

    it('nsc asking for a service that does not exist prints why each attempt failed, and stops at once on SIGTERM', async () => {
      const started = Date.now();
      const nsc = track(nsm('nsc', { NSM_CONNECT_TO: managerURL, NSM_NETWORK_SERVICES: 'kernel://no-such-service', NSM_REQUEST_TIMEOUT: '1s' }));
      const line = await waitForStderr(nsc, /WARN request no-such-service at \S+ failed \(attempt 2\): (.+); retrying/);
      // Two attempts of NSM_REQUEST_TIMEOUT=1s a second apart, plus the start: far less than one of the default 15s.
      expect(Date.now() - started, 'NSM_REQUEST_TIMEOUT bounds each attempt').to.be.below(12_000);
      console.log(`      the reason the client prints: ${line[1] ?? ''}`);
      expect(nsc.stderr.match(/failed \(attempt \d+\)/g)?.length, 'one line per failed attempt').to.be.at.least(2);
      await stopsQuickly(nsc, 'nsc while retrying');
    });

    it('nsc healing after its endpoint was killed stops at once on SIGTERM; the rest stops cleanly and unregisters', async () => {
      const [nse] = await startRole(procs, 'nse', { NSM_NAME: 'doomed', NSM_LISTEN_ON: `unix://${dir}/doomed.sock`, NSM_CONNECT_TO: managerURL, NSM_CIDR_PREFIX: '172.16.40.0/24' });
      const nsc = track(nsm('nsc', { NSM_CONNECT_TO: managerURL, NSM_NETWORK_SERVICES: 'kernel://icmp-responder/nsm-1' }));
      await waitForLine(nsc, /^\{.*"networkServiceEndpointName":"doomed"/);
      const printed = nsc.lines.length;
      nse.child.kill('SIGKILL');
      await exited(nse);
      await waitForLine(nsc, /"state":"DOWN"/, 30_000, printed);
      await stopsQuickly(nsc, 'nsc while healing');
      if (forwarder === undefined) throw new Error('no forwarder');
      await stopsQuickly(forwarder, 'forwarder');
      const identity = await e2eSecurity('admin', 'signals-test');
      const admin = createRegistryClient({ connectTo: registryURL, chain: { security: identity.security } });
      try {
        const names = (await admin.findEndpoints({})).map((e) => e.name);
        expect(names, 'the stopped forwarder unregistered').to.not.include('fwd');
      } finally {
        admin.abandon();
        identity.close();
      }
      expect(existsSync(join(dir, 'fwd.sock'))).to.equal(false);
    });
  });
});
