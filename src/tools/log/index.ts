/**
 * A small structured logger. Elements take it from the chain context; nothing logs through globals.
 * @module
 */

/** Log levels, least to most severe. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Readonly<Record<LogLevel, number>> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, silent: 5 };

/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** The logger interface used across the SDK. */
export interface Logger {
  /** The least severe level this logger writes. */
  readonly level: LogLevel;
  /** Whether a line at `level` would be written; lets a caller skip building costly fields. */
  enabled(level: LogLevel): boolean;
  /** Logs at `trace`: step-by-step detail of every call. */
  trace(message: string, fields?: LogFields): void;
  /** Logs at `debug`: detail useful when looking into a problem. */
  debug(message: string, fields?: LogFields): void;
  /** Logs at `info`: normal events worth knowing about. */
  info(message: string, fields?: LogFields): void;
  /** Logs at `warn`: something went wrong but was handled. */
  warn(message: string, fields?: LogFields): void;
  /** Logs at `error`: something failed. */
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Where formatted lines go. */
export type LogSink = (level: Exclude<LogLevel, 'silent'>, line: string) => void;

const stderrSink: LogSink = (_level, line) => {
  process.stderr.write(`${line}\n`);
};

/** Parses a level name (as in `NSM_LOG_LEVEL`), case-insensitively; throws on an unknown name. */
export function parseLogLevel(value: string): LogLevel {
  const level = value.trim().toLowerCase();
  if (level in ORDER) return level as LogLevel;
  throw new Error(`unknown log level "${value}" (expected one of ${Object.keys(ORDER).join(', ')})`);
}

class ConsoleLogger implements Logger {
  constructor(
    readonly level: LogLevel,
    private readonly fields: LogFields,
    private readonly sink: LogSink,
  ) {}

  enabled(level: LogLevel): boolean {
    return ORDER[level] >= ORDER[this.level] && this.level !== 'silent';
  }

  private write(level: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const all = fields === undefined ? this.fields : { ...this.fields, ...fields };
    const extra = Object.keys(all).length > 0 ? ` ${safeJson(all)}` : '';
    this.sink(level, `${new Date().toISOString()} ${level.toUpperCase()} ${message}${extra}`);
  }

  trace(message: string, fields?: LogFields): void {
    this.write('trace', message, fields);
  }
  debug(message: string, fields?: LogFields): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.write('error', message, fields);
  }
  child(fields: LogFields): Logger {
    return new ConsoleLogger(this.level, { ...this.fields, ...fields }, this.sink);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return '[unserialisable]';
  }
}

/** Creates a logger writing to stderr (or `sink`) at `level` and above. */
export function createLogger(level: LogLevel = 'info', sink: LogSink = stderrSink): Logger {
  return new ConsoleLogger(level, {}, sink);
}

/** A logger that drops everything; the default of a fresh context. */
export const silentLogger: Logger = createLogger('silent');
