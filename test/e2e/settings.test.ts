/**
 * Upstream's settings whose effect shows only in running roles, with real processes: a list of listen
 * addresses served on each, the client's NSM_LABELS reaching the manager's matching and the endpoint,
 * token lifetimes in the path segments' expiry, DNS configs, the excluded-prefixes file picked up by a
 * running manager, and the endpoint's payload, service registration, unregistration and idle timeout.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegistryClient } from '../../src/registry/chains/client/client.js';
import { e2eSecurity, exited, killAll, nsm, signalAndTime, startRole, waitForLine, waitForStderr, type Proc } from './nsm.js';

interface Printed {
  readonly networkServiceEndpointName?: string;
  readonly labels?: Record<string, string>;
  readonly payload?: string;
  readonly context?: {
    readonly ipContext?: { readonly srcIpAddrs?: string[]; readonly dstIpAddrs?: string[] };
    readonly dnsContext?: { readonly configs?: { readonly dnsServerIps?: string[]; readonly searchDomains?: string[] }[] };
  };
  readonly path?: { readonly pathSegments?: { readonly name?: string; readonly expires?: string }[] };
}

/** The last octet of an `a.b.c.d/32` address. */
const lastOctet = (cidr: string | undefined): number => Number(/\.(\d+)\/32$/.exec(cidr ?? '')?.[1] ?? NaN);

describe('nsm roles: upstream settings in running processes (e2e)', function () {
  this.timeout(180_000);
  const procs: Proc[] = [];
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nsm-settings-'));
  });
  after(() => {
    killAll(procs);
    rmSync(dir, { recursive: true, force: true });
  });
  const admin = async <T>(url: string, call: (client: ReturnType<typeof createRegistryClient>) => Promise<T>): Promise<T> => {
    const identity = await e2eSecurity('admin', 'settings-test');
    const client = createRegistryClient({ connectTo: url, chain: { security: identity.security } });
    try {
      return await call(client);
    } finally {
      client.abandon();
      identity.close();
    }
  };

  it('NSM_LISTEN_ON lists: registry and nsmgr serve on every address, publish the tcp one, log their configuration once', async () => {
    const [registry, registryURL] = await startRole(procs, 'registry', { NSM_LISTEN_ON: `tcp://127.0.0.1:0,unix://${dir}/registry.sock` });
    expect(registry.lines[0]).to.match(new RegExp(`ready on tcp://127\\.0\\.0\\.1:\\d+, also on unix://${dir}/registry\\.sock$`));
    const [nsmgr, managerURL] = await startRole(procs, 'nsmgr', {
      NSM_LOG_LEVEL: 'INFO',
      NSM_LISTEN_ON: `unix://${dir}/nsm.io.sock,tcp://127.0.0.1:0`,
      NSM_REGISTRY_URL: `unix://${dir}/registry.sock`,
      NSM_EXCLUDED_PREFIXES_FILE: join(dir, 'none.yaml'),
    });
    expect(managerURL, "upstream publishes the list's tcp address").to.match(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(nsmgr.lines[0]).to.include(`also on unix://${dir}/nsm.io.sock`);
    const config = nsmgr.stderr.split('\n').filter((l) => / INFO nsm nsmgr: configuration /.test(l));
    expect(config, nsmgr.stderr).to.have.length(1);
    expect(config[0]).to.include(`"NSM_LISTEN_ON":"unix://${dir}/nsm.io.sock,tcp://127.0.0.1:0"`);
    expect(config[0]).to.include('"NSM_DIAL_TIMEOUT":"750ms"');
    // Both of each answer: an endpoint registers through the manager's unix socket, and is found through
    // its tcp address and through both of the registry's.
    const [nse] = await startRole(procs, 'nse', { NSM_NAME: 'listed', NSM_LISTEN_ON: `unix://${dir}/listed.sock`, NSM_CONNECT_TO: `unix://${dir}/nsm.io.sock` });
    for (const url of [managerURL, registryURL, `unix://${dir}/registry.sock`]) {
      const names = await admin(url, (c) => c.findEndpoints({ name: 'listed' }));
      expect(names.map((e) => e.name), url).to.deep.equal(['listed']);
    }
    for (const proc of [nse, nsmgr, registry]) expect((await signalAndTime(proc))[0], proc.stderr).to.equal(0);
    for (const file of ['registry.sock', 'nsm.io.sock', 'listed.sock']) expect(existsSync(join(dir, file)), file).to.equal(false);
  });

  describe('in a domain', () => {
    let registryURL = '';
    let managerURL = '';
    let nsmgr: Proc | undefined;
    const prefixes = (): string => join(dir, 'config', 'excluded_prefixes.yaml');
    before(async () => {
      const services = join(dir, 'services.yaml');
      writeFileSync(
        services,
        [
          'apiVersion: networkservicemesh.io/v1',
          'kind: NetworkService',
          'metadata: { name: colors }',
          'spec:',
          '  matches:',
          '    - source_selector: { team: blue }',
          '      routes: [{ destination_selector: { color: blue } }]',
          '    - routes: [{ destination_selector: { color: red } }]',
          '',
        ].join('\n'),
      );
      mkdirSync(join(dir, 'config'));
      writeFileSync(prefixes(), 'prefixes:\n  - 172.16.10.0/25\n');
      [, registryURL] = await startRole(procs, 'registry', { NSM_LISTEN_ON: 'tcp://127.0.0.1:0', NSM_APPLY: services });
      [nsmgr, managerURL] = await startRole(procs, 'nsmgr', {
        NSM_LOG_LEVEL: 'info',
        NSM_LISTEN_ON: 'tcp://127.0.0.1:0',
        NSM_REGISTRY_URL: registryURL,
        NSM_EXCLUDED_PREFIXES_FILE: prefixes(),
        NSM_MAX_TOKEN_LIFETIME: '2m',
      });
      await startRole(procs, 'forwarder', { NSM_NAME: 'fwd', NSM_LISTEN_ON: `unix://${dir}/fwd.sock`, NSM_CONNECT_TO: managerURL });
      await startRole(procs, 'nse', {
        NSM_NAME: 'nse-blue',
        NSM_LISTEN_ON: `unix://${dir}/nse-blue.sock`,
        NSM_CONNECT_TO: managerURL,
        NSM_SERVICE_NAMES: 'colors',
        NSM_LABELS: 'color=blue',
        NSM_CIDR_PREFIX: '172.16.10.0/24',
        NSM_DNS_CONFIGS: '[{"dns_server_ips":["10.0.0.10"],"search_domains":["blue.local"]}]',
      });
      await startRole(procs, 'nse', {
        NSM_NAME: 'nse-red',
        NSM_LISTEN_ON: `unix://${dir}/nse-red.sock`,
        NSM_CONNECT_TO: managerURL,
        NSM_SERVICE_NAMES: 'colors',
        NSM_LABELS: 'color:red',
        NSM_CIDR_PREFIX: '172.16.20.0/24',
      });
    });
    const request = async (env: Record<string, string>): Promise<Printed> => {
      const nsc = nsm('nsc', { NSM_CONNECT_TO: managerURL, NSM_NETWORK_SERVICES: 'kernel://colors/nsm-1', ...env });
      procs.push(nsc);
      return JSON.parse((await waitForLine(nsc, /^\{.*\}$/))[0]) as Printed;
    };

    it("NSM_LABELS on nsc reach the manager's matching and the endpoint; NSM_MAX_TOKEN_LIFETIME sets each hop's expiry; NSM_DNS_CONFIGS", async () => {
      const before = Date.now();
      const blue = await request({ NSM_LABELS: 'team=blue', NSM_MAX_TOKEN_LIFETIME: '90s' });
      expect(blue.networkServiceEndpointName, 'the match on team=blue').to.equal('nse-blue');
      expect(blue.labels?.['team'], 'the label came back from the endpoint').to.equal('blue');
      const [nscSegment, managerSegment] = blue.path?.pathSegments ?? [];
      const expiresIn = (s: { expires?: string } | undefined): number => Date.parse(s?.expires ?? '') - before;
      expect(nscSegment?.name).to.equal('nsc');
      expect(expiresIn(nscSegment), "the client's token: 90s").to.be.within(80_000, 100_000);
      expect(expiresIn(managerSegment), "the manager's token: 2m").to.be.within(110_000, 130_000);
      expect(blue.context?.dnsContext?.configs).to.deep.equal([{ dnsServerIps: ['10.0.0.10'], searchDomains: ['blue.local'] }]);
      const red = await request({});
      expect(red.networkServiceEndpointName, 'without the label: the fallback match').to.equal('nse-red');
    });

    it('the excluded-prefixes file keeps addresses out, and a running manager picks up a change', async () => {
      const first = await request({ NSM_LABELS: 'team=blue' });
      for (const addr of [...(first.context?.ipContext?.srcIpAddrs ?? []), ...(first.context?.ipContext?.dstIpAddrs ?? [])]) {
        expect(lastOctet(addr), `${addr} is outside the excluded 172.16.10.0/25`).to.be.at.least(128);
      }
      writeFileSync(prefixes(), 'prefixes:\n  - 172.16.10.128/25\n');
      if (nsmgr === undefined) throw new Error('no manager');
      await waitForStderr(nsmgr, /excluded prefixes changed .*172\.16\.10\.128\/25/, 10_000);
      const second = await request({ NSM_LABELS: 'team=blue' });
      for (const addr of [...(second.context?.ipContext?.srcIpAddrs ?? []), ...(second.context?.ipContext?.dstIpAddrs ?? [])]) {
        expect(lastOctet(addr), `${addr} is outside the newly excluded 172.16.10.128/25`).to.be.below(128);
      }
    });

    it('nse: NSM_PAYLOAD, NSM_REGISTER_SERVICE=false, NSM_UNREGISTER_ITSELF=false and NSM_IDLE_TIMEOUT', async () => {
      const [eth] = await startRole(procs, 'nse', {
        NSM_NAME: 'nse-eth',
        NSM_LISTEN_ON: `unix://${dir}/nse-eth.sock`,
        NSM_CONNECT_TO: managerURL,
        NSM_SERVICE_NAMES: 'eth-service',
        NSM_PAYLOAD: 'ETHERNET',
        NSM_UNREGISTER_ITSELF: 'false',
      });
      const [quiet] = await startRole(procs, 'nse', {
        NSM_NAME: 'nse-quiet',
        NSM_LISTEN_ON: `unix://${dir}/nse-quiet.sock`,
        NSM_CONNECT_TO: managerURL,
        NSM_SERVICE_NAMES: 'unlisted-service',
        NSM_REGISTER_SERVICE: 'false',
      });
      const started = Date.now();
      const [idle] = await startRole(procs, 'nse', { NSM_NAME: 'nse-idle', NSM_LISTEN_ON: `unix://${dir}/nse-idle.sock`, NSM_CONNECT_TO: managerURL, NSM_IDLE_TIMEOUT: '1500ms' });
      const [eth0] = await admin(registryURL, (c) => c.findServices({ name: 'eth-service' }));
      expect(eth0?.payload).to.equal('ETHERNET');
      expect(await admin(registryURL, (c) => c.findServices({ name: 'unlisted-service' })), 'NSM_REGISTER_SERVICE=false').to.deep.equal([]);
      expect((await admin(registryURL, (c) => c.findEndpoints({ name: 'nse-quiet' }))).map((e) => e.name), 'the endpoint registers all the same').to.deep.equal(['nse-quiet']);

      expect(await exited(idle), idle.stderr).to.equal(0);
      const idleFor = Date.now() - started;
      console.log(`      nse-idle stopped by itself ${idleFor} ms after it was started`);
      expect(idleFor).to.be.at.least(1500);
      for (const proc of [eth, quiet]) expect((await signalAndTime(proc))[0], proc.stderr).to.equal(0);
      const left = (await admin(registryURL, (c) => c.findEndpoints({}))).map((e) => e.name);
      expect(left, 'NSM_UNREGISTER_ITSELF=false leaves the registration to expire').to.include('nse-eth');
      expect(left, 'the others unregistered').to.not.include.members(['nse-quiet', 'nse-idle']);
    });
  });
});
