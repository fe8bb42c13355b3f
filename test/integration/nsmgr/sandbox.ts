/**
 * Hooks for sandbox tests: each test starts its domain with `start()`; after the test the domain is
 * stopped and the process's handles must be back to what they were before it (the leak check).
 */
import { createDomain, type Domain, type DomainOptions } from '../../../src/tools/sandbox/index.js';
import { baseline, expectNoLeaks, type Resources } from '../../helpers/leaks.js';

/** Registers the hooks in the current describe; `start` builds the test's domain. */
export function sandboxHooks(): { start(options?: DomainOptions): Promise<Domain> } {
  let domain: Domain | undefined;
  let before: Resources;
  beforeEach(async () => {
    before = await baseline();
  });
  afterEach(async () => {
    await domain?.stop();
    domain = undefined;
    await expectNoLeaks(before);
  });
  return {
    start: async (options?: DomainOptions) => {
      domain = await createDomain(options);
      return domain;
    },
  };
}
