/**
 * A small structural diff used by chain tracing at debug level, to log what one element changed.
 * @module
 */

/** One change: a dotted path and the values before and after. */
export interface Change {
  /** Where the leaf is, e.g. `path.pathSegments[1].token`; `.` for the root. */
  readonly path: string;
  /** The value before (undefined when the leaf was added). */
  readonly before: unknown;
  /** The value after (undefined when the leaf was removed). */
  readonly after: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Lists the leaves that differ between `before` and `after`. */
export function diff(before: unknown, after: unknown, path = '', out: Change[] = []): Change[] {
  if (Object.is(before, after)) return out;
  if (Array.isArray(before) && Array.isArray(after)) {
    const length = Math.max(before.length, after.length);
    for (let i = 0; i < length; i++) diff(before[i], after[i], `${path}[${i}]`, out);
    return out;
  }
  if (isRecord(before) && isRecord(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const key of keys) diff(before[key], after[key], path === '' ? key : `${path}.${key}`, out);
    return out;
  }
  out.push({ path: path === '' ? '.' : path, before, after });
  return out;
}

/** A deep copy for snapshots of plain protobuf-shaped objects. */
export function snapshot<T>(value: T): T {
  return structuredClone(value);
}
