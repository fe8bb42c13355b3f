import { expect } from 'chai';
import { Connection } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { retryClient, type AttemptFailure, type RetryClient, type RetryClientOptions } from '../../../../src/networkservice/common/retry/index.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { beginClient } from '../../../../src/networkservice/common/begin/index.js';
import { metadataClient } from '../../../../src/networkservice/common/metadata/index.js';
import { refreshClient } from '../../../../src/networkservice/common/refresh/index.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import { timestampFromMillis } from '../../../../src/api/path.js';
import { FakeClock } from '../../../../src/tools/clock/index.js';
import { statusError, status } from '../../../../src/tools/grpc/status.js';
import { FakeNext, tick } from '../../../helpers/fake-next.js';

const START = Date.UTC(2026, 5, 1);

interface Setup {
  readonly clock: FakeClock;
  readonly ctx: ChainContext;
  readonly next: FakeNext;
  /**
   * The element itself, not in a chain: a chain tags an error that leaves it with the name of the element it
   * left through, and these tests check that retry hands back the very error next raised.
   */
  readonly retry: RetryClient;
  /** Clock times (ms after START) at which next saw a Request or a Close. */
  readonly times: number[];
}

/** retry → a next that fails its first `failures` calls with UNAVAILABLE "try n", then answers. */
function setup(failures: number, options?: RetryClientOptions): Setup {
  const clock = new FakeClock(START);
  const next = new FakeNext();
  const times: number[] = [];
  next.onRequest = (request) => {
    times.push(clock.now() - START);
    if (times.length <= failures) return Promise.reject(statusError(status.UNAVAILABLE, `try ${times.length}`));
    return Promise.resolve(Connection.fromPartial(request.connection ?? {}));
  };
  next.onClose = () => {
    times.push(clock.now() - START);
    return times.length <= failures ? Promise.reject(statusError(status.UNAVAILABLE, `try ${times.length}`)) : Promise.resolve();
  };
  return { clock, ctx: ChainContext.background({ clock }), next, retry: retryClient(options), times };
}

const request = (): NetworkServiceRequest => NetworkServiceRequest.fromPartial({ connection: { id: 'c1', networkService: 'ns' } });

async function advance(clock: FakeClock, ms: number): Promise<void> {
  clock.advance(ms);
  await tick();
}

/** Settles `promise` into a value or the error it rejects with, marking which. */
function outcome<T>(promise: Promise<T>): { done: boolean; value?: T; error?: unknown } {
  const result: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => Object.assign(result, { done: true, value }),
    (error: unknown) => Object.assign(result, { done: true, error }),
  );
  return result;
}

describe('retry', function () {
  for (const code of [status.PERMISSION_DENIED, status.UNAUTHENTICATED]) {
    it(`does not retry a refusal (${status[code]}): the caller gets it at once, nothing is pending`, async function () {
      const s = setup(0);
      s.next.onRequest = () => (s.times.push(s.clock.now() - START), Promise.reject(statusError(code, 'authorize: policy "x" failed')));
      const result = outcome(s.retry.request(request(), s.ctx, s.next));
      await tick();
      expect(result.done).to.equal(true);
      expect((result.error as { code?: number }).code).to.equal(code);
      expect(s.times).to.deep.equal([0]);
      expect(s.clock.pending).to.equal(0);
    });
  }

  it('succeeds on the third try, intervalMs apart, not sooner', async function () {
    const s = setup(2);
    const result = outcome(s.retry.request(request(), s.ctx, s.next));
    await tick();
    expect(s.times).to.deep.equal([0]);
    await advance(s.clock, 199);
    expect(s.times).to.deep.equal([0]);
    await advance(s.clock, 1);
    expect(s.times).to.deep.equal([0, 200]);
    expect(result.done).to.equal(false);
    await advance(s.clock, 200);
    expect(s.times).to.deep.equal([0, 200, 400]);
    expect(result.done).to.equal(true);
    expect(result.error).to.equal(undefined);
    expect(result.value?.id).to.equal('c1');
    expect(s.clock.pending).to.equal(0);
  });

  it('each try gets a fresh copy of the request', async function () {
    const s = setup(0);
    let calls = 0;
    s.next.onRequest = (req) => {
      calls++;
      const seen = req.connection?.networkService;
      req.connection!.networkService = 'changed by a failed try';
      return calls === 1 ? Promise.reject(new Error('first')) : Promise.resolve(Connection.fromPartial({ ...req.connection, labels: { seen: seen ?? '' } }));
    };
    const pending = s.retry.request(request(), s.ctx, s.next);
    await tick();
    await advance(s.clock, 200);
    expect((await pending).labels).to.deep.equal({ seen: 'ns' });
  });

  it('stops when the caller aborts while waiting, with the last error', async function () {
    const s = setup(100);
    const controller = new AbortController();
    const ctx = s.ctx.withSignal(controller.signal);
    const result = outcome(s.retry.request(request(), ctx, s.next));
    await tick();
    expect(s.times).to.deep.equal([0]);
    controller.abort();
    await tick();
    expect(result.done).to.equal(true);
    expect((result.error as Error).message).to.include('try 1');
    expect(s.clock.pending).to.equal(0);
    await advance(s.clock, 10_000);
    expect(s.times).to.deep.equal([0]);
  });

  it('never retries a try that failed after the caller aborted', async function () {
    const s = setup(0);
    const controller = new AbortController();
    s.next.onRequest = () => {
      s.times.push(s.clock.now() - START);
      controller.abort();
      return Promise.reject(new Error('failed while cancelled'));
    };
    const error = await s.retry.request(request(), s.ctx.withSignal(controller.signal), s.next).catch((e: unknown) => e);
    expect((error as Error).message).to.equal('failed while cancelled');
    expect(s.times).to.deep.equal([0]);
    expect(s.clock.pending).to.equal(0);
  });

  it('gives up once the budget is used: DEADLINE_EXCEEDED with the last reason, every try reported', async function () {
    const s = setup(100, { timeoutMs: 1000 });
    const errors: unknown[] = [];
    const fail = s.next.onRequest!;
    s.next.onRequest = (req, rctx) => {
      const answer = fail(req, rctx);
      answer.catch((e: unknown) => errors.push(e));
      return answer;
    };
    const result = outcome(s.retry.request(request(), s.ctx, s.next));
    await tick();
    for (let t = 0; t < 1200 && !result.done; t += 100) await advance(s.clock, 100);
    // A try at 1000 would start when the budget ends.
    expect(s.times).to.deep.equal([0, 200, 400, 600, 800]);
    expect(result.done).to.equal(true);
    expect((result.error as Error & { code: number }).code).to.equal(status.DEADLINE_EXCEEDED);
    expect((result.error as Error).message).to.equal('request gave up after 5 tries in 800 ms: try 5');
    expect((result.error as Error).cause).to.equal(errors[errors.length - 1]);
    expect(s.clock.pending).to.equal(0);
  });

  it('a try cut short by the deadline does not hide why the earlier tries failed', async function () {
    const s = setup(100, { timeoutMs: 10_000, onAttemptFailed: (f) => reported.push(f) });
    const reported: AttemptFailure[] = [];
    let n = 0;
    s.next.onRequest = (_req, rctx) => {
      n++;
      if (n < 3) return Promise.reject(statusError(status.NOT_FOUND, 'network service "x" is not registered'));
      // The third try hangs until its context ends, as a call cut by the deadline does.
      return new Promise((_resolve, reject) => rctx.onCancel(() => reject(statusError(status.CANCELLED, 'Cancelled on client'))));
    };
    const [ctx, cancel] = s.ctx.withCancel(1000);
    const result = outcome(s.retry.request(request(), ctx, s.next));
    await tick();
    for (let t = 0; t < 1200 && !result.done; t += 100) await advance(s.clock, 100);
    cancel();
    expect((result.error as Error & { code: number }).code).to.equal(status.DEADLINE_EXCEEDED);
    expect((result.error as Error).message).to.match(/^request gave up after 3 tries in \d+ ms: network service "x" is not registered$/);
    expect(reported.map((f) => [f.attempt, f.final])).to.deep.equal([
      [1, false],
      [2, false],
      [3, true],
    ]);
  });

  it("the caller's deadline ends the retries when it is earlier than the budget", async function () {
    const s = setup(100);
    const [ctx, cancel] = s.ctx.withCancel(500);
    const result = outcome(s.retry.request(request(), ctx, s.next));
    await tick();
    for (let t = 0; t < 1000 && !result.done; t += 100) await advance(s.clock, 100);
    cancel();
    expect(s.times).to.deep.equal([0, 200, 400]);
    expect((result.error as Error).message).to.include('try 3');
    expect(s.clock.pending).to.equal(0);
  });

  it('a try that hangs is cancelled after tryTimeoutMs and tried again', async function () {
    const s = setup(0, { tryTimeoutMs: 300 });
    s.next.onRequest = (req, rctx) => {
      s.times.push(s.clock.now() - START);
      if (s.times.length > 1) return Promise.resolve(Connection.fromPartial(req.connection ?? {}));
      return new Promise<Connection>((_resolve, reject) => rctx.signal.addEventListener('abort', () => reject(new Error('try cancelled'))));
    };
    const result = outcome(s.retry.request(request(), s.ctx, s.next));
    await tick();
    await advance(s.clock, 299);
    expect(s.times).to.deep.equal([0]);
    await advance(s.clock, 1); // the try is cancelled at 300, the next one starts 200 later
    await advance(s.clock, 200);
    expect(s.times).to.deep.equal([0, 500]);
    expect(result.done).to.equal(true);
    expect(result.value?.id).to.equal('c1');
  });

  it('retries Close the same way', async function () {
    const s = setup(2);
    const result = outcome(s.retry.close(Connection.fromPartial({ id: 'c1' }), s.ctx, s.next));
    await tick();
    await advance(s.clock, 200);
    await advance(s.clock, 200);
    expect(s.times).to.deep.equal([0, 200, 400]);
    expect(result.done).to.equal(true);
    expect(result.error).to.equal(undefined);
    expect(s.next.closes).to.have.length(3);
  });

  it('a first success is not retried', async function () {
    const s = setup(0);
    await s.retry.request(request(), s.ctx, s.next);
    expect(s.times).to.deep.equal([0]);
    expect(s.clock.pending).to.equal(0);
  });

  it('in front of a client chain, each try runs the whole chain and a failed try leaves nothing behind', async function () {
    const s = setup(2);
    const answer = s.next.onRequest!;
    s.next.onRequest = async (req, rctx) => {
      const conn = await answer(req, rctx);
      conn.path = { index: 0, pathSegments: [{ name: 'nsc', id: 'c1', token: 't', expires: timestampFromMillis(s.clock.now() + 3000), metrics: {} }] };
      return conn;
    };
    const begin = beginClient();
    const refresh = refreshClient();
    const client = chain(retryClient(), chain(begin, metadataClient(), refresh));
    const result = outcome(client.request(request(), s.ctx, s.next));
    await tick();
    expect(begin.size, 'a failed first request is forgotten by begin').to.equal(0);
    await advance(s.clock, 200);
    await advance(s.clock, 200);
    expect(s.times).to.deep.equal([0, 200, 400]);
    expect(result.done).to.equal(true);
    expect(result.value?.id).to.equal('c1');
    expect(begin.size).to.equal(1);
    expect(refresh.size).to.equal(1);
    // Only the refresh timer is left; the refresh it starts comes from begin, not through retry.
    expect(s.clock.pending).to.equal(1);
    await advance(s.clock, 1000);
    expect(s.times).to.deep.equal([0, 200, 400, 1400]);
    await client.close(result.value!, s.ctx, s.next);
    expect(s.clock.pending).to.equal(0);
  });
});
