import { expect } from 'chai';
import {
  formatIP,
  hostCIDR,
  IPPool,
  parseCIDR,
  parseIP,
  tryParseCIDR,
} from '../../../src/tools/ippool/index.js';

function ip(text: string): bigint {
  const parsed = parseIP(text);
  if (parsed === undefined) throw new Error(`test bug: ${text}`);
  return parsed.value;
}

describe('ippool: addresses', () => {
  it('parses IPv4 and IPv6 addresses into bigints', () => {
    expect(parseIP('10.0.0.1')).to.deep.equal({ family: 4, value: 0x0a000001n });
    expect(parseIP('255.255.255.255')).to.deep.equal({ family: 4, value: 0xffffffffn });
    expect(parseIP('::')).to.deep.equal({ family: 6, value: 0n });
    expect(parseIP('::1')).to.deep.equal({ family: 6, value: 1n });
    expect(parseIP('fd00::1:2')).to.deep.equal({ family: 6, value: (0xfd00n << 112n) | (1n << 16n) | 2n });
    expect(parseIP('1:2:3:4:5:6:7:8')?.value).to.equal(0x00010002000300040005000600070008n);
    expect(parseIP('::ffff:192.0.2.1')?.value).to.equal((0xffffn << 32n) | 0xc0000201n);
    expect(parseIP('FE80::ABCD')?.value).to.equal((0xfe80n << 112n) | 0xabcdn);
  });

  it('refuses malformed addresses', () => {
    for (const bad of [
      '',
      '10.0.0',
      '10.0.0.256',
      '10.0.0.01',
      '10.0.0.1.2',
      'a.b.c.d',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7::8',
      '12345::',
      'fe80::1%eth0',
      '::ffff:1.2.3',
    ]) {
      expect(parseIP(bad), bad).to.equal(undefined);
    }
  });

  it('formats addresses canonically (RFC 5952 for IPv6) and round-trips them', () => {
    expect(formatIP(ip('10.1.2.3'), 4)).to.equal('10.1.2.3');
    expect(formatIP(0n, 6)).to.equal('::');
    expect(formatIP(1n, 6)).to.equal('::1');
    expect(formatIP(ip('fd00:0:0:0:0:0:0:0'), 6)).to.equal('fd00::');
    expect(formatIP(ip('2001:db8:0:0:1:0:0:1'), 6)).to.equal('2001:db8::1:0:0:1');
    expect(formatIP(ip('2001:db8:0:1:1:1:1:1'), 6)).to.equal('2001:db8:0:1:1:1:1:1');
    expect(formatIP(ip('2001:0db8:0000:0000:0000:ff00:0042:8329'), 6)).to.equal('2001:db8::ff00:42:8329');
    expect(formatIP(ip('::ffff:10.0.0.1'), 6)).to.equal('::ffff:10.0.0.1');
    for (const text of ['fd00::', '1:0:0:1::', '::1:0:0:1', 'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '0.0.0.0', '1.2.3.4']) {
      const parsed = parseIP(text);
      expect(parsed !== undefined && formatIP(parsed.value, parsed.family), text).to.equal(text);
    }
    expect(() => formatIP(1n << 32n, 4)).to.throw(RangeError);
    expect(hostCIDR(ip('10.0.0.9'), 4)).to.equal('10.0.0.9/32');
    expect(hostCIDR(ip('fd00::9'), 6)).to.equal('fd00::9/128');
  });

  it('parses CIDRs, keeping the written address and computing the network bounds', () => {
    const net = parseCIDR('192.168.3.4/16');
    expect(net.family).to.equal(4);
    expect(net.ip).to.equal(ip('192.168.3.4'));
    expect(net.first).to.equal(ip('192.168.0.0'));
    expect(net.last).to.equal(ip('192.168.255.255'));
    expect(net.size).to.equal(65536n);
    expect(net.toString()).to.equal('192.168.0.0/16');
    expect(net.toHostString()).to.equal('192.168.3.4/16');

    const v6 = parseCIDR('fd00::1/120');
    expect(v6.first).to.equal(ip('fd00::'));
    expect(v6.last).to.equal(ip('fd00::ff'));
    expect(v6.toString()).to.equal('fd00::/120');
    expect(parseCIDR('0.0.0.0/0').size).to.equal(1n << 32n);
  });

  it('refuses malformed CIDRs with an error that quotes the input', () => {
    for (const bad of ['10.0.0.0', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/-1', '10.0.0.0/', 'x/24', '10.0.0.0/08']) {
      expect(tryParseCIDR(bad), bad).to.equal(undefined);
      expect(() => parseCIDR(bad)).to.throw(Error, `"${bad}"`);
    }
  });

  it('gives hosts without network and broadcast only for IPv4 prefixes shorter than /31', () => {
    expect(parseCIDR('10.0.0.0/24').hosts()).to.deep.equal({ start: ip('10.0.0.1'), end: ip('10.0.0.254') });
    expect(parseCIDR('10.0.0.0/31').hosts()).to.deep.equal({ start: ip('10.0.0.0'), end: ip('10.0.0.1') });
    expect(parseCIDR('10.0.0.7/32').hosts()).to.deep.equal({ start: ip('10.0.0.7'), end: ip('10.0.0.7') });
    expect(parseCIDR('fd00::/120').hosts()).to.deep.equal({ start: ip('fd00::'), end: ip('fd00::ff') });
  });

  it('tells containment and overlap of networks, per family', () => {
    const net = parseCIDR('10.0.0.0/24');
    expect(net.contains({ family: 4, value: ip('10.0.0.200') })).to.equal(true);
    expect(net.contains({ family: 4, value: ip('10.0.1.0') })).to.equal(false);
    expect(net.contains({ family: 6, value: ip('10.0.0.200') })).to.equal(false);
    expect(net.overlaps(parseCIDR('10.0.0.128/25'))).to.equal(true);
    expect(net.overlaps(parseCIDR('10.0.0.0/8'))).to.equal(true);
    expect(net.overlaps(parseCIDR('10.0.1.0/24'))).to.equal(false);
    expect(parseCIDR('::/0').overlaps(net)).to.equal(false);
  });
});

describe('ippool: IPPool', () => {
  it('allocates the lowest free address first and never the same one twice', () => {
    const pool = IPPool.of('10.0.0.0/30');
    const got = [pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()];
    expect(got).to.deep.equal([ip('10.0.0.0'), ip('10.0.0.1'), ip('10.0.0.2'), ip('10.0.0.3'), undefined]);
    expect(pool.isEmpty()).to.equal(true);
    expect(pool.size).to.equal(0n);
  });

  it('gives a released address out again, lowest first', () => {
    const pool = IPPool.of('fd00::/126');
    const a = pool.allocate();
    const b = pool.allocate();
    expect([a, b]).to.deep.equal([ip('fd00::'), ip('fd00::1')]);
    pool.release('fd00::');
    expect(pool.contains('fd00::')).to.equal(true);
    expect(pool.allocate()).to.equal(ip('fd00::'));
    expect(pool.allocate()).to.equal(ip('fd00::2'));
  });

  it('merges adjacent and overlapping ranges and splits on exclusion', () => {
    const pool = new IPPool(4);
    pool.add('10.0.0.0/25').add('10.0.0.128/25');
    expect(pool.getRanges()).to.deep.equal([{ start: ip('10.0.0.0'), end: ip('10.0.0.255') }]);
    pool.exclude('10.0.0.64/26');
    expect(pool.toPrefixes()).to.deep.equal(['10.0.0.0/26', '10.0.0.128/25']);
    pool.add('10.0.0.0/24');
    expect(pool.toPrefixes()).to.deep.equal(['10.0.0.0/24']);
    pool.exclude('10.0.0.0/32').exclude('10.0.0.255/32');
    expect(pool.toPrefixes()).to.deep.equal([
      '10.0.0.1/32',
      '10.0.0.2/31',
      '10.0.0.4/30',
      '10.0.0.8/29',
      '10.0.0.16/28',
      '10.0.0.32/27',
      '10.0.0.64/26',
      '10.0.0.128/26',
      '10.0.0.192/27',
      '10.0.0.224/28',
      '10.0.0.240/29',
      '10.0.0.248/30',
      '10.0.0.252/31',
      '10.0.0.254/32',
    ]);
    expect(pool.size).to.equal(254n);
  });

  it('excludes ranges spanning several free ranges', () => {
    const pool = new IPPool(4).addRange(1n, 3n).addRange(6n, 8n).addRange(11n, 13n);
    pool.excludeRange(2n, 12n);
    expect(pool.getRanges()).to.deep.equal([
      { start: 1n, end: 1n },
      { start: 13n, end: 13n },
    ]);
  });

  it('ignores exclusions of the other family and refuses to add one', () => {
    const pool = IPPool.of('10.0.0.0/30');
    pool.exclude('::/0');
    expect(pool.size).to.equal(4n);
    expect(() => pool.add('fd00::/64')).to.throw(Error, 'IPv4 pool');
    expect(() => IPPool.of('10.0.0.0/24', 'fd00::/64')).to.throw(Error);
  });

  it('skips avoided addresses when allocating, without removing them from the pool', () => {
    const pool = IPPool.of('192.168.1.0/29');
    const avoid = new IPPool(4).add('192.168.1.0/31').add('192.168.1.3/32');
    expect(pool.allocate(avoid)).to.equal(ip('192.168.1.2'));
    expect(pool.allocate(avoid)).to.equal(ip('192.168.1.4'));
    expect(pool.contains('192.168.1.0')).to.equal(true);
    expect(pool.allocate()).to.equal(ip('192.168.1.0'));
    const all = IPPool.of('192.168.1.0/24');
    expect(pool.allocate(all)).to.equal(undefined);
    // An avoid pool of the other family does not get in the way.
    expect(pool.allocate(IPPool.of('::/0'))).to.equal(ip('192.168.1.1'));
  });

  it('takes a specific free address only once', () => {
    const pool = IPPool.of('10.0.0.0/24');
    expect(pool.take('10.0.0.7')).to.equal(true);
    expect(pool.take('10.0.0.7/32')).to.equal(false);
    expect(pool.contains('10.0.0.7')).to.equal(false);
    expect(pool.take('10.0.1.7')).to.equal(false);
    expect(pool.take('fd00::7')).to.equal(false);
    expect(pool.take('10.0.0.8/24')).to.equal(false);
  });

  it('answers contains and overlaps about free addresses only', () => {
    const pool = IPPool.of('10.0.0.0/24');
    pool.exclude('10.0.0.0/25');
    expect(pool.contains('10.0.0.1')).to.equal(false);
    expect(pool.contains('10.0.0.200')).to.equal(true);
    expect(pool.contains(ip('10.0.0.200'))).to.equal(true);
    expect(pool.contains('not an ip')).to.equal(false);
    expect(pool.contains('fd00::1')).to.equal(false);
    expect(pool.overlaps('10.0.0.0/25')).to.equal(false);
    expect(pool.overlaps('10.0.0.0/24')).to.equal(true);
    expect(pool.overlaps('10.0.0.255/32')).to.equal(true);
    expect(pool.overlaps('10.0.1.0/24')).to.equal(false);
    expect(pool.overlaps('::/0')).to.equal(false);
  });

  it('clones independently', () => {
    const pool = IPPool.of('10.0.0.0/31');
    const copy = pool.clone();
    expect(copy.allocate()).to.equal(ip('10.0.0.0'));
    expect(pool.contains('10.0.0.0')).to.equal(true);
    expect(copy.contains('10.0.0.0')).to.equal(false);
  });

  it('handles whole address spaces without enumerating them', () => {
    const v6 = IPPool.of('::/0');
    expect(v6.size).to.equal(1n << 128n);
    expect(v6.toPrefixes()).to.deep.equal(['::/0']);
    v6.exclude('::/1');
    expect(v6.allocate()).to.equal(1n << 127n);
    expect(v6.lowestFree()).to.equal((1n << 127n) + 1n);
    const v4 = IPPool.of('0.0.0.0/0');
    v4.exclude('0.0.0.0/32');
    expect(v4.toPrefixes()[0]).to.equal('0.0.0.1/32');
    expect(v4.toPrefixes().at(-1)).to.equal('128.0.0.0/1');
  });

  it('refuses to release text that is no address of its family', () => {
    const pool = new IPPool(4);
    expect(() => pool.release('fd00::1')).to.throw(Error, 'fd00::1');
    expect(() => pool.addRange(5n, 4n)).to.throw(RangeError);
    expect(() => pool.addRange(0n, 1n << 32n)).to.throw(RangeError);
  });
});
