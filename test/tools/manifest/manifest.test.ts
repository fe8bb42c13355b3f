import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetworkService } from '../../../src/api/gen/registry.js';
import { createRegistryClient, type RegistryClient } from '../../../src/registry/chains/client/index.js';
import { serveRegistryServer, type ServedRegistry } from '../../../src/registry/chains/server/index.js';
import {
  applyNetworkServiceManifests,
  loadNetworkServiceManifests,
  ManifestError,
  parseNetworkServiceManifests,
  type ManifestIssue,
} from '../../../src/tools/manifest/index.js';
import { tempSocketDir } from '../../helpers/servers.js';

/** The text of `lines`, one per line: line numbers in the tests are the array index + 1. */
const text = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** The ManifestError `parse` throws. */
function manifestError(parse: () => unknown): ManifestError {
  try {
    parse();
  } catch (error) {
    expect(error).to.be.instanceOf(ManifestError);
    return error as ManifestError;
  }
  expect.fail('expected a ManifestError');
}

/** The problems of `source`, as reported by parseNetworkServiceManifests. */
const issuesOf = (source: string): ManifestIssue[] => manifestError(() => parseNetworkServiceManifests(source, 'services.yaml')).errors;

/** A valid document, to prefix with the lines under test. */
const header = (name = 'svc'): string[] => ['apiVersion: networkservicemesh.io/v1', 'kind: NetworkService', 'metadata:', `  name: ${name}`];

const twoServices = text(
  'apiVersion: networkservicemesh.io/v1', // 1
  'kind: NetworkService',
  'metadata:',
  '  name: secure-intranet-connectivity',
  '  namespace: default', // ignored
  '  labels:',
  '    team: net',
  '  annotations:',
  '    note: ignored',
  'spec:', // 10
  '  payload: IP',
  '  matches:',
  '    - source_selector:',
  '        app: firewall',
  '      routes:',
  '        - destination_selector:',
  '            app: vpn-gateway',
  '          weight: 10',
  '    - fallthrough: true',
  '      routes:', // 20
  '        - destination_selector:',
  '            app: firewall',
  '      metadata:',
  '        labels:',
  '          p2p: "true"',
  '---',
  '# camelCase keys, as in some of upstream\'s documentation; no payload',
  'apiVersion: networkservicemesh.io/v1',
  'kind: NetworkService',
  'metadata:', // 30
  '  name: icmp-responder',
  'spec:',
  '  matches:',
  '    - sourceSelector:',
  '        "app.kubernetes.io/name": client',
  '        port: "80"',
  '      routes:',
  '        - destinationSelector:',
  '            zone: "{{.zone}}"',
  '        - destinationSelector: {}', // 40
);

describe('NetworkService manifests', () => {
  describe('parseNetworkServiceManifests', () => {
    it('maps every field of a two-document file', () => {
      const services = parseNetworkServiceManifests(twoServices, 'services.yaml');
      expect(services).to.have.length(2);
      expect(services[0]).to.deep.equal(
        NetworkService.fromPartial({
          name: 'secure-intranet-connectivity',
          payload: 'IP',
          matches: [
            {
              sourceSelector: { app: 'firewall' },
              routes: [{ destinationSelector: { app: 'vpn-gateway' }, weight: 10 }],
              fallthrough: false,
              metadata: undefined,
            },
            {
              sourceSelector: {},
              routes: [{ destinationSelector: { app: 'firewall' }, weight: 0 }],
              fallthrough: true,
              metadata: { labels: { p2p: 'true' } },
            },
          ],
        }),
      );
      expect(services[0]?.pathIds).to.deep.equal([]);
      expect(services[0]?.matches[0]?.metadata).to.equal(undefined);
      expect(services[1]).to.deep.equal(
        NetworkService.fromPartial({
          name: 'icmp-responder',
          payload: 'IP', // the default
          matches: [
            {
              sourceSelector: { 'app.kubernetes.io/name': 'client', port: '80' },
              routes: [
                { destinationSelector: { zone: '{{.zone}}' }, weight: 0 },
                { destinationSelector: {}, weight: 0 },
              ],
              fallthrough: false,
              metadata: undefined,
            },
          ],
        }),
      );
    });

    it('defaults the payload to IP and the matches to none, with no spec or an empty one', () => {
      const services = parseNetworkServiceManifests(text(...header('a'), '---', ...header('b'), 'spec:', '---', ...header('c'), 'spec:', '  payload:'));
      expect(services.map((s) => [s.name, s.payload, s.matches])).to.deep.equal([
        ['a', 'IP', []],
        ['b', 'IP', []],
        ['c', 'IP', []],
      ]);
    });

    it('gives [] for an empty file, a file of comments and empty documents', () => {
      expect(parseNetworkServiceManifests('')).to.deep.equal([]);
      expect(parseNetworkServiceManifests('# nothing here\n')).to.deep.equal([]);
      expect(parseNetworkServiceManifests('---\n---\n# still nothing\n')).to.deep.equal([]);
    });

    it('reports unknown fields at every depth with their line and path', () => {
      const issues = issuesOf(
        text(
          'apiVersion: networkservicemesh.io/v1', // 1
          'kind: NetworkService',
          'status: {}', // 3: top level
          'metadata:',
          '  name: svc',
          '  uid: "1234"', // 6: metadata
          'spec:',
          '  payloads: IP', // 8: spec
          '  matches:',
          '    - source_selector: {}',
          '      route: []', // 11: match
          '      routes:',
          '        - destination_selecter:', // 13: route
          '            app: x',
          '      metadata:',
          '        annotations: {}', // 16: match metadata
        ),
      );
      expect(issues).to.deep.equal([
        { line: 3, path: 'status', message: 'unknown field' },
        { line: 6, path: 'metadata.uid', message: 'unknown field' },
        { line: 8, path: 'spec.payloads', message: 'unknown field' },
        { line: 11, path: 'spec.matches[0].route', message: 'unknown field' },
        { line: 13, path: 'spec.matches[0].routes[0].destination_selecter', message: 'unknown field' },
        { line: 16, path: 'spec.matches[0].metadata.annotations', message: 'unknown field' },
      ]);
    });

    it('formats the message as one file:line: path: message line per problem', () => {
      const source = text(...header(), 'spec:', '  matches:', '    - routes:', '        - destination_selecter: {}', '          weight: many');
      const error = manifestError(() => parseNetworkServiceManifests(source, 'services.yaml'));
      expect(error.fileName).to.equal('services.yaml');
      expect(error.message.split('\n')).to.deep.equal([
        'services.yaml:8: spec.matches[0].routes[0].destination_selecter: unknown field',
        'services.yaml:9: spec.matches[0].routes[0].weight: must be a number, not a string',
      ]);
      const unnamed = manifestError(() => parseNetworkServiceManifests(source));
      expect(unnamed.fileName).to.equal(undefined);
      expect(unnamed.message.split('\n')[0]).to.equal('line 8: spec.matches[0].routes[0].destination_selecter: unknown field');
    });

    it('reports values of the wrong type', () => {
      const issues = issuesOf(
        text(
          ...header(), // 1-4
          'spec:', // 5
          '  matches:',
          '    - source_selector: [app, firewall]', // 7
          '      fallthrough: "yes"', // 8
          '      routes:',
          '        - destination_selector: firewall', // 10
          '          weight: 1.5', // 11
          '        - weight: -1', // 12
          '        - just-a-string', // 13
          '    - routes: {}', // 14
          '      metadata: [p2p]', // 15
        ),
      );
      expect(issues).to.deep.equal([
        { line: 7, path: 'spec.matches[0].source_selector', message: 'must be a mapping, not a list' },
        { line: 8, path: 'spec.matches[0].fallthrough', message: 'must be true or false, not a string' },
        { line: 10, path: 'spec.matches[0].routes[0].destination_selector', message: 'must be a mapping, not a string' },
        { line: 11, path: 'spec.matches[0].routes[0].weight', message: 'must be an integer from 0 to 4294967295, not 1.5' },
        { line: 12, path: 'spec.matches[0].routes[1].weight', message: 'must be an integer from 0 to 4294967295, not -1' },
        { line: 13, path: 'spec.matches[0].routes[2]', message: 'must be a mapping, not a string' },
        { line: 14, path: 'spec.matches[1].routes', message: 'must be a list, not a mapping' },
        { line: 15, path: 'spec.matches[1].metadata', message: 'must be a mapping, not a list' },
      ]);
      expect(issuesOf(text(...header(), 'spec: IP'))).to.deep.equal([{ line: 5, path: 'spec', message: 'must be a mapping, not a string' }]);
      expect(issuesOf(text(...header(), 'spec:', '  matches: none'))).to.deep.equal([
        { line: 6, path: 'spec.matches', message: 'must be a list, not a string' },
      ]);
      expect(issuesOf(text('- a', '- b'))).to.deep.equal([{ line: 1, path: '', message: 'a NetworkService manifest must be a mapping, not a list' }]);
    });

    it('asks to quote selector and label values given as booleans or numbers', () => {
      const issues = issuesOf(
        text(
          ...header(), // 1-4
          'spec:',
          '  matches:',
          '    - source_selector:',
          '        port: 8080', // 8
          '      routes:',
          '        - destination_selector:',
          '            ready: yes', // 11: a string in YAML 1.2
          '            "app.kubernetes.io/ready": false', // 12
          '    - metadata:',
          '        labels:',
          '          p2p: true', // 15
          '          empty:', // 16
        ),
      );
      expect(issues).to.deep.equal([
        { line: 8, path: 'spec.matches[0].source_selector.port', message: 'must be a string (quote it)' },
        { line: 12, path: 'spec.matches[0].routes[0].destination_selector["app.kubernetes.io/ready"]', message: 'must be a string (quote it)' },
        { line: 15, path: 'spec.matches[1].metadata.labels.p2p', message: 'must be a string (quote it)' },
        { line: 16, path: 'spec.matches[1].metadata.labels.empty', message: 'must be a string (quote it, "" for an empty value)' },
      ]);
    });

    it('requires a non-empty metadata.name', () => {
      expect(issuesOf(text('apiVersion: networkservicemesh.io/v1', 'kind: NetworkService', 'spec: {}'))).to.deep.equal([
        { line: 1, path: 'metadata.name', message: 'is required' },
      ]);
      expect(issuesOf(text('apiVersion: networkservicemesh.io/v1', 'kind: NetworkService', 'metadata:', '  namespace: default'))).to.deep.equal([
        { line: 3, path: 'metadata.name', message: 'is required' },
      ]);
      expect(issuesOf(text('apiVersion: networkservicemesh.io/v1', 'kind: NetworkService', 'metadata:', '  name: ""'))).to.deep.equal([
        { line: 4, path: 'metadata.name', message: 'must not be empty' },
      ]);
      expect(issuesOf(text('apiVersion: networkservicemesh.io/v1', 'kind: NetworkService', 'metadata:', '  name: 42'))).to.deep.equal([
        { line: 4, path: 'metadata.name', message: 'must be a string (quote it)' },
      ]);
    });

    it('requires apiVersion networkservicemesh.io/v1 and kind NetworkService', () => {
      expect(issuesOf(text('apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: svc'))).to.deep.equal([
        { line: 1, path: 'apiVersion', message: 'must be networkservicemesh.io/v1, not "v1"' },
        { line: 2, path: 'kind', message: 'must be NetworkService, not "ConfigMap"' },
      ]);
      expect(issuesOf(text('# a comment first', 'metadata:', '  name: svc'))).to.deep.equal([
        { line: 2, path: 'apiVersion', message: 'is required (networkservicemesh.io/v1)' },
        { line: 2, path: 'kind', message: 'is required (NetworkService)' },
      ]);
    });

    it('accepts only IP and ETHERNET as payload', () => {
      expect(parseNetworkServiceManifests(text(...header(), 'spec:', '  payload: ETHERNET'))[0]?.payload).to.equal('ETHERNET');
      expect(issuesOf(text(...header(), 'spec:', '  payload: ip'))).to.deep.equal([
        { line: 6, path: 'spec.payload', message: 'must be IP or ETHERNET, not "ip"' },
      ]);
      expect(issuesOf(text(...header(), 'spec:', '  payload: 3'))).to.deep.equal([
        { line: 6, path: 'spec.payload', message: 'must be a string (quote it)' },
      ]);
    });

    it('reports YAML syntax errors with their line, along with the problems of the other documents', () => {
      const issues = issuesOf(
        text(
          ...header('a'), // 1-4
          'spec:',
          '  payload: IP',
          '  payload: ETHERNET', // 7: duplicate key
          '---',
          ...header('b'), // 9-12
          'spec:',
          '  matches:',
          '    - source_selector: {app: [}', // 15: unbalanced flow collection
          '---',
          ...header('c'), // 17-20
          'spec:',
          '  payload: PPP', // 22
        ),
      );
      // The parser may report more than one error for one mistake (here, both brackets on line 15).
      expect([...new Set(issues.map((i) => `${i.line} ${i.path}`))]).to.deep.equal(['7 ', '15 ', '22 spec.payload']);
      expect(issues[0]?.message).to.match(/^invalid YAML: .*unique/);
      expect(issues[1]?.message).to.match(/^invalid YAML: /);
      for (const issue of issues) expect(issue.message).not.to.include('\n');
    });

    it('accepts snake_case or camelCase, but not both for one field', () => {
      const issues = issuesOf(text(...header(), 'spec:', '  matches:', '    - source_selector: {a: b}', '      sourceSelector: {a: c}'));
      expect(issues).to.deep.equal([{ line: 8, path: 'spec.matches[0].sourceSelector', message: 'given twice (also as source_selector)' }]);
    });

    it('rejects a name defined twice in one file', () => {
      const issues = issuesOf(text(...header('svc'), '---', ...header('svc')));
      expect(issues).to.deep.equal([{ line: 9, path: 'metadata.name', message: '"svc" is already defined at line 4' }]);
    });

    it('reports every problem of the file, in line order, not only the first', () => {
      const issues = issuesOf(
        text(
          'apiVersion: networkservicemesh.io/v2', // 1
          'kind: NetworkService',
          'metadata:',
          '  name: a',
          'spec:',
          '  payload: TCP', // 6
          '  matches:',
          '    - fallthrough: 1', // 8
          '      routes:',
          '        - destination_selector: {app: 5}', // 10
          '---',
          'apiVersion: networkservicemesh.io/v1',
          'kind: NetworkService',
          'metadata:',
          '  nam: b', // 15
        ),
      );
      expect(issues.map((i) => `${i.line} ${i.path}`)).to.deep.equal([
        '1 apiVersion',
        '6 spec.payload',
        '8 spec.matches[0].fallthrough',
        '10 spec.matches[0].routes[0].destination_selector.app',
        '14 metadata.name',
        '15 metadata.nam',
      ]);
    });
  });

  describe('loadNetworkServiceManifests', () => {
    let dir: ReturnType<typeof tempSocketDir>;
    beforeEach(() => {
      dir = tempSocketDir();
    });
    afterEach(() => {
      dir.cleanup();
    });

    it('reads a file and reports problems against its path', async () => {
      const good = join(dir.dir, 'services.yaml');
      writeFileSync(good, twoServices);
      expect((await loadNetworkServiceManifests(good)).map((s) => s.name)).to.deep.equal(['secure-intranet-connectivity', 'icmp-responder']);
      const bad = join(dir.dir, 'bad.yaml');
      writeFileSync(bad, text(...header(), 'spec:', '  matches:', '    - routes:', '        - destination_selecter: {}'));
      const error = await loadNetworkServiceManifests(bad).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ManifestError);
      expect((error as ManifestError).message).to.equal(`${bad}:8: spec.matches[0].routes[0].destination_selecter: unknown field`);
    });
  });

  describe('applyNetworkServiceManifests', () => {
    let sockets: ReturnType<typeof tempSocketDir>;
    let registry: ServedRegistry;
    let client: RegistryClient;

    beforeEach(async () => {
      sockets = tempSocketDir();
      registry = await serveRegistryServer(sockets.socket('registry'));
      client = createRegistryClient({ connectTo: registry.url, chain: { retry: false, heal: false } });
    });
    afterEach(async () => {
      await client.close();
      await registry.stop();
      sockets.cleanup();
    });

    it('registers every service in a real registry over gRPC, which then finds them', async () => {
      const services = parseNetworkServiceManifests(twoServices);
      const applied = await applyNetworkServiceManifests(client, services);
      expect(applied.map((s) => s.name)).to.deep.equal(['secure-intranet-connectivity', 'icmp-responder']);
      for (const service of services) {
        const found = await client.findServices({ name: service.name });
        expect(found).to.have.length(1);
        expect({ ...found[0], pathIds: [] }).to.deep.equal(service);
      }
      // Applying again replaces, and does not duplicate.
      await applyNetworkServiceManifests(client, services);
      expect((await client.findServices({})).map((s) => s.name).sort()).to.deep.equal(['icmp-responder', 'secure-intranet-connectivity']);
    });

    it('registers in order and stops at the first failure, naming the service', async () => {
      const calls: string[] = [];
      const failing = {
        registerService: async (ns: NetworkService): Promise<string> => {
          calls.push(ns.name);
          if (ns.name === 'b') throw new Error('registry down');
          return ns.name.toUpperCase();
        },
      };
      const services = ['a', 'b', 'c'].map((name) => NetworkService.fromPartial({ name }));
      const error = await applyNetworkServiceManifests(failing, services).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(Error);
      expect((error as Error).message).to.equal('registering NetworkService "b" failed: registry down');
      expect(((error as Error).cause as Error).message).to.equal('registry down');
      expect(calls).to.deep.equal(['a', 'b']);
      expect(await applyNetworkServiceManifests(failing, [services[0]!, services[2]!])).to.deep.equal(['A', 'C']);
      expect(await applyNetworkServiceManifests(client, [])).to.deep.equal([]);
    });
  });
});
