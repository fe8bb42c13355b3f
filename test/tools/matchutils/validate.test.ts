import { expect } from 'chai';
import {
  Destination,
  Match,
  Metadata,
  NetworkService,
  NetworkServiceEndpoint,
} from '../../../src/api/gen/registry.js';
import { validateNetworkService, validateNetworkServiceEndpoint } from '../../../src/tools/matchutils/index.js';

describe('matchutils: validateNetworkService', () => {
  const routed = Match.create({ routes: [Destination.create({ destinationSelector: { app: 'a' } })] });

  it('accepts a valid service', () => {
    expect(validateNetworkService(NetworkService.create({ name: 'ns' }))).to.be.undefined;
    expect(validateNetworkService(NetworkService.create({ name: 'ns', payload: 'IP', matches: [routed] }))).to.be.undefined;
    expect(validateNetworkService(NetworkService.create({ name: 'ns', payload: 'ETHERNET' }))).to.be.undefined;
  });

  it('requires a name', () => {
    expect(validateNetworkService(NetworkService.create({ payload: 'IP' }))).to.equal('NetworkService.name is empty');
  });

  it('requires the payload, when set, to be IP or ETHERNET', () => {
    expect(validateNetworkService(NetworkService.create({ name: 'ns', payload: 'ip' }))).to.equal(
      'NetworkService "ns": payload "ip" is neither IP nor ETHERNET',
    );
  });

  it('requires every match to have a route, naming the offending index', () => {
    const bare = Match.create({ sourceSelector: { app: 'x' } });
    expect(validateNetworkService(NetworkService.create({ name: 'ns', matches: [routed, bare] }))).to.match(
      /^NetworkService "ns": matches\[1\] has no routes/,
    );
    const emptyMetadata = Match.create({ metadata: Metadata.create({ labels: {} }) });
    expect(validateNetworkService(NetworkService.create({ name: 'ns', matches: [emptyMetadata] }))).to.match(/matches\[0\] has no routes/);
  });

  it('accepts a match without routes when it has metadata labels, and a route with an empty selector', () => {
    const forwarders = Match.create({ metadata: Metadata.create({ labels: { p2p: 'true' } }) });
    const everything = Match.create({ routes: [Destination.create({})] });
    expect(validateNetworkService(NetworkService.create({ name: 'ns', matches: [forwarders, everything] }))).to.be.undefined;
  });
});

describe('matchutils: validateNetworkServiceEndpoint', () => {
  const valid = (patch: Partial<NetworkServiceEndpoint> = {}): NetworkServiceEndpoint =>
    NetworkServiceEndpoint.create({ name: 'nse-1', url: 'tcp://127.0.0.1:5001', networkServiceNames: ['ns'], ...patch });

  it('accepts a valid endpoint, with a tcp or unix URL', () => {
    expect(validateNetworkServiceEndpoint(valid())).to.be.undefined;
    expect(validateNetworkServiceEndpoint(valid({ url: 'unix:///run/nsm/nse.sock', networkServiceNames: [] }))).to.be.undefined;
  });

  it('requires a name', () => {
    expect(validateNetworkServiceEndpoint(valid({ name: '' }))).to.equal('NetworkServiceEndpoint.name is empty');
  });

  it('requires a URL', () => {
    expect(validateNetworkServiceEndpoint(valid({ url: '' }))).to.equal('NetworkServiceEndpoint "nse-1": url is empty');
  });

  it('requires the URL to be an address and reports why it is not', () => {
    const problem = validateNetworkServiceEndpoint(valid({ url: 'http://example.com' }));
    expect(problem).to.match(/^NetworkServiceEndpoint "nse-1": url is not an address: /);
    expect(problem).to.include('invalid address "http://example.com": expected unix:///path or tcp://host:port');
    expect(validateNetworkServiceEndpoint(valid({ url: 'tcp://host' }))).to.include('with a port from 0 to 65535');
    expect(validateNetworkServiceEndpoint(valid({ url: 'unix://relative.sock' }))).to.include('absolute path');
  });

  it('rejects an empty network service name, naming its index', () => {
    expect(validateNetworkServiceEndpoint(valid({ networkServiceNames: ['ns', ''] }))).to.equal(
      'NetworkServiceEndpoint "nse-1": network_service_names[1] is empty',
    );
  });
});
