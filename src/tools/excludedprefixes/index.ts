/**
 * Upstream's excluded-prefixes file, read and watched: the YAML file a manager takes the cluster's own
 * address ranges from (pod and service CIDRs, typically written by `cmd-exclude-prefixes-k8s` into a
 * ConfigMap mounted at `/var/lib/networkservicemesh/config/`), so that no endpoint hands out an address that
 * shadows one of them.
 *
 * ```yaml
 * prefixes:
 *   - 10.96.0.0/12
 *   - 10.244.0.0/16
 * ```
 *
 * {@link watchExcludedPrefixes} keeps the current list as the file changes. A missing file means no
 * prefixes (the manager may start before the file is written); a file that cannot be read or parsed is
 * logged as an error and the prefixes from before stay, so a bad edit never opens up the excluded ranges.
 * Feed it to the manager with `excludedPrefixesServer({ source: () => watcher.current })`.
 * @module
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { BehaviorSubject, type Observable } from 'rxjs';
import { parseDocument } from 'yaml';
import { tryParseCIDR } from '../ippool/index.js';
import { silentLogger, type Logger } from '../log/index.js';

/** Where upstream's manager reads the file (its `excludedprefixes` server's default). */
export const DEFAULT_EXCLUDED_PREFIXES_FILE = '/var/lib/networkservicemesh/config/excluded_prefixes.yaml';

/**
 * Parses the file's text: a mapping with one key, `prefixes` (any case, as upstream's decoder matches it),
 * whose value is a list of CIDRs. An empty document means no prefixes. Throws an Error saying what is
 * wrong, prefixed with `source` (the file name).
 */
export function parseExcludedPrefixes(text: string, source = 'excluded prefixes'): string[] {
  const doc = parseDocument(text);
  const [first] = doc.errors;
  if (first !== undefined) throw new Error(`${source}: ${first.message.split('\n')[0] ?? 'invalid YAML'}`);
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) return [];
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${source}: expected a mapping with a "prefixes" list`);
  let prefixes: unknown = [];
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    // Upstream would skip an unknown key without a word; here a misspelt "prefixes" is an error, not an empty list.
    if (key.toLowerCase() !== 'prefixes') throw new Error(`${source}: unknown key "${key}" (expected "prefixes")`);
    prefixes = item ?? [];
  }
  if (!Array.isArray(prefixes)) throw new Error(`${source}: "prefixes" must be a list of CIDRs`);
  return prefixes.map((prefix: unknown, i) => {
    if (typeof prefix !== 'string' || tryParseCIDR(prefix.trim()) === undefined) {
      throw new Error(`${source}: prefixes[${i}] ${JSON.stringify(prefix)} is not a CIDR (like 10.96.0.0/12)`);
    }
    return prefix.trim();
  });
}

/** Reads and parses the file; a missing file gives no prefixes. Throws on anything else that goes wrong. */
export async function loadExcludedPrefixes(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseExcludedPrefixes(text, path);
}

/** Options of {@link watchExcludedPrefixes}. */
export interface ExcludedPrefixesWatcherOptions {
  /** Where changes (info) and bad files (error) are logged; silent by default. */
  readonly logger?: Logger;
  /**
   * How long to wait after a change before reading (ms); default 100. An editor or a ConfigMap update
   * writes in several steps, and the file is read once they are done.
   */
  readonly debounceMs?: number;
  /** How often to look for the directory while it does not exist (ms); default 1000. */
  readonly pollMs?: number;
}

/** The prefixes of a watched file; see {@link watchExcludedPrefixes}. */
export class ExcludedPrefixesWatcher {
  private readonly subject = new BehaviorSubject<readonly string[]>([]);
  private readonly logger: Logger;
  private readonly debounceMs: number;
  private readonly pollMs: number;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();
  private closed = false;

  /** Use {@link watchExcludedPrefixes}, which also reads the file once before it returns. */
  constructor(
    /** The watched file. */
    readonly path: string,
    options: ExcludedPrefixesWatcherOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.debounceMs = Math.max(0, options.debounceMs ?? 100);
    this.pollMs = Math.max(10, options.pollMs ?? 1000);
  }

  /** The prefixes now (the last good read of the file). */
  get current(): readonly string[] {
    return this.subject.value;
  }

  /** The prefixes now, then each new list, until {@link close}. */
  get changes(): Observable<readonly string[]> {
    return this.subject.asObservable();
  }

  /** Starts watching and reads the file once. */
  async start(): Promise<this> {
    await this.arm();
    await this.reload();
    return this;
  }

  /** Stops watching; `changes` completes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    clearTimeout(this.timer);
    clearInterval(this.poll);
    this.subject.complete();
  }

  /** Watches the file's directory (a ConfigMap replaces the file through a symlink swap, which a watch on the file would miss). */
  private async arm(): Promise<void> {
    const dir = dirname(this.path);
    const exists = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (this.closed) return;
    if (!exists) {
      // fs.watch needs the directory; until it exists there is no file either, and nothing to read.
      this.poll ??= setInterval(() => void this.pollForDirectory(), this.pollMs);
      return;
    }
    try {
      const name = basename(this.path);
      this.watcher = watch(dir, { persistent: false }, (_event, file) => {
        // Events name the entry that changed; `..data` is the ConfigMap's symlink, null is "something here".
        if (file === null || file === name || file.startsWith('..')) this.schedule();
      });
      this.watcher.on('error', () => this.rearm());
    } catch {
      this.poll ??= setInterval(() => void this.pollForDirectory(), this.pollMs);
    }
  }

  private async pollForDirectory(): Promise<void> {
    const exists = await stat(dirname(this.path)).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!exists || this.closed) return;
    clearInterval(this.poll);
    this.poll = undefined;
    await this.arm();
    this.schedule();
  }

  /** The directory went away (or the watch broke): read again (no file, no prefixes) and wait for it to come back. */
  private rearm(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.closed) return;
    this.schedule();
    void this.arm();
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), this.debounceMs);
  }

  /** Reads the file after any read still running, so an older read never overwrites a newer one. */
  private reload(): Promise<void> {
    this.reading = this.reading.then(async () => {
      if (this.closed) return;
      let prefixes: string[];
      try {
        prefixes = await loadExcludedPrefixes(this.path);
      } catch (error) {
        this.logger.error('excluded prefixes: keeping the previous prefixes, the file is not valid', {
          file: this.path,
          error: (error as Error).message,
          prefixes: this.current,
        });
        return;
      }
      if (this.closed || sameList(prefixes, this.current)) return;
      this.logger.info('excluded prefixes changed', { file: this.path, prefixes });
      this.subject.next(prefixes);
    });
    return this.reading;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/**
 * Reads `path` and keeps watching it: resolves once the first read is done (its prefixes, or none when the
 * file is missing or bad), with a watcher whose `current` follows the file. Close it when done.
 */
export function watchExcludedPrefixes(path: string, options: ExcludedPrefixesWatcherOptions = {}): Promise<ExcludedPrefixesWatcher> {
  return new ExcludedPrefixesWatcher(path, options).start();
}
