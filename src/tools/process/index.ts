/**
 * Running a role as a program: the entry-point check, the one-line failure, and a clean stop on SIGINT or
 * SIGTERM. Examples and small programs use these so that each does not repeat the same dozen lines.
 * @module
 */
import { pathToFileURL } from 'node:url';

/** Whether the module at `moduleURL` (`import.meta.url`) is the program node was started with. */
export function isMain(moduleURL: string): boolean {
  return moduleURL === pathToFileURL(process.argv[1] ?? '').href;
}

/**
 * Runs `main` when the module at `moduleURL` is the program (not when a test imports it); a failure is
 * printed as `<name>: <message>` on one line and exits 1.
 */
export function runMain(moduleURL: string, name: string, main: () => Promise<void>): void {
  if (!isMain(moduleURL)) return;
  main().catch((error: unknown) => {
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}

/** On the first SIGINT or SIGTERM, runs `stop` and exits: 0 when it succeeds, 1 when it fails. */
export function stopOnSignals(stop: () => Promise<void>): void {
  const handler = (): void => {
    process.removeListener('SIGINT', handler);
    process.removeListener('SIGTERM', handler);
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
