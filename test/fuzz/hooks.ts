/**
 * The mocha hooks both fuzz suites share: the suite's time limit from its case count, the leak check
 * around the whole suite, and the counts table printed at its end.
 */
import { baseline, expectNoLeaks, type Resources } from '../helpers/leaks.js';
import type { FuzzReport, FuzzSettings } from './harness.js';
import { formatTable } from './report.js';

/** Registers the hooks in the current describe; the tests push their reports onto the array returned. */
export function fuzzSuiteHooks(suite: Mocha.Suite, settings: FuzzSettings): FuzzReport[] {
  suite.timeout(Math.max(60_000, settings.runs * 60));
  const reports: FuzzReport[] = [];
  let resources: Resources;
  before(async () => {
    resources = await baseline();
  });
  after(async () => {
    console.log(formatTable(reports, settings.seed));
    await expectNoLeaks(resources);
  });
  return reports;
}
