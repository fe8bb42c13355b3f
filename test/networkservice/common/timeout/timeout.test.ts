import { expect } from 'chai';
import { Connection } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { millisFromTimestamp, timestampFromMillis } from '../../../../src/api/path.js';
import { beginServer } from '../../../../src/networkservice/common/begin/index.js';
import { metadataServer } from '../../../../src/networkservice/common/metadata/index.js';
import { timeoutDelay, timeoutServer, type TimeoutOptions, type TimeoutServer } from '../../../../src/networkservice/common/timeout/index.js';
import { chain, type NetworkServiceChain } from '../../../../src/networkservice/core/chain.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { FakeClock } from '../../../../src/tools/clock/index.js';
import { createLogger, type LogLevel } from '../../../../src/tools/log/index.js';
import { FakeNext, tick } from '../../../helpers/fake-next.js';

const START = Date.UTC(2026, 5, 1);

/** nsc (index 0, its token valid `lifetime` ms after `now`) → us (index 1), as updatepath leaves it. */
function request(now: number, lifetime: number | undefined, id = 'conn-1'): NetworkServiceRequest {
  return NetworkServiceRequest.fromPartial({
    connection: {
      id,
      networkService: 'ns',
      path: {
        index: 1,
        pathSegments: [
          { name: 'nsc', id: 'conn-0', token: 'nsc-token', ...(lifetime === undefined ? {} : { expires: timestampFromMillis(now + lifetime) }) },
          { name: 'nse', id, token: 'nse-token', expires: timestampFromMillis(now + 3_600_000) },
        ],
      },
    },
  });
}

interface Setup {
  readonly clock: FakeClock;
  readonly ctx: ChainContext;
  readonly next: FakeNext;
  readonly timeout: TimeoutServer;
  readonly chain: NetworkServiceChain;
  readonly logs: { level: LogLevel; line: string }[];
  /** Clock times (ms after START) at which next saw a Close. */
  readonly closedAt: number[];
}

/** begin → metadata → timeout → a recording next. */
function setup(options?: TimeoutOptions): Setup {
  const clock = new FakeClock(START);
  const logs: { level: LogLevel; line: string }[] = [];
  const ctx = ChainContext.background({ clock, logger: createLogger('debug', (level, line) => logs.push({ level, line })) });
  const timeout = timeoutServer(options);
  const next = new FakeNext();
  const closedAt: number[] = [];
  next.onClose = () => {
    closedAt.push(clock.now() - START);
    return Promise.resolve();
  };
  return { clock, ctx, next, timeout, chain: chain(beginServer(), metadataServer(), timeout), logs, closedAt };
}

async function advance(clock: FakeClock, ms: number): Promise<void> {
  clock.advance(ms);
  await tick();
}

/** A promise with its resolve and reject at hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('timeout', function () {
  it('timeoutDelay: expires - now - max(margin, 10% of the lifetime), never negative', function () {
    expect(timeoutDelay(START + 3000, START, 100)).to.equal(2700);
    expect(timeoutDelay(START + 500, START, 100)).to.equal(400);
    expect(timeoutDelay(START + 500, START)).to.equal(400);
    expect(timeoutDelay(START + 60_000, START, 10_000)).to.equal(50_000);
    expect(timeoutDelay(START + 50, START, 100)).to.equal(0);
    expect(timeoutDelay(START - 1000, START, 100)).to.equal(0);
  });

  it("closes exactly once at the caller token's expiry minus the margin, not before, with a valid token", async function () {
    const s = setup();
    await s.chain.request(request(s.clock.now(), 3000), s.ctx, s.next);
    expect(s.timeout.size).to.equal(1);
    await advance(s.clock, 2699);
    expect(s.closedAt).to.deep.equal([]);
    await advance(s.clock, 1);
    expect(s.closedAt).to.deep.equal([2700]);
    const closed = s.next.closes[0]?.connection;
    expect(closed?.id).to.equal('conn-1');
    const expires = closed?.path?.pathSegments[0]?.expires;
    expect(expires).to.not.equal(undefined);
    expect(millisFromTimestamp(expires!)).to.be.greaterThan(s.clock.now());
    expect(s.timeout.size).to.equal(0);
    expect(s.clock.pending).to.equal(0);
    await advance(s.clock, 60_000);
    expect(s.closedAt).to.deep.equal([2700]);
    // begin forgot the connection: a late Close from the peer reaches nothing.
    await s.chain.close(request(START, 3000).connection!, s.ctx, s.next);
    expect(s.next.closes).to.have.length(1);
  });

  it('the margin is at least closeMarginMs', async function () {
    const s = setup({ closeMarginMs: 250 });
    await s.chain.request(request(s.clock.now(), 1000), s.ctx, s.next);
    await advance(s.clock, 749);
    expect(s.closedAt).to.deep.equal([]);
    await advance(s.clock, 1);
    expect(s.closedAt).to.deep.equal([750]);
  });

  it('reads the expiry from the connection next returns', async function () {
    const s = setup();
    s.next.onRequest = (req) => {
      const conn = Connection.fromPartial(req.connection ?? {});
      conn.path!.pathSegments[0]!.expires = timestampFromMillis(s.clock.now() + 10_000);
      return Promise.resolve(conn);
    };
    await s.chain.request(request(s.clock.now(), 3000), s.ctx, s.next);
    await advance(s.clock, 8999);
    expect(s.closedAt).to.deep.equal([]);
    await advance(s.clock, 1);
    expect(s.closedAt).to.deep.equal([9000]);
  });

  it('a re-request pushes the timeout back', async function () {
    const s = setup();
    await s.chain.request(request(s.clock.now(), 3000), s.ctx, s.next);
    await advance(s.clock, 2000);
    await s.chain.request(request(s.clock.now(), 3000), s.ctx, s.next);
    expect(s.timeout.size).to.equal(1);
    expect(s.clock.pending).to.equal(1);
    await advance(s.clock, 2699);
    expect(s.closedAt).to.deep.equal([]);
    await advance(s.clock, 1);
    expect(s.closedAt).to.deep.equal([4700]);
  });

  it('Close before the expiry cancels the timer', async function () {
    const s = setup();
    const conn = await s.chain.request(request(s.clock.now(), 3000), s.ctx, s.next);
    await advance(s.clock, 1000);
    await s.chain.close(conn, s.ctx, s.next);
    expect(s.closedAt).to.deep.equal([1000]);
    expect(s.timeout.size).to.equal(0);
    expect(s.clock.pending).to.equal(0);
    await advance(s.clock, 60_000);
    expect(s.closedAt).to.deep.equal([1000]);
  });

  it('a failed request leaves no timer; a failed re-request keeps the one it had', async function () {
    const s = setup();
    s.next.onRequest = () => Promise.reject(new Error('no'));
    await s.chain.request(request(s.clock.now(), 3000), s.ctx, s.next).catch(() => undefined);
    expect(s.timeout.size).to.equal(0);
    expect(s.clock.pending).to.equal(0);

    s.next.onRequest = undefined;
    await s.chain.request(request(s.clock.now(), 3000), s.ctx, s.next);
    await advance(s.clock, 1000);
    s.next.onRequest = () => Promise.reject(new Error('no'));
    await s.chain.request(request(s.clock.now(), 3000), s.ctx, s.next).catch(() => undefined);
    await advance(s.clock, 1700);
    expect(s.closedAt).to.deep.equal([2700]);
  });

  it('no previous segment, or no expiry on it: no timer', async function () {
    const s = setup();
    const first = NetworkServiceRequest.fromPartial({
      connection: { id: 'solo', path: { index: 0, pathSegments: [{ name: 'nse', id: 'solo', expires: timestampFromMillis(START + 1000) }] } },
    });
    await s.chain.request(first, s.ctx, s.next);
    await s.chain.request(request(s.clock.now(), undefined, 'no-expiry'), s.ctx, s.next);
    expect(s.timeout.size).to.equal(0);
    expect(s.clock.pending).to.equal(0);
  });

  it('a re-request running when the timer fires keeps the connection if it succeeds', async function () {
    const s = setup();
    await s.chain.request(request(s.clock.now(), 3000), s.ctx, s.next);
    await advance(s.clock, 2600);
    const answer = deferred<Connection>();
    s.next.onRequest = () => answer.promise;
    const rerequest = request(s.clock.now(), 3000);
    const pending = s.chain.request(rerequest, s.ctx, s.next);
    await advance(s.clock, 100); // the timer fires at 2700, while the re-request waits for next
    answer.resolve(Connection.fromPartial(rerequest.connection!));
    await pending;
    await tick();
    expect(s.closedAt).to.deep.equal([]);
    // The re-request's token (expiring at 5600) sets the new deadline, measured when it returned (2700):
    // 5600 - max(100, 290).
    await advance(s.clock, 2609);
    expect(s.closedAt).to.deep.equal([]);
    await advance(s.clock, 1);
    expect(s.closedAt).to.deep.equal([5310]);
  });

  it('a re-request running when the timer fires and failing lets the close go ahead', async function () {
    const s = setup();
    await s.chain.request(request(s.clock.now(), 3000), s.ctx, s.next);
    await advance(s.clock, 2600);
    const answer = deferred<Connection>();
    s.next.onRequest = () => answer.promise;
    const pending = s.chain.request(request(s.clock.now(), 3000), s.ctx, s.next).catch((e: unknown) => e);
    await advance(s.clock, 100);
    expect(s.closedAt).to.deep.equal([]);
    answer.reject(new Error('downstream failed'));
    await pending;
    await tick();
    expect(s.closedAt).to.deep.equal([2700]);
    expect(s.clock.pending).to.equal(0);
  });

  it('a failing timeout Close is logged, not thrown', async function () {
    const s = setup();
    s.next.onClose = () => Promise.reject(new Error('next hop refused the close'));
    await s.chain.request(request(s.clock.now(), 3000), s.ctx, s.next);
    await advance(s.clock, 2700);
    expect(s.next.closes).to.have.length(1);
    expect(s.logs.some((l) => l.level === 'warn' && l.line.includes('next hop refused the close'))).to.equal(true);
    expect(s.timeout.size).to.equal(0);
  });

  it('keeps separate timers per connection', async function () {
    const s = setup();
    await s.chain.request(request(s.clock.now(), 3000, 'a'), s.ctx, s.next);
    await advance(s.clock, 1000);
    await s.chain.request(request(s.clock.now(), 3000, 'b'), s.ctx, s.next);
    expect(s.timeout.size).to.equal(2);
    await advance(s.clock, 1700);
    expect(s.next.closes.map((c) => c.connection.id)).to.deep.equal(['a']);
    await advance(s.clock, 1000);
    expect(s.next.closes.map((c) => c.connection.id)).to.deep.equal(['a', 'b']);
  });
});
