import { expect } from 'chai';
import { parseNetworkServiceURL, parseNetworkServiceURLs } from '../../../src/tools/nsurl/index.js';

describe('network service URLs', () => {
  it('parses mechanism, service, interface and labels', () => {
    expect(parseNetworkServiceURL('kernel://icmp-responder/nsm-1?app=foo&zone=a')).to.deep.equal({
      mechanism: 'KERNEL',
      networkService: 'icmp-responder',
      interfaceName: 'nsm-1',
      labels: { app: 'foo', zone: 'a' },
    });
    expect(parseNetworkServiceURL('memif://ns-first@my.example.com')).to.deep.include({
      mechanism: 'MEMIF',
      networkService: 'ns-first@my.example.com',
      interfaceName: '',
    });
  });

  it('parses a comma-separated list', () => {
    const urls = parseNetworkServiceURLs('kernel://a/nsm-1, kernel://b/nsm-2');
    expect(urls.map((u) => `${u.networkService}:${u.interfaceName}`)).to.deep.equal(['a:nsm-1', 'b:nsm-2']);
  });

  it('rejects an unknown scheme and malformed URLs with a message naming them', () => {
    expect(() => parseNetworkServiceURL('carrier-pigeon://ns')).to.throw(/unknown mechanism "carrier-pigeon"/);
    expect(() => parseNetworkServiceURL('icmp-responder')).to.throw(/invalid network service URL "icmp-responder"/);
    expect(() => parseNetworkServiceURL('kernel://ns/a/b')).to.throw(/one path segment/);
  });
});
