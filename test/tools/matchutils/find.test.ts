import { expect } from 'chai';
import {
  Destination,
  Match,
  Metadata,
  NetworkService,
  NetworkServiceEndpoint,
  NetworkServiceLabels,
} from '../../../src/api/gen/registry.js';
import { matchNetworkService, matchNetworkServiceEndpoint } from '../../../src/tools/matchutils/index.js';

function route(selector: Record<string, string>, weight = 0): Destination {
  return Destination.create({ destinationSelector: selector, weight });
}

describe('matchutils: matchNetworkService', () => {
  const reference = NetworkService.create({
    name: 'ns-1',
    payload: 'IP',
    matches: [Match.create({ sourceSelector: { app: 'firewall' }, routes: [route({ app: 'some-middle-app' })] })],
  });
  const query = (q: Partial<NetworkService>): boolean => matchNetworkService(NetworkService.create(q), reference);

  it('an empty query matches anything, and a service matches itself', () => {
    expect(query({})).to.be.true;
    expect(matchNetworkService(reference, reference)).to.be.true;
  });

  it('filters by name', () => {
    expect(query({ name: 'ns-1' })).to.be.true;
    expect(query({ name: 'ns-2' })).to.be.false;
    expect(query({ name: 'ns' })).to.be.false;
  });

  it('filters by payload', () => {
    expect(query({ payload: 'IP' })).to.be.true;
    expect(query({ payload: 'ETHERNET' })).to.be.false;
  });

  it('filters by deeply equal matches', () => {
    const same = Match.create({ sourceSelector: { app: 'firewall' }, routes: [route({ app: 'some-middle-app' })] });
    expect(query({ matches: [same] })).to.be.true;
    const variants: Match[] = [
      Match.create({ ...same, sourceSelector: { app: 'vpn' } }),
      Match.create({ ...same, sourceSelector: { app: 'firewall', zone: 'eu' } }),
      Match.create({ ...same, routes: [route({ app: 'other' })] }),
      Match.create({ ...same, routes: [route({ app: 'some-middle-app' }, 5)] }),
      Match.create({ ...same, routes: [...same.routes, route({})] }),
      Match.create({ ...same, fallthrough: true }),
      Match.create({ ...same, metadata: Metadata.create({ labels: {} }) }),
    ];
    for (const variant of variants) expect(query({ matches: [variant] }), JSON.stringify(variant)).to.be.false;
    expect(query({ matches: [same, same] })).to.be.false;
  });

  it('compares metadata labels when both matches have metadata', () => {
    const withMeta = (labels: Record<string, string>): Match =>
      Match.create({ routes: [route({})], metadata: Metadata.create({ labels }) });
    const ns = NetworkService.create({ name: 'ns', matches: [withMeta({ p2p: 'true' })] });
    expect(matchNetworkService(NetworkService.create({ matches: [withMeta({ p2p: 'true' })] }), ns)).to.be.true;
    expect(matchNetworkService(NetworkService.create({ matches: [withMeta({ p2p: 'false' })] }), ns)).to.be.false;
    expect(matchNetworkService(NetworkService.create({ matches: [Match.create({ routes: [route({})] })] }), ns)).to.be.false;
  });
});

describe('matchutils: matchNetworkServiceEndpoint', () => {
  const reference = NetworkServiceEndpoint.create({
    name: 'nse-1-substring-match',
    networkServiceNames: ['nse-service-1', 'nse-service-2'],
    networkServiceLabels: {
      Service1: NetworkServiceLabels.create({ labels: { foo: 'bar', foo2: 'bar2' } }),
      Service2: NetworkServiceLabels.create({ labels: { foo4: 'bar4' } }),
    },
    url: 'tcp://1.1.1.1:5000',
    expirationTime: { seconds: 600, nanos: 0 },
  });
  const query = (q: Partial<NetworkServiceEndpoint>): boolean =>
    matchNetworkServiceEndpoint(NetworkServiceEndpoint.create(q), reference);
  const labels = (entries: Record<string, Record<string, string>>): Record<string, NetworkServiceLabels> =>
    Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, NetworkServiceLabels.create({ labels: v })]));

  it('an empty query matches anything, and an endpoint matches itself', () => {
    expect(query({})).to.be.true;
    expect(matchNetworkServiceEndpoint(reference, reference)).to.be.true;
  });

  it('filters by exact name', () => {
    expect(query({ name: 'nse-1-substring-match' })).to.be.true;
    expect(query({ name: 'nse-1' })).to.be.false;
  });

  it('filters by network service names (all of the query among the endpoint\'s)', () => {
    expect(query({ networkServiceNames: ['nse-service-2'] })).to.be.true;
    expect(query({ networkServiceNames: ['nse-service-2', 'nse-service-1'] })).to.be.true;
    expect(query({ networkServiceNames: ['nse-service-3'] })).to.be.false;
    expect(query({ networkServiceNames: ['nse-service-1', 'nse-service-3'] })).to.be.false;
  });

  it('filters by labels per service', () => {
    expect(query({ networkServiceLabels: labels({ Service1: {} }) })).to.be.true;
    expect(query({ networkServiceLabels: labels({ Service1: { foo: 'bar' } }) })).to.be.true;
    expect(query({ networkServiceLabels: labels({ Service1: { foo: 'bar', foo2: 'bar2' }, Service2: { foo4: 'bar4' } }) })).to.be.true;
    expect(query({ networkServiceLabels: labels({ Service1: { unknown: 'bar' } }) })).to.be.false;
    expect(query({ networkServiceLabels: labels({ Service1: { foo: 'unknown' } }) })).to.be.false;
    expect(query({ networkServiceLabels: labels({ Service1: { foo4: 'bar4' } }) })).to.be.false;
    expect(query({ networkServiceLabels: labels({ Service2: { foo4: 'bar4' }, Service3: {} }) })).to.be.false;
    expect(query({ networkServiceLabels: labels({ constructor: {} }) })).to.be.false;
  });

  it('filters by URL substring', () => {
    expect(query({ url: 'tcp://1.1.1.1:5000' })).to.be.true;
    expect(query({ url: '://1' })).to.be.true;
    expect(query({ url: 'udp://' })).to.be.false;
  });

  it('filters by expiration second, ignoring nanoseconds', () => {
    expect(query({ expirationTime: { seconds: 600, nanos: 0 } })).to.be.true;
    expect(query({ expirationTime: { seconds: 600, nanos: 100000 } })).to.be.true;
    expect(query({ expirationTime: { seconds: 601, nanos: 0 } })).to.be.false;
    const unset = NetworkServiceEndpoint.create({ name: 'nse' });
    expect(matchNetworkServiceEndpoint(NetworkServiceEndpoint.create({ expirationTime: { seconds: 0, nanos: 0 } }), unset)).to.be.false;
  });
});
