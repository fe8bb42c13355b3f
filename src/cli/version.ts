/**
 * The package's version, for `nsm --version`: read from the `package.json` of this package, found by walking
 * up from this module, so it works from `src/cli` (tsx), from `dist/src/cli` and from an installed package.
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `version` of the nearest `package.json` named `nsm-sdk` above this module. */
export function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'nsm-sdk' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json here (or not ours): keep walking up.
    }
    if (dirname(dir) === dir) throw new Error('cannot find the nsm-sdk package.json');
  }
}
