import { expect } from 'chai';
import { Connection } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { timestampFromMillis } from '../../../../src/api/path.js';
import { beginClient } from '../../../../src/networkservice/common/begin/index.js';
import { metadataClient } from '../../../../src/networkservice/common/metadata/index.js';
import { refreshClient, refreshDelay, type RefreshClient, type RefreshOptions } from '../../../../src/networkservice/common/refresh/index.js';
import { chain, type NetworkServiceChain } from '../../../../src/networkservice/core/chain.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { FakeClock } from '../../../../src/tools/clock/index.js';
import { statusError, status } from '../../../../src/tools/grpc/status.js';
import { createLogger, type LogLevel } from '../../../../src/tools/log/index.js';
import { FakeNext, tick } from '../../../helpers/fake-next.js';

const START = Date.UTC(2026, 5, 1);

/** A connection whose segments expire `lifetimes` ms after `now` (undefined: no expiry). */
function withPath(id: string, now: number, lifetimes: readonly (number | undefined)[], index = 0): Connection {
  return Connection.fromPartial({
    id,
    networkService: 'ns',
    path: {
      index,
      pathSegments: lifetimes.map((lifetime, i) => ({
        name: `hop-${i}`,
        id: `${id}-${i}`,
        token: `token-${i}`,
        ...(lifetime === undefined ? {} : { expires: timestampFromMillis(now + lifetime) }),
      })),
    },
  });
}

interface Setup {
  readonly clock: FakeClock;
  readonly ctx: ChainContext;
  readonly next: FakeNext;
  readonly refresh: RefreshClient;
  readonly chain: NetworkServiceChain;
  /** Clock times (ms after START) at which next saw a Request. */
  readonly times: number[];
  readonly logs: { level: LogLevel; line: string }[];
}

/** begin → metadata → refresh → a next that answers with segments of the given lifetimes. */
function setup(lifetimes: readonly (number | undefined)[], index = 0, options?: RefreshOptions): Setup {
  const clock = new FakeClock(START);
  const logs: { level: LogLevel; line: string }[] = [];
  const ctx = ChainContext.background({ clock, logger: createLogger('debug', (level, line) => logs.push({ level, line })) });
  const refresh = refreshClient(options);
  const next = new FakeNext();
  const times: number[] = [];
  next.onRequest = (request) => {
    times.push(clock.now() - START);
    return Promise.resolve(withPath(request.connection?.id ?? '', clock.now(), lifetimes, index));
  };
  return { clock, ctx, next, refresh, chain: chain(beginClient(), metadataClient(), refresh), times, logs };
}

const request = (id = 'c1'): NetworkServiceRequest => NetworkServiceRequest.fromPartial({ connection: { id, networkService: 'ns' } });

/** Moves the fake clock and lets the events it started run. */
async function advance(clock: FakeClock, ms: number): Promise<void> {
  clock.advance(ms);
  await tick();
}

describe('refresh', function () {
  describe('refreshDelay', function () {
    it('is a third of the shortest lifetime for one segment, 0.2 + 0.2·index/length of it otherwise', function () {
      expect(refreshDelay(withPath('a', START, [3000]), START)).to.equal(1000);
      expect(refreshDelay(withPath('a', START, [5000, 5000, 5000], 0), START)).to.equal(1000);
      // index 2 of 3: 0.2 + 0.2·2/3 = 1/3.
      expect(refreshDelay(withPath('a', START, [6000, 6000, 6000], 2), START)).to.equal(2000);
      // index 1 of 2: 0.3.
      expect(refreshDelay(withPath('a', START, [10_000, 10_000], 1), START)).to.equal(3000);
    });

    it('takes the shortest lifetime, ignores segments without expiry, and is measured from now', function () {
      expect(refreshDelay(withPath('a', START, [60_000, 5000, undefined], 0), START)).to.equal(1000);
      expect(refreshDelay(withPath('a', START, [undefined, 3000]), START), 'one segment with an expiry, two segments').to.equal(600);
      expect(refreshDelay(withPath('a', START, [3000]), START + 1500)).to.equal(500);
    });

    it('is undefined without any expiry and 0 for an expired token', function () {
      expect(refreshDelay(withPath('a', START, [undefined, undefined]), START)).to.equal(undefined);
      expect(refreshDelay(Connection.fromPartial({ id: 'a' }), START)).to.equal(undefined);
      expect(refreshDelay(withPath('a', START, [3000]), START + 4000)).to.equal(0);
    });
  });

  it('refreshes a one-segment path at a third of its lifetime, not before', async function () {
    const s = setup([3000]);
    await s.chain.request(request(), s.ctx, s.next);
    expect(s.refresh.size).to.equal(1);
    await advance(s.clock, 999);
    expect(s.times).to.deep.equal([0]);
    await advance(s.clock, 1);
    expect(s.times).to.deep.equal([0, 1000]);
  });

  it('refreshes a three-segment path at index 0 at 0.2 of the shortest lifetime', async function () {
    const s = setup([5000, 8000, 5000], 0);
    await s.chain.request(request(), s.ctx, s.next);
    await advance(s.clock, 999);
    expect(s.times).to.deep.equal([0]);
    await advance(s.clock, 1);
    expect(s.times).to.deep.equal([0, 1000]);
  });

  it('the refresh goes through the chain again and schedules the next one', async function () {
    const s = setup([3000]);
    await s.chain.request(request(), s.ctx, s.next);
    for (let i = 0; i < 5; i++) await advance(s.clock, 1000);
    expect(s.times).to.deep.equal([0, 1000, 2000, 3000, 4000, 5000]);
    expect(s.clock.pending).to.equal(1);
    expect(s.refresh.size).to.equal(1);
    // The refresh re-sends the last request: same connection id.
    expect(s.next.requests.map((r) => r.request.connection?.id)).to.deep.equal(Array(6).fill('c1'));
  });

  it("a caller's re-request replaces the pending refresh with one computed from the new answer", async function () {
    const s = setup([3000]);
    await s.chain.request(request(), s.ctx, s.next);
    await advance(s.clock, 600);
    await s.chain.request(request(), s.ctx, s.next);
    expect(s.clock.pending).to.equal(1);
    await advance(s.clock, 999);
    expect(s.times).to.deep.equal([0, 600]);
    await advance(s.clock, 1);
    expect(s.times).to.deep.equal([0, 600, 1600]);
  });

  it('retries a failing refresh every retryDelayMs, then gives up before the token expires', async function () {
    const s = setup([3000]);
    await s.chain.request(request(), s.ctx, s.next);
    s.next.onRequest = (): Promise<Connection> => {
      s.times.push(s.clock.now() - START);
      return Promise.reject(statusError(status.UNAVAILABLE, 'next hop is down'));
    };
    for (let t = 0; t < 4000; t += 100) await advance(s.clock, 100);
    // At 2800 another try (at 3000) would come too late.
    expect(s.times).to.deep.equal([0, 1000, 1200, 1400, 1600, 1800, 2000, 2200, 2400, 2600, 2800]);
    expect(s.logs.filter((l) => l.level === 'warn' && l.line.includes('refresh failed'))).to.have.length(9);
    expect(s.logs.filter((l) => l.level === 'error' && l.line.includes('giving up'))).to.have.length(1);
    expect(s.clock.pending).to.equal(0);
    expect(s.refresh.size).to.equal(0);
    await advance(s.clock, 10_000);
    expect(s.times).to.have.length(11);
    // The connection is still there: Close reaches next.
    await s.chain.close(withPath('c1', START, [3000]), s.ctx, s.next);
    expect(s.next.closes).to.have.length(1);
  });

  it('a refresh that works again after failures schedules the next refresh normally', async function () {
    const s = setup([3000], 0, { retryDelayMs: 300 });
    const answer = s.next.onRequest;
    await s.chain.request(request(), s.ctx, s.next);
    let failures = 2;
    s.next.onRequest = (req, rctx): Promise<Connection> => {
      if (failures-- > 0) {
        s.times.push(s.clock.now() - START);
        return Promise.reject(new Error('down'));
      }
      return answer!(req, rctx);
    };
    for (let t = 0; t < 2600; t += 100) await advance(s.clock, 100);
    // Fails at 1000 and 1300, works at 1600, next refresh a third of 3000 later.
    expect(s.times).to.deep.equal([0, 1000, 1300, 1600, 2600]);
  });

  it('Close cancels the refresh: nothing pending, no more requests', async function () {
    const s = setup([3000]);
    const conn = await s.chain.request(request(), s.ctx, s.next);
    expect(s.clock.pending).to.equal(1);
    await s.chain.close(conn, s.ctx, s.next);
    expect(s.clock.pending).to.equal(0);
    expect(s.refresh.size).to.equal(0);
    await advance(s.clock, 10_000);
    expect(s.times).to.deep.equal([0]);
  });

  it('Close while a refresh is failing stops the retries', async function () {
    const s = setup([3000]);
    const conn = await s.chain.request(request(), s.ctx, s.next);
    s.next.onRequest = (): Promise<Connection> => {
      s.times.push(s.clock.now() - START);
      return Promise.reject(new Error('down'));
    };
    await advance(s.clock, 1000);
    expect(s.clock.pending).to.equal(1); // the retry
    await s.chain.close(conn, s.ctx, s.next);
    expect(s.clock.pending).to.equal(0);
    await advance(s.clock, 10_000);
    expect(s.times).to.deep.equal([0, 1000]);
  });

  it('a refresh that fires behind a queued Close is dropped quietly', async function () {
    const s = setup([3000]);
    const conn = await s.chain.request(request(), s.ctx, s.next);
    // A re-request of the caller is stuck downstream; its Close queues behind it in begin; then the timer fires.
    let release!: () => void;
    const answer = s.next.onRequest;
    s.next.onRequest = (req, rctx) => new Promise<void>((resolve) => (release = resolve)).then(() => answer!(req, rctx));
    const rerequest = s.chain.request(request(), s.ctx, s.next);
    const closing = s.chain.close(conn, s.ctx, s.next);
    await advance(s.clock, 1000);
    release();
    await rerequest;
    await closing;
    await tick();
    expect(s.next.requests).to.have.length(2); // the refresh found the connection closed and sent nothing
    expect(s.logs.filter((l) => l.level === 'warn' || l.level === 'error')).to.deep.equal([]);
    expect(s.clock.pending).to.equal(0);
    expect(s.refresh.size).to.equal(0);
  });

  it('a failed first request schedules nothing', async function () {
    const s = setup([3000]);
    s.next.onRequest = () => Promise.reject(new Error('no'));
    const error = await s.chain.request(request(), s.ctx, s.next).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(Error);
    expect(s.clock.pending).to.equal(0);
    expect(s.refresh.size).to.equal(0);
  });

  it('a path without expiry is not refreshed', async function () {
    const s = setup([undefined, undefined]);
    await s.chain.request(request(), s.ctx, s.next);
    expect(s.clock.pending).to.equal(0);
    await advance(s.clock, 60_000);
    expect(s.times).to.deep.equal([0]);
  });

  it('minDelayMs is a floor for the computed delay', async function () {
    const s = setup([300], 0, { minDelayMs: 500 });
    await s.chain.request(request(), s.ctx, s.next);
    await advance(s.clock, 499);
    expect(s.times).to.deep.equal([0]);
    await advance(s.clock, 1);
    expect(s.times).to.deep.equal([0, 500]);
  });

  it('keeps separate timers per connection', async function () {
    const s = setup([3000]);
    await s.chain.request(request('a'), s.ctx, s.next);
    await advance(s.clock, 500);
    const b = await s.chain.request(request('b'), s.ctx, s.next);
    expect(s.refresh.size).to.equal(2);
    await s.chain.close(b, s.ctx, s.next);
    expect(s.refresh.size).to.equal(1);
    await advance(s.clock, 500);
    expect(s.next.requests.map((r) => r.request.connection?.id)).to.deep.equal(['a', 'b', 'a']);
  });
});
