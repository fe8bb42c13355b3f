/**
 * The `nsm` settings layer, in process: value parsing (Go durations and booleans, lists, labels,
 * addresses), per-command flags and defaults, upstream's variables that are honoured or refused, and the
 * help and version output.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { COMMANDS, ConfigError, SETTINGS, Settings, type CommandName, type Env } from '../../src/cli/config.js';
import { commandHelp } from '../../src/cli/settings/catalog.js';
import { UPSTREAM_VARIABLES, refusedUpstreamVariable } from '../../src/cli/settings/upstream.js';
import { formatDuration, parseBool, parseDuration, parseLabels } from '../../src/cli/settings/values.js';
import { nscRequests, parseDNSConfigs } from '../../src/cli/roles.js';
import { packageVersion } from '../../src/cli/version.js';
import { usage } from '../../src/cli/index.js';

const parse = (command: CommandName, env: Env = {}, args: string[] = []): Settings => Settings.parse(command, args, env);
const configError = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.split('\n'), 'one line').to.have.length(1);
    return message;
  }
  throw new Error('no ConfigError');
};

describe('nsm settings: values', () => {
  it('reads Go durations', () => {
    const cases: [string, number][] = [
      ['15s', 15_000],
      ['1m30s', 90_000],
      ['100ms', 100],
      ['750ms', 750],
      ['1.5h', 5_400_000],
      ['2h45m', 9_900_000],
      ['300us', 0.3],
      ['10m', 600_000],
      ['24h', 86_400_000],
      ['0', 0],
      ['+5s', 5000],
    ];
    for (const [text, ms] of cases) expect(parseDuration(text), text).to.be.closeTo(ms, 1e-9);
    for (const bad of ['15', '', 's', '1x', '-1s', '1s2', '1 s', 'ms']) expect(() => parseDuration(bad), bad).to.throw(/duration|negative/);
    expect(formatDuration(90_000)).to.equal('1m30s');
    expect(formatDuration(750)).to.equal('750ms');
    expect(formatDuration(3_600_000)).to.equal('1h');
    expect(formatDuration(2000)).to.equal('2s');
  });

  it("reads Go booleans and both of upstream's label forms", () => {
    for (const t of ['1', 't', 'T', 'true', 'TRUE', 'True']) expect(parseBool(t), t).to.equal(true);
    for (const f of ['0', 'f', 'F', 'false', 'FALSE', 'False']) expect(parseBool(f), f).to.equal(false);
    expect(() => parseBool('yes')).to.throw(/not a boolean/);
    expect(parseLabels('p2p:true, app=web,empty=')).to.deep.equal({ p2p: 'true', app: 'web', empty: '' });
    expect(() => parseLabels('novalue')).to.throw(/not key=value/);
  });
});

describe('nsm settings: per command', () => {
  it('takes the table defaults, a variable over the default, a flag over the variable; empty means unset', () => {
    expect(parse('nsc').string('name')).to.equal('nsc');
    expect(parse('nsc', { NSM_NAME: 'client-1' }).string('name')).to.equal('client-1');
    expect(parse('nsc', { NSM_NAME: 'client-1' }, ['--name', 'client-2']).string('name')).to.equal('client-2');
    expect(parse('nsc', { NSM_NAME: '  ' }).string('name')).to.equal('nsc');
  });

  it("NSM_CONNECT_TO defaults to upstream's manager socket", () => {
    for (const command of ['nsc', 'nse', 'forwarder'] as const) {
      expect(parse(command).address('connect-to'), command).to.equal('unix:///var/lib/networkservicemesh/nsm.io.sock');
    }
  });

  it('NSM_LISTEN_ON takes a list (tcp://:port included) where upstream does, and one address elsewhere', () => {
    const settings = parse('nsmgr', { NSM_LISTEN_ON: 'unix:///var/lib/networkservicemesh/nsm.io.sock,tcp://:5001' });
    expect(settings.addresses('listen-on')).to.deep.equal(['unix:///var/lib/networkservicemesh/nsm.io.sock', 'tcp://:5001']);
    expect(parse('registry', { NSM_LISTEN_ON: 'tcp://127.0.0.1:1, tcp://127.0.0.1:2' }).addresses('listen-on')).to.have.length(2);
    expect(configError(() => parse('nse', { NSM_LISTEN_ON: 'unix:///a.sock,unix:///b.sock' }).address('listen-on'))).to.match(/NSM_LISTEN_ON: nsm nse takes one address/);
    expect(configError(() => parse('nsmgr', { NSM_LISTEN_ON: 'unix:///a.sock,http//x' }).addresses('listen-on'))).to.match(/^--listen-on \/ NSM_LISTEN_ON: invalid address "http\/\/x"/);
  });

  it('reads durations, booleans and choices, naming the setting when a value is wrong', () => {
    const nsc = parse('nsc', { NSM_REQUEST_TIMEOUT: '1m30s', NSM_DIAL_TIMEOUT: '100ms' });
    expect(nsc.duration('request-timeout')).to.equal(90_000);
    expect(nsc.duration('dial-timeout')).to.equal(100);
    expect(nsc.duration('max-token-lifetime'), "upstream's default").to.equal(600_000);
    expect(parse('nsmgr').duration('dial-timeout')).to.equal(750);
    expect(configError(() => parse('nsc', { NSM_REQUEST_TIMEOUT: '15' }).duration('request-timeout'))).to.match(/^--request-timeout \/ NSM_REQUEST_TIMEOUT: "15" is not a duration/);
    expect(parse('nse', { NSM_REGISTER_SERVICE: 'false' }).bool('register-service')).to.equal(false);
    expect(parse('nse').bool('register-service')).to.equal(true);
    expect(configError(() => parse('nse', { NSM_REGISTER_SERVICE: 'nope' }).bool('register-service'))).to.match(/NSM_REGISTER_SERVICE: "nope" is not a boolean/);
    expect(parse('nse', { NSM_PAYLOAD: 'ethernet' }).oneOf('payload', ['IP', 'ETHERNET'])).to.equal('ETHERNET');
    expect(configError(() => parse('nse', { NSM_PAYLOAD: 'MPLS' }).oneOf('payload', ['IP', 'ETHERNET']))).to.match(/NSM_PAYLOAD: "MPLS" is not supported/);
    expect(parse('nse', {}).oneOf('ipam-policy', ['polite', 'strict'])).to.equal('polite');
    expect(parse('nse', { NSM_IPAM_POLICY: 'strict' }).oneOf('ipam-policy', ['polite', 'strict'])).to.equal('strict');
    expect(configError(() => parse('nse', { NSM_IPAM_POLICY: 'greedy' }).oneOf('ipam-policy', ['polite', 'strict']))).to.match(/NSM_IPAM_POLICY: "greedy"/);
  });

  it("reads upstream's log levels: FATAL and PANIC mean error, WARNING warn", () => {
    expect(parse('nsc', { NSM_LOG_LEVEL: 'FATAL' }).logLevel()).to.equal('error');
    expect(parse('nsc', { NSM_LOG_LEVEL: 'panic' }).logLevel()).to.equal('error');
    expect(parse('nsc', { NSM_LOG_LEVEL: 'WARNING' }).logLevel()).to.equal('warn');
    expect(parse('nsc', { NSM_LOG_LEVEL: 'TRACE' }).logLevel()).to.equal('trace');
    expect(parse('nsc').logLevel()).to.equal('info');
    expect(configError(() => parse('nsc', { NSM_LOG_LEVEL: 'loud' }).logLevel())).to.match(/^--log-level \/ NSM_LOG_LEVEL: unknown log level "loud"/);
  });

  it('refuses a flag the command does not read, naming it, and a missing required setting', () => {
    expect(configError(() => parse('nsmgr', {}, ['--connect-to', 'x']))).to.equal('--connect-to is not a setting of nsm nsmgr (see nsm nsmgr --help)');
    expect(configError(() => parse('nse', {}, ['--bogus', 'x']))).to.match(/unknown flag --bogus/);
    expect(configError(() => parse('nse', {}, ['stray']))).to.match(/unexpected argument "stray"/);
    expect(configError(() => parse('nsmgr').address('registry-url'))).to.equal('--registry-url / NSM_REGISTRY_URL is required');
    expect(configError(() => nscRequests(parse('nsc')))).to.equal('--network-services / NSM_NETWORK_SERVICES is required');
    expect(parse('nsc', {}, ['-h']).help).to.equal(true);
  });

  it('records the effective configuration: every setting read, defaults included', () => {
    const settings = parse('nsc', { NSM_NETWORK_SERVICES: 'kernel://a' });
    settings.string('name');
    settings.duration('request-timeout');
    nscRequests(settings);
    expect(settings.effective()).to.deep.equal({
      NSM_NAME: 'nsc',
      NSM_REQUEST_TIMEOUT: '15s',
      NSM_MECHANISM: 'kernel',
      NSM_NETWORK_SERVICES: 'kernel://a',
    });
  });
});

describe('nsm nsc: network service URLs, labels and mechanisms', () => {
  it('adds NSM_LABELS to every request, the URL winning on a shared key', () => {
    const [first, second] = nscRequests(parse('nsc', { NSM_NETWORK_SERVICES: 'kernel://a?app=url,kernel://b', NSM_LABELS: 'app=env,team=blue' }));
    expect(first?.connection?.labels).to.deep.equal({ app: 'url', team: 'blue' });
    expect(second?.connection?.labels).to.deep.equal({ app: 'env', team: 'blue' });
  });

  it('gives a URL without a scheme the NSM_MECHANISM mechanism', () => {
    const [request] = nscRequests(parse('nsc', { NSM_NETWORK_SERVICES: 'icmp-responder/nsm-3' }));
    expect(request?.connection?.networkService).to.equal('icmp-responder');
    expect(request?.mechanismPreferences?.[0]?.type).to.equal('KERNEL');
    expect(request?.mechanismPreferences?.[0]?.parameters?.['name']).to.equal('nsm-3');
  });

  it('refuses memif:// and vfio (no client mechanism for them) instead of asking for KERNEL', () => {
    expect(configError(() => nscRequests(parse('nsc', { NSM_NETWORK_SERVICES: 'memif://icmp-responder' })))).to.match(/NSM_NETWORK_SERVICES: memif:\/\/icmp-responder asks for MEMIF/);
    expect(configError(() => nscRequests(parse('nsc', { NSM_NETWORK_SERVICES: 'vfio://x' })))).to.match(/asks for VFIO/);
    expect(configError(() => nscRequests(parse('nsc', { NSM_NETWORK_SERVICES: 'x', NSM_MECHANISM: 'vfio' })))).to.match(/NSM_MECHANISM: "vfio" is not supported/);
    expect(configError(() => nscRequests(parse('nsc', { NSM_NETWORK_SERVICES: 'foo://x' })))).to.match(/unknown mechanism "foo"/);
  });
});

describe('nsm nse: NSM_DNS_CONFIGS', () => {
  it("reads upstream's JSON, snake_case or camelCase, and refuses what it does not understand", () => {
    expect(parseDNSConfigs('[]')).to.deep.equal([]);
    expect(parseDNSConfigs('[{"dns_server_ips":["10.0.0.10"],"search_domains":["svc.local"]},{"dnsServerIps":["fd00::a"]}]')).to.deep.equal([
      { dnsServerIps: ['10.0.0.10'], searchDomains: ['svc.local'] },
      { dnsServerIps: ['fd00::a'], searchDomains: [] },
    ]);
    expect(() => parseDNSConfigs('{')).to.throw(/not JSON/);
    expect(() => parseDNSConfigs('{}')).to.throw(/JSON list/);
    expect(() => parseDNSConfigs('[{"servers":["1.1.1.1"]}]')).to.throw(/unknown field "servers"/);
    expect(() => parseDNSConfigs('[{"dns_server_ips":["not-an-ip"]}]')).to.throw(/"not-an-ip" is not an IP address/);
  });
});

describe("nsm settings: upstream's variables without a setting here", () => {
  const refused: [CommandName, string, string, RegExp][] = [
    ['nsc', 'NSM_PPROF_ENABLED', 'true', /pprof/],
    ['nsmgr', 'TELEMETRY', 'true', /OpenTelemetry/],
    ['nsc', 'NSM_AWARENESS_GROUPS', '[a]', /awareness groups/],
    ['nsc', 'NSM_LOCAL_DNS_SERVER_ENABLED', 'true', /local DNS server/],
    ['nsc', 'NSM_LIVENESS_CHECK_ENABLED', 'true', /liveness check/],
    ['nsc', 'NSM_LIVENESS_CHECK_INTERVAL', '200', /not a duration/],
    ['nse', 'NSM_PBR_CONFIG_PATH', '/etc/pbr.yaml', /policy-based routing/],
    ['nse', 'NSM_REGISTRY_CLIENT_POLICIES', 'etc/nsm/opa/*.rego', /OPA/],
    ['nsmgr', 'NSM_REGISTRY_SERVER_POLICIES', 'x.rego', /OPA/],
    ['registry', 'NSM_PROXY_REGISTRY_URL', 'tcp://proxy:5005', /interdomain/],
    ['forwarder', 'NSM_NSNAME', 'fwd-service', /"forwarder" only/],
    ['forwarder', 'NSM_VXLAN_PORT', '4790', /VXLAN port/],
    ['forwarder', 'NSM_MECHANISM_PRIORITY', 'KERNEL', /mechanism priorities/],
    ['registry', 'NSM_METRICS_EXPORT_INTERVAL', 'often', /not a duration/],
  ];
  for (const [command, env, value, reason] of refused) {
    it(`nsm ${command} refuses ${env}=${value} in one line naming it`, () => {
      const message = configError(() => parse(command, { [env]: value }));
      expect(message.startsWith(`${env}=${value}: `), message).to.equal(true);
      expect(message).to.match(reason);
    });
  }

  it('accepts the values that keep those features off, and inert ones, as upstream manifests set them', () => {
    const env = {
      NSM_PPROF_ENABLED: 'false',
      NSM_PPROF_LISTEN_ON: 'localhost:6060',
      NSM_OPEN_TELEMETRY_ENDPOINT: 'otel-collector.observability.svc.cluster.local:4317',
      NSM_METRICS_EXPORT_INTERVAL: '10s',
      NSM_LOCAL_DNS_SERVER_ENABLED: 'false',
      NSM_LIVENESS_CHECK_ENABLED: 'false',
      NSM_LIVENESS_CHECK_INTERVAL: '200ms',
      NSM_NSNAME: 'forwarder',
      NSM_VXLAN_PORT: '0',
      TELEMETRY: 'false',
    };
    for (const command of ['registry', 'nsmgr', 'forwarder', 'nse', 'nsc'] as const) expect(refusedUpstreamVariable(command, env), command).to.equal(undefined);
    expect(refusedUpstreamVariable('nsmgr', { NSM_PBR_CONFIG_PATH: '/x' }), "not read by upstream's manager").to.equal(undefined);
  });
});

describe('nsm --help, --version and the docs', () => {
  it('lists, per command, only the flags it reads, with their variables and defaults', () => {
    const nsc = commandHelp('nsc');
    expect(nsc).to.match(/--request-timeout\s+NSM_REQUEST_TIMEOUT\s+.*\[default: 15s\]/);
    expect(nsc).to.match(/--connect-to\s+NSM_CONNECT_TO\s+.*\[default: unix:\/\/\/var\/lib\/networkservicemesh\/nsm\.io\.sock\]/);
    expect(nsc).to.match(/--network-services\s+NSM_NETWORK_SERVICES\s+.*\[required\]/);
    expect(nsc).to.not.include('--listen-on');
    expect(nsc).to.not.include('--registry-url');
    const nsmgr = commandHelp('nsmgr');
    expect(nsmgr).to.match(/--excluded-prefixes-file\s+NSM_EXCLUDED_PREFIXES_FILE\s+.*\[default: \/var\/lib\/networkservicemesh\/config\/excluded_prefixes\.yaml\]/);
    expect(nsmgr).to.not.include('--network-services');
    for (const command of Object.keys(COMMANDS)) expect(usage()).to.include(`  ${command} `);
  });

  it('--version is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(packageVersion()).to.equal(pkg.version);
  });

  it('docs/cli.md describes every variable, honoured or refused', () => {
    const docs = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    const names = [...Object.values(SETTINGS).map((s) => s.env), ...UPSTREAM_VARIABLES.map((v) => v.env)];
    expect(names.filter((name) => !docs.includes(`\`${name}\``)), 'missing from docs/cli.md').to.deep.equal([]);
    for (const [flag] of Object.entries(SETTINGS)) expect(docs, flag).to.include(`\`--${flag}\``);
  });
});
