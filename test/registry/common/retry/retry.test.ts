import { expect } from 'chai';
import { EMPTY } from 'rxjs';
import type { NetworkServiceEndpoint, NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import type { NSERegistryHandler } from '../../../../src/registry/core/types.js';
import { retryRegistry } from '../../../../src/registry/common/retry/index.js';
import { FakeRegistryNext, nse } from '../../helpers/fake-registry.js';

type NSE = NetworkServiceEndpoint;
type Q = NetworkServiceEndpointQuery;

describe('registry retry', function () {
  it('tries again until a register and an unregister succeed', async function () {
    const next = new FakeRegistryNext();
    next.failures = 2;
    const retry = retryRegistry<NSE, Q>({ intervalMs: 5 });
    const ctx = ChainContext.background();
    expect((await retry.register(nse('a'), ctx, next)).name).to.equal('a');
    expect(next.registered).to.have.length(3);
    next.failures = 1;
    await retry.unregister(nse('a'), ctx, next);
    expect(next.unregistered).to.have.length(2);
  });

  it('stops when the caller context ends, with the last error', async function () {
    const next = new FakeRegistryNext();
    next.failures = 1_000_000;
    const [ctx, cancel] = ChainContext.background().withCancel(60);
    const error = await retryRegistry<NSE, Q>({ intervalMs: 5 }).register(nse('a'), ctx, next).catch((e: unknown) => e);
    cancel();
    expect(error).to.be.instanceOf(Error);
    const tries = next.registered.length;
    expect(tries).to.be.greaterThan(1);
    await new Promise((r) => setTimeout(r, 30));
    expect(next.registered.length).to.equal(tries);
  });

  it('a try that hangs is cut at the try timeout and the next one succeeds', async function () {
    let calls = 0;
    const next: NSERegistryHandler = {
      register: (item, c) => {
        calls++;
        if (calls === 1) return new Promise((_resolve, reject) => c.onCancel(() => reject(new Error('try cut'))));
        return Promise.resolve(item);
      },
      find: () => EMPTY,
      unregister: () => Promise.resolve(),
    };
    const result = await retryRegistry<NSE, Q>({ intervalMs: 5, tryTimeoutMs: 30 }).register(nse('a'), ChainContext.background(), next);
    expect(result.name).to.equal('a');
    expect(calls).to.equal(2);
  });
});
