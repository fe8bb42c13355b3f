import { expect } from 'chai';
import {
  Destination,
  Match,
  Metadata,
  NetworkService,
  NetworkServiceEndpoint,
  NetworkServiceLabels,
} from '../../../src/api/gen/registry.js';
import { matchEndpoints, selectMatch, type Labels } from '../../../src/tools/matchutils/index.js';

const SERVICE = 'secure-intranet-connectivity';

function nse(name: string, labels: Labels, service = SERVICE): NetworkServiceEndpoint {
  return NetworkServiceEndpoint.create({
    name,
    networkServiceNames: [service],
    networkServiceLabels: { [service]: NetworkServiceLabels.create({ labels: { ...labels } }) },
  });
}

function match(source: Labels, destinations: Labels[], extra: Partial<Pick<Match, 'fallthrough' | 'metadata'>> = {}): Match {
  return Match.create({
    sourceSelector: { ...source },
    routes: destinations.map((d) => Destination.create({ destinationSelector: { ...d } })),
    ...extra,
  });
}

function service(matches: Match[], name = SERVICE): NetworkService {
  return NetworkService.create({ name, matches });
}

const names = (list: readonly NetworkServiceEndpoint[]): string[] => list.map((e) => e.name);

// The three endpoints and matches of upstream discover/server_test.go.
const firewall = nse('nse-1', { app: 'firewall' });
const middle = nse('nse-2', { app: 'some-middle-app' });
const vpn = nse('nse-3', { app: 'vpn-gateway' });
const all = [firewall, middle, vpn];
const fromAnywhere = match({}, [{ app: 'firewall' }]);
const fromFirewall = match({ app: 'firewall' }, [{ app: 'some-middle-app' }]);
const fromMiddle = match({ app: 'some-middle-app' }, [{ app: 'vpn-gateway' }]);

describe('matchutils: matchEndpoints', () => {
  it('returns every endpoint, as a copy, when the service has no matches', () => {
    const result = matchEndpoints({ app: 'anything' }, service([]), all);
    expect(names(result)).to.deep.equal(['nse-1', 'nse-2', 'nse-3']);
    expect(result).to.not.equal(all);
  });

  it('uses the first match whose source selector the client satisfies', () => {
    const ns = service([fromFirewall, fromMiddle, fromAnywhere]);
    expect(names(matchEndpoints({}, ns, all))).to.deep.equal(['nse-1']);
    expect(names(matchEndpoints({ app: 'firewall' }, ns, all))).to.deep.equal(['nse-2']);
    expect(names(matchEndpoints({ app: 'some-middle-app' }, ns, all))).to.deep.equal(['nse-3']);
    // NetworkService.create copies its matches, so compare with the service's own.
    expect(selectMatch({ app: 'firewall' }, ns, all)).to.equal(ns.matches[0]);
  });

  it('lets an empty source selector going first win over more specific ones', () => {
    const ns = service([fromAnywhere, fromFirewall, fromMiddle]);
    expect(names(matchEndpoints({ app: 'firewall' }, ns, all))).to.deep.equal(['nse-1']);
    expect(selectMatch({ app: 'firewall' }, ns, all)).to.equal(ns.matches[0]);
  });

  it('returns nothing when no source selector applies', () => {
    const ns = service([fromFirewall, fromMiddle]);
    expect(matchEndpoints({ app: 'unknown-app' }, ns, all)).to.deep.equal([]);
    expect(selectMatch({ app: 'unknown-app' }, ns, all)).to.be.undefined;
  });

  it('does not fall through when the applying match selects nothing', () => {
    const ns = service([match({}, [{ app: 'missing' }]), fromAnywhere]);
    expect(matchEndpoints({}, ns, all)).to.deep.equal([]);
    expect(selectMatch({}, ns, all)).to.equal(ns.matches[0]);
  });

  it('falls through to the next match when a fallthrough match selects nothing', () => {
    const ns = service([match({}, [{ app: 'missing' }], { fallthrough: true }), fromAnywhere]);
    expect(names(matchEndpoints({}, ns, all))).to.deep.equal(['nse-1']);
    expect(selectMatch({}, ns, all)).to.equal(ns.matches[1]);
  });

  it('keeps a fallthrough match that does select an endpoint', () => {
    const ns = service([match({}, [{ app: 'vpn-gateway' }], { fallthrough: true }), fromAnywhere]);
    expect(names(matchEndpoints({}, ns, all))).to.deep.equal(['nse-3']);
  });

  it('is empty when every match falls through', () => {
    const ns = service([match({}, [{ app: 'missing' }], { fallthrough: true })]);
    expect(matchEndpoints({}, ns, all)).to.deep.equal([]);
    expect(selectMatch({}, ns, all)).to.be.undefined;
  });

  it('allows every endpoint for a metadata-only match (forwarder selection)', () => {
    const metadataOnly = match({}, [], { metadata: Metadata.create({ labels: { p2p: 'true' } }) });
    const ns = service([metadataOnly, fromAnywhere]);
    expect(names(matchEndpoints({}, ns, all))).to.deep.equal(['nse-1', 'nse-2', 'nse-3']);
    expect(selectMatch({}, ns, all)).to.equal(ns.matches[0]);
  });

  it('skips a metadata-only match that falls through, as upstream checks fallthrough first', () => {
    const metadataOnly = match({}, [], { fallthrough: true, metadata: Metadata.create({ labels: { p2p: 'true' } }) });
    const ns = service([metadataOnly, fromAnywhere]);
    expect(names(matchEndpoints({}, ns, all))).to.deep.equal(['nse-1']);
  });

  it('treats a match without routes and without metadata as selecting nothing', () => {
    expect(matchEndpoints({}, service([match({}, [])]), all)).to.deep.equal([]);
  });

  it('selects every endpoint with a route whose selector is empty', () => {
    expect(names(matchEndpoints({}, service([match({}, [{}])]), all))).to.deep.equal(['nse-1', 'nse-2', 'nse-3']);
  });

  it('keeps the input order and lists an endpoint once when several routes select it', () => {
    const both = nse('nse-both', { app: 'firewall', zone: 'eu' });
    const ns = service([match({}, [{ app: 'vpn-gateway' }, { zone: 'eu' }, { app: 'firewall' }])]);
    expect(names(matchEndpoints({}, ns, [both, middle, vpn, firewall]))).to.deep.equal(['nse-both', 'nse-3', 'nse-1']);
  });

  it('reads endpoint labels registered for this service only', () => {
    const elsewhere = nse('nse-other', { app: 'firewall' }, 'other-service');
    const ns = service([fromAnywhere]);
    expect(names(matchEndpoints({}, ns, [elsewhere, firewall]))).to.deep.equal(['nse-1']);
  });

  it('ports upstream Test_Discover_Scale_FromZero_vL3 (templates and fallthrough)', () => {
    const ns = service(
      [
        match({}, [{ app: 'nse-vl3-vpp', nodeName: '{{.nodeName}}' }], { fallthrough: true }),
        match({ capability: 'vl3' }, [{ capability: 'vl3' }], { fallthrough: true }),
        match({}, [{ app: 'nse-autoscaler' }], { fallthrough: true }),
      ],
      'ns-1',
    );
    const a = nse('nse-A', { capability: 'vl3', nodeName: 'node-1', app: 'nse-vl3-vpp' }, 'ns-1');
    const b = nse('nse-B', { capability: 'vl3', nodeName: 'node-2', app: 'nse-vl3-vpp' }, 'ns-1');
    const c = nse('nse-C', { app: 'nse-autoscaler' }, 'ns-1');
    const d = nse('nse-D', { app: 'unknown' }, 'ns-1');

    expect(matchEndpoints({}, ns, [d])).to.deep.equal([]);
    expect(matchEndpoints({ app: 'nse-autoscaler' }, ns, [d])).to.deep.equal([]);
    expect(names(matchEndpoints({}, ns, [c, d]))).to.deep.equal(['nse-C']);
    expect(names(matchEndpoints({ app: 'nse-autoscaler' }, ns, [c, d]))).to.deep.equal(['nse-C']);
    expect(names(matchEndpoints({ app: 'nse-vl3-vpp', nodeName: 'node-2' }, ns, [c, a, b, d]))).to.deep.equal(['nse-B']);
    expect(names(matchEndpoints({ app: 'nse-vl3-vpp', nodeName: 'node-1' }, ns, [c, a, d, b]))).to.deep.equal(['nse-A']);
    expect(names(matchEndpoints({ capability: 'vl3', app: 'nse-vl3-vpp', nodeName: 'node-2' }, ns, [c, a, d]))).to.deep.equal(['nse-A']);
    expect(names(matchEndpoints({ capability: 'vl3', app: 'nse-vl3-vpp', nodeName: 'node-1' }, ns, [c, d, b]))).to.deep.equal(['nse-B']);
  });
});
