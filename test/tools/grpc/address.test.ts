import { expect } from 'chai';
import { grpcTarget, isWildcard, listenTargets, parseAddress, publishedAddress, withHost } from '../../../src/tools/grpc/address.js';

describe('parseAddress', () => {
  it('parses unix and tcp URLs', () => {
    expect(parseAddress('unix:///run/nsm/nsm.sock')).to.deep.include({ kind: 'unix', path: '/run/nsm/nsm.sock' });
    expect(parseAddress('tcp://127.0.0.1:5001')).to.deep.include({ kind: 'tcp', host: '127.0.0.1', port: 5001 });
    expect(parseAddress('tcp://[::1]:0')).to.deep.include({ kind: 'tcp', host: '::1', port: 0, url: 'tcp://[::1]:0' });
    expect(grpcTarget(parseAddress('tcp://[::1]:7'))).to.equal('[::1]:7');
    expect(grpcTarget(parseAddress('unix:///tmp/a.sock'))).to.equal('unix:///tmp/a.sock');
  });

  it('takes tcp://:port as every interface: bound on the IPv6 then the IPv4 any address, dialed as localhost', () => {
    const any = parseAddress('tcp://:5001');
    expect(any).to.deep.include({ kind: 'tcp', host: '', port: 5001, url: 'tcp://:5001' });
    expect(listenTargets(any)).to.deep.equal(['[::]:5001', '0.0.0.0:5001']);
    expect(grpcTarget(any)).to.equal('localhost:5001');
    expect(isWildcard(any)).to.equal(true);
    expect(isWildcard(parseAddress('tcp://0.0.0.0:1'))).to.equal(true);
    expect(isWildcard(parseAddress('tcp://127.0.0.1:1'))).to.equal(false);
    expect(isWildcard(parseAddress('unix:///a.sock'))).to.equal(false);
    expect(withHost(any, '10.0.0.5').url).to.equal('tcp://10.0.0.5:5001');
    expect(listenTargets(parseAddress('tcp://127.0.0.1:7'))).to.deep.equal(['127.0.0.1:7']);
    expect(publishedAddress(any, '10.0.0.5').url).to.equal('tcp://10.0.0.5:5001');
    expect(publishedAddress(parseAddress('tcp://0.0.0.0:7'), '10.0.0.5').url).to.equal('tcp://10.0.0.5:7');
    expect(publishedAddress(any).url, 'no public host: as given').to.equal('tcp://:5001');
    expect(publishedAddress(parseAddress('tcp://127.0.0.1:7'), '10.0.0.5').url).to.equal('tcp://127.0.0.1:7');
  });

  for (const bad of ['', 'http://x:1', 'unix://relative.sock', 'tcp://host', 'tcp://host:99999', 'tcp://:99999', 'tcp://:', 'tcp://h:5/path', '127.0.0.1:5000']) {
    it(`rejects "${bad}" with a message naming it`, () => {
      expect(() => parseAddress(bad)).to.throw(`invalid address "${bad}"`);
    });
  }
});
