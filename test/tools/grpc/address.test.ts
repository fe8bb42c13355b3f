import { expect } from 'chai';
import { grpcTarget, parseAddress } from '../../../src/tools/grpc/address.js';

describe('parseAddress', () => {
  it('parses unix and tcp URLs', () => {
    expect(parseAddress('unix:///run/nsm/nsm.sock')).to.deep.include({ kind: 'unix', path: '/run/nsm/nsm.sock' });
    expect(parseAddress('tcp://127.0.0.1:5001')).to.deep.include({ kind: 'tcp', host: '127.0.0.1', port: 5001 });
    expect(parseAddress('tcp://[::1]:0')).to.deep.include({ kind: 'tcp', host: '::1', port: 0, url: 'tcp://[::1]:0' });
    expect(grpcTarget(parseAddress('tcp://[::1]:7'))).to.equal('[::1]:7');
    expect(grpcTarget(parseAddress('unix:///tmp/a.sock'))).to.equal('unix:///tmp/a.sock');
  });

  for (const bad of ['', 'http://x:1', 'unix://relative.sock', 'tcp://host', 'tcp://host:99999', 'tcp://:5', 'tcp://h:5/path', '127.0.0.1:5000']) {
    it(`rejects "${bad}" with a message naming it`, () => {
      expect(() => parseAddress(bad)).to.throw(`invalid address "${bad}"`);
    });
  }
});
