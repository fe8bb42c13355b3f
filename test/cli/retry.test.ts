/**
 * The start-up retry loop of the `nsm` roles: one logged line per failed attempt, the real reason kept
 * when the last attempt is cut short by the start timeout, "not reachable" only when the peer itself was
 * not, and an abort that ends it at once.
 */
import { expect } from 'chai';
import { retryUntil, StartAborted, type RetryPlan } from '../../src/cli/roles.js';
import { isUnreachable } from '../../src/cli/roles/common.js';
import { createLogger } from '../../src/tools/log/index.js';
import { status, statusError } from '../../src/tools/grpc/status.js';

const where = 'unix:///run/nsm.sock';

function plan<T>(attempt: RetryPlan<T>['attempt'], lines: string[], extra: Partial<RetryPlan<T>> = {}): RetryPlan<T> {
  return {
    what: 'register nse-1',
    where,
    peer: 'manager',
    signal: new AbortController().signal,
    timeoutMs: 300,
    timeoutSetting: 'NSM_START_TIMEOUT',
    logger: createLogger('info', (level, line) => lines.push(`${level} ${line}`)),
    intervalMs: 50,
    attempt,
    ...extra,
  };
}

describe('nsm roles: retryUntil', () => {
  it('tries until an attempt succeeds, logging each failure with what, where and why', async () => {
    const lines: string[] = [];
    let tries = 0;
    const result = await retryUntil(
      plan(async () => {
        if (++tries < 3) throw new Error(`dial ${where}: connection refused`);
        return 'ok';
      }, lines),
    );
    expect(result).to.equal('ok');
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(/^warn .* register nse-1 at unix:\/\/\/run\/nsm\.sock failed \(attempt 1\): dial unix:\/\/\/run\/nsm\.sock: connection refused; retrying in 50ms$/);
  });

  it('gives up after the start timeout with one line: what, where, why, and the last real error', async () => {
    const lines: string[] = [];
    const error = await retryUntil(
      plan(async (signal, timeoutMs) => {
        // The last attempt is cut short by the start timeout: its own error must not replace the real one.
        if ((timeoutMs ?? 1000) < 60) {
          await new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new Error('context cancelled'))));
        }
        throw statusError(status.UNAVAILABLE, `dial ${where}: connection refused`);
      }, lines),
    ).catch((e: unknown) => e as Error);
    expect((error).message).to.equal(
      `could not register nse-1 at ${where}: manager not reachable after 300ms (last error: dial ${where}: connection refused)`,
    );
  });

  it('says "gave up" when the peer answered with an error of its own', async () => {
    const error = await retryUntil(
      plan(() => Promise.reject(statusError(status.NOT_FOUND, 'network service "x" is not found')), [], { timeoutMs: 120 }),
    ).catch((e: unknown) => e as Error);
    expect((error).message).to.match(/: gave up after 120ms \(NSM_START_TIMEOUT\) \(last error: network service "x" is not found\)$/);
  });

  it('stops at once with StartAborted when the signal comes, also in the middle of an attempt', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    const error = await retryUntil(
      plan((signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new Error('cancelled')))), [], { signal: controller.signal, timeoutMs: 0 }),
    ).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(StartAborted);
    expect(Date.now() - started).to.be.below(500);
  });

  it('counts a failure as "not reachable" only when it names the peer itself', () => {
    expect(isUnreachable(new Error(`dial/client: dial ${where}: connection refused (nothing is serving there)`), where)).to.equal(true);
    expect(isUnreachable(new Error('connect/client: dial: dial tcp://127.0.0.1:1: connection refused'), where), 'the registry behind the manager').to.equal(false);
    expect(isUnreachable(statusError(status.UNAVAILABLE, 'No connection established'), where)).to.equal(true);
    expect(isUnreachable(new Error('service not found'), where)).to.equal(false);
  });
});
