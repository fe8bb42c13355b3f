/**
 * The system clock takes delays past the 2^31-1 ms Node's setTimeout accepts (found by the fuzz tests: a
 * caller's token expiring in a thousand years made the `timeout` element close its connection at once).
 */
import { expect } from 'chai';
import { MAX_TIMER_DELAY_MS, systemClock } from '../../../src/tools/clock/index.js';

describe('systemClock', function () {
  it('does not fire a timer due past the longest Node delay early, and clears it', async function () {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const before = systemClock.pending;
      let fired = 0;
      const far = systemClock.setTimeout(() => void fired++, 1000 * 365 * 24 * 3600 * 1000);
      const edge = systemClock.setTimeout(() => void fired++, MAX_TIMER_DELAY_MS + 1);
      // Node fires an overflowing timer after 1 ms, and warns on a later tick.
      await new Promise((r) => setTimeout(r, 20));
      expect(fired).to.equal(0);
      expect(warnings.map((w) => w.name)).to.not.include('TimeoutOverflowWarning');
      expect(systemClock.pending).to.equal(before + 2);
      systemClock.clearTimeout(far);
      systemClock.clearTimeout(edge);
      expect(systemClock.pending).to.equal(before);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('still fires short timers once', async function () {
    let fired = 0;
    systemClock.setTimeout(() => void fired++, 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(fired).to.equal(1);
  });
});
