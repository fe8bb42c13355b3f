/**
 * Failures say why: the code and the message a client gets for the common mistakes and outages, with
 * each element named once (no `connect/client: connect/client: ...`).
 */
import { expect } from 'chai';
import type { AttemptFailure } from '../../../src/networkservice/common/retry/index.js';
import { status } from '../../../src/tools/grpc/status.js';
import { sandboxHooks } from './sandbox.js';

type Failure = Error & { code?: number; details?: string };
const failure = (p: Promise<unknown>): Promise<Failure> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Failure,
  );

/** No element name appears twice in a row. */
function expectNoRepeatedPrefix(message: string): void {
  expect(message).to.not.match(/([a-z/]+): \1: /);
}

describe('failures say why (sandbox)', function () {
  this.timeout(30_000);
  const sandbox = sandboxHooks();

  it('a service nobody registered: NOT_FOUND naming it, before the deadline, each element named once', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const error = await failure(client.request({ connection: { networkService: 'nope' } }, { timeoutMs: 2000 }));
    expect(error.code, error.message).to.equal(status.NOT_FOUND);
    expect(error.message).to.include('network service "nope" is not registered');
    expectNoRepeatedPrefix(error.message);
  });

  it('a short deadline with retries: DEADLINE_EXCEEDED carrying the real reason; every try reported', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    const tries: AttemptFailure[] = [];
    const client = domain.nodes[0]!.client({ name: 'nsc', retry: { intervalMs: 100, onAttemptFailed: (f) => tries.push(f) } });
    const error = await failure(client.request({ connection: { networkService: 'nope' } }, { timeoutMs: 1500 }));
    expect(error.code, error.message).to.equal(status.DEADLINE_EXCEEDED);
    expect(error.message).to.match(/gave up after \d+ tries in \d+ ms: .*network service "nope" is not registered/);
    expectNoRepeatedPrefix(error.message);
    expect(tries.length).to.be.at.least(2);
    expect(tries.at(-1)?.final).to.equal(true);
    expect(tries.every((t) => t.networkService === 'nope')).to.equal(true);
  });

  it('a dead manager: UNAVAILABLE at once, naming its address', async function () {
    const domain = await sandbox.start({ nodes: 1 });
    const url = domain.nodes[0]!.nsmgr.url;
    await domain.nodes[0]!.killNsmgr();
    const client = domain.nodes[0]!.client({ name: 'nsc' });
    const error = await failure(client.request({ connection: { networkService: 'svc' } }, { timeoutMs: 20_000 }));
    expect(error.code, error.message).to.equal(status.UNAVAILABLE);
    expect(error.message).to.include(`dial ${url}: connection refused`);
    // Refused, not timed out: the dial did not wait for its timeout (that message says "not ready within").
    expect(error.message).to.not.include('not ready within');
  });
});
