import { expect } from 'chai';
import { Connection, MonitorScopeSelector, type PathSegment } from '../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../src/api/gen/networkservice.js';
import {
  cloneConnection,
  cloneRequest,
  filterConnectionsByScopeSelector,
  getCurrentPathSegment,
  getNextPathSegment,
  getPrevPathSegment,
  matchesMonitorScopeSelector,
  millisFromTimestamp,
  timestampFromMillis,
} from '../../src/api/path.js';

type Seg = { name?: string; id?: string; token?: string };

function conn(index: number, segments: Seg[], networkService = ''): Connection {
  return Connection.fromPartial({ networkService, path: { index, pathSegments: segments } });
}

const three = [
  { name: 's0', id: 'id0' },
  { name: 's1', id: 'id1' },
  { name: 's2', id: 'id2' },
];

describe('api/path', () => {
  describe('getCurrentPathSegment', () => {
    it('returns undefined for a missing connection, a missing path and an empty path', () => {
      expect(getCurrentPathSegment(undefined)).to.equal(undefined);
      expect(getCurrentPathSegment(null)).to.equal(undefined);
      expect(getCurrentPathSegment(Connection.create())).to.equal(undefined);
      expect(getCurrentPathSegment(conn(0, []))).to.equal(undefined);
    });

    it('returns the segment at the index, the very object of the path', () => {
      const c = conn(1, three);
      expect(getCurrentPathSegment(c)).to.equal(c.path?.pathSegments[1]);
      expect(getCurrentPathSegment(conn(0, three))?.name).to.equal('s0');
      expect(getCurrentPathSegment(conn(2, three))?.name).to.equal('s2');
    });

    it('returns undefined when the index is past the last segment', () => {
      expect(getCurrentPathSegment(conn(3, three))).to.equal(undefined);
      expect(getCurrentPathSegment(conn(7, three))).to.equal(undefined);
    });
  });

  describe('getPrevPathSegment', () => {
    it('returns undefined for a missing connection or an empty path', () => {
      expect(getPrevPathSegment(undefined)).to.equal(undefined);
      expect(getPrevPathSegment(Connection.create())).to.equal(undefined);
      expect(getPrevPathSegment(conn(1, []))).to.equal(undefined);
    });

    it('returns undefined at index 0: the first hop has no previous one', () => {
      expect(getPrevPathSegment(conn(0, three))).to.equal(undefined);
    });

    it('returns the segment before the index', () => {
      expect(getPrevPathSegment(conn(1, three))?.name).to.equal('s0');
      expect(getPrevPathSegment(conn(2, three))?.name).to.equal('s1');
    });

    it('still returns the last segment when the index is one past the end (upstream checks index-1 > len)', () => {
      expect(getCurrentPathSegment(conn(3, three))).to.equal(undefined);
      expect(getPrevPathSegment(conn(3, three))?.name).to.equal('s2');
    });

    it('returns undefined where upstream would index out of range, and beyond', () => {
      // index-1 == len: upstream passes its check and would panic; here there is simply nothing there.
      expect(getPrevPathSegment(conn(4, three))).to.equal(undefined);
      expect(getPrevPathSegment(conn(5, three))).to.equal(undefined);
    });
  });

  describe('getNextPathSegment', () => {
    it('returns undefined for a missing connection or an empty path', () => {
      expect(getNextPathSegment(undefined)).to.equal(undefined);
      expect(getNextPathSegment(Connection.create())).to.equal(undefined);
      expect(getNextPathSegment(conn(0, []))).to.equal(undefined);
    });

    it('returns the segment after the index', () => {
      expect(getNextPathSegment(conn(0, three))?.name).to.equal('s1');
      expect(getNextPathSegment(conn(1, three))?.name).to.equal('s2');
    });

    it('returns undefined at the last segment and past it', () => {
      expect(getNextPathSegment(conn(2, three))).to.equal(undefined);
      expect(getNextPathSegment(conn(3, three))).to.equal(undefined);
      expect(getNextPathSegment(conn(0, three.slice(0, 1)))).to.equal(undefined);
    });
  });

  describe('matchesMonitorScopeSelector', () => {
    const twoWithTokens = [
      { name: 's1', id: 'id1', token: 't1' },
      { name: 's2', id: 'id2', token: 't2' },
    ];
    const selector = (pathSegments: Seg[], networkServices: string[] = []): MonitorScopeSelector =>
      MonitorScopeSelector.fromPartial({ pathSegments, networkServices });

    const pathCases: [string, Seg[], Seg[], boolean][] = [
      ['identical paths', twoWithTokens, twoWithTokens, true],
      ['a different name', [{ name: 's15', id: 'id1', token: 't1' }, twoWithTokens[1] as Seg], twoWithTokens, false],
      ['a different id', [{ name: 's1', id: 'id15', token: 't1' }, twoWithTokens[1] as Seg], twoWithTokens, false],
      ['a different token', twoWithTokens, [{ name: 's1', id: 'id1', token: 't15' }, twoWithTokens[1] as Seg], false],
      ['a selector longer than the path', three.slice(1), [...three.slice(1), { name: 's3', id: 'id3' }], false],
      ['a selector that is a prefix of the path', three, three.slice(0, 2), true],
      ['a selector in the middle of the path', three, [three[1] as Seg], true],
      ['a selector at the end of the path', three, three.slice(1), true],
      ['an empty id as a wildcard', three.slice(0, 2), [{ name: 's0', id: 'id0' }, { name: 's1', id: '' }], true],
      ['an empty name as a wildcard', three.slice(0, 2), [{ name: 's0', id: 'id0' }, { name: '', id: 'id1' }], true],
      ['empty name and token as wildcards', twoWithTokens, [twoWithTokens[0] as Seg, { id: 'id2' }], true],
      ['an all-empty segment as a wildcard for one hop', three, [{}, { name: 's1' }], true],
      ['segments matching but not contiguously', three, [{ name: 's0' }, { name: 's2' }], false],
      ['segments in the wrong order', three, [{ name: 's1' }, { name: 's0' }], false],
      ['a path segment selector against an empty path', [], [{ name: 's0' }], false],
    ];
    for (const [title, path, wanted, expected] of pathCases) {
      it(`${expected ? 'matches' : 'does not match'} with ${title}`, () => {
        expect(matchesMonitorScopeSelector(conn(0, path), selector(wanted))).to.equal(expected);
      });
    }

    it('ignores expires and metrics', () => {
      const c = Connection.fromPartial({
        path: { pathSegments: [{ name: 's0', id: 'id0', expires: { seconds: 1, nanos: 0 }, metrics: { a: '1' } }] },
      });
      const s = MonitorScopeSelector.fromPartial({
        pathSegments: [{ name: 's0', id: 'id0', expires: { seconds: 99, nanos: 5 }, metrics: { b: '2' } }],
      });
      expect(matchesMonitorScopeSelector(c, s)).to.equal(true);
    });

    it('never matches a missing connection, even with an empty selector', () => {
      expect(matchesMonitorScopeSelector(undefined, selector([]))).to.equal(false);
      expect(matchesMonitorScopeSelector(null, undefined)).to.equal(false);
    });

    it('matches any connection with an empty or missing selector', () => {
      expect(matchesMonitorScopeSelector(conn(0, twoWithTokens, 'ns1'), selector([]))).to.equal(true);
      expect(matchesMonitorScopeSelector(Connection.create(), undefined)).to.equal(true);
      expect(matchesMonitorScopeSelector(Connection.create(), null)).to.equal(true);
    });

    it('matches by network service alone, with or without a path', () => {
      expect(matchesMonitorScopeSelector(conn(0, twoWithTokens, 'ns1'), selector([], ['ns1']))).to.equal(true);
      expect(matchesMonitorScopeSelector(conn(0, twoWithTokens, 'ns1'), selector([], ['ns2', 'ns1', 'ns3']))).to.equal(
        true,
      );
      expect(matchesMonitorScopeSelector(Connection.fromPartial({ networkService: 'ns1' }), selector([], ['ns1']))).to.equal(
        true,
      );
      expect(matchesMonitorScopeSelector(conn(0, twoWithTokens, 'ns1'), selector([], ['ns2']))).to.equal(false);
      expect(matchesMonitorScopeSelector(conn(0, twoWithTokens, 'ns1'), selector([], ['ns2', 'ns3', 'ns0']))).to.equal(
        false,
      );
      expect(matchesMonitorScopeSelector(Connection.fromPartial({ networkService: 'ns1' }), selector([], ['ns2']))).to.equal(
        false,
      );
    });

    it('needs both the network service and the path to match when both are given', () => {
      const c = conn(0, twoWithTokens, 'ns1');
      expect(matchesMonitorScopeSelector(c, selector(twoWithTokens, ['ns1']))).to.equal(true);
      expect(matchesMonitorScopeSelector(c, selector(twoWithTokens, ['ns2', 'ns1']))).to.equal(true);
      expect(matchesMonitorScopeSelector(c, selector(twoWithTokens, ['ns2']))).to.equal(false);
      expect(matchesMonitorScopeSelector(c, selector([{ name: 'other' }], ['ns1']))).to.equal(false);
    });
  });

  describe('filterConnectionsByScopeSelector', () => {
    const a = conn(0, [{ name: 'nsc', id: 'a' }], 'ns1');
    const b = conn(0, [{ name: 'nsc', id: 'b' }], 'ns2');
    const sel = MonitorScopeSelector.fromPartial({ networkServices: ['ns1'] });

    it('keeps the matching entries of a record under their keys, in a new record', () => {
      const input: Record<string, Connection | undefined> = { ka: a, kb: b, kn: undefined };
      const out = filterConnectionsByScopeSelector(input, sel);
      expect(out).to.deep.equal({ ka: a });
      expect(out.ka).to.equal(a);
      expect(out).to.not.equal(input);
      expect(Object.keys(input)).to.have.length(3);
    });

    it('keeps the matching entries of a Map, in a new Map', () => {
      const input = new Map<string, Connection | undefined>([
        ['ka', a],
        ['kb', b],
        ['kn', undefined],
      ]);
      const out = filterConnectionsByScopeSelector(input, sel);
      expect(out).to.be.instanceOf(Map);
      expect([...out.keys()]).to.deep.equal(['ka']);
      expect(out.get('ka')).to.equal(a);
      expect(input.size).to.equal(3);
    });

    it('keeps every present entry with an empty selector and drops missing ones', () => {
      const out = filterConnectionsByScopeSelector({ ka: a, kb: b, kn: undefined }, MonitorScopeSelector.create());
      expect(Object.keys(out).sort()).to.deep.equal(['ka', 'kb']);
    });

    it('keeps a key named __proto__ as an ordinary key', () => {
      const input: Record<string, Connection> = Object.fromEntries([['__proto__', a]]);
      const out = filterConnectionsByScopeSelector(input, sel);
      expect(Object.keys(out)).to.deep.equal(['__proto__']);
      expect(Object.getPrototypeOf(out)).to.equal(Object.prototype);
    });
  });

  describe('cloneConnection / cloneRequest', () => {
    const original = (): Connection =>
      Connection.fromPartial({
        id: 'c',
        labels: { app: 'x' },
        mechanism: { cls: 'LOCAL', type: 'KERNEL', parameters: { name: 'nsm-1' } },
        context: { ipContext: { srcIpAddrs: ['10.0.0.1/32'] } },
        path: { index: 1, pathSegments: [{ name: 'a', id: '1', expires: { seconds: 5, nanos: 6 }, metrics: { m: '1' } }] },
      });

    it('copies every nested part', () => {
      const c = original();
      const copy = cloneConnection(c);
      expect(copy).to.deep.equal(c);
      copy.labels.app = 'y';
      (copy.mechanism as { parameters: Record<string, string> }).parameters.name = 'other';
      copy.context?.ipContext?.srcIpAddrs.push('10.0.0.2/32');
      const seg = copy.path?.pathSegments[0] as PathSegment;
      seg.name = 'changed';
      seg.metrics.m = '2';
      (seg.expires as { seconds: number }).seconds = 99;
      copy.path?.pathSegments.push(seg);
      expect(c).to.deep.equal(original());
    });

    it('copies a request with its connection and mechanism preferences', () => {
      const request = NetworkServiceRequest.fromPartial({
        connection: original(),
        mechanismPreferences: [{ cls: 'LOCAL', type: 'KERNEL', parameters: { name: 'p' } }],
      });
      const copy = cloneRequest(request);
      expect(copy).to.deep.equal(request);
      (copy.connection as Connection).id = 'other';
      (copy.mechanismPreferences[0] as { parameters: Record<string, string> }).parameters.name = 'q';
      copy.mechanismPreferences.push(copy.mechanismPreferences[0] as never);
      expect(request.connection?.id).to.equal('c');
      expect(request.mechanismPreferences).to.have.length(1);
      expect(request.mechanismPreferences[0]?.parameters.name).to.equal('p');
    });
  });

  describe('timestamps', () => {
    it('converts whole and fractional milliseconds', () => {
      expect(timestampFromMillis(0)).to.deep.equal({ seconds: 0, nanos: 0 });
      expect(timestampFromMillis(1_767_225_600_123)).to.deep.equal({ seconds: 1_767_225_600, nanos: 123_000_000 });
      expect(timestampFromMillis(1500.25)).to.deep.equal({ seconds: 1, nanos: 500_250_000 });
    });

    it('keeps nanos non-negative before the epoch', () => {
      expect(timestampFromMillis(-1)).to.deep.equal({ seconds: -1, nanos: 999_000_000 });
      expect(timestampFromMillis(-1000)).to.deep.equal({ seconds: -1, nanos: 0 });
    });

    it('never yields a billion nanos when a fraction rounds up', () => {
      const ts = timestampFromMillis(999.9999999);
      expect(ts.nanos).to.be.lessThan(1_000_000_000);
      expect(ts).to.deep.equal({ seconds: 1, nanos: 0 });
    });

    it('rejects non-finite input', () => {
      expect(() => timestampFromMillis(Number.NaN)).to.throw(RangeError);
      expect(() => timestampFromMillis(Number.POSITIVE_INFINITY)).to.throw(RangeError);
    });

    it('reads milliseconds back, dropping sub-millisecond nanos', () => {
      expect(millisFromTimestamp({ seconds: 1_767_225_600, nanos: 123_000_000 })).to.equal(1_767_225_600_123);
      expect(millisFromTimestamp({ seconds: 1, nanos: 500 })).to.equal(1000);
      expect(millisFromTimestamp({ seconds: 1, nanos: 1_999_999 })).to.equal(1001);
      expect(millisFromTimestamp({ seconds: -1, nanos: 999_000_000 })).to.equal(-1);
    });

    it('round-trips whole milliseconds', () => {
      for (const ms of [0, 1, 999, 1000, 1_767_225_600_001, -1, -1001]) {
        expect(millisFromTimestamp(timestampFromMillis(ms))).to.equal(ms);
      }
    });
  });
});
