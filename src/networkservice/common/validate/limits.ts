/**
 * Size limits for messages that arrive from the network, shared by the Network Service `validate` element
 * and the registry `limits` element (`registry/common/limits`). They are generous (far beyond anything
 * an NSM peer sends) and exist for one reason: a hostile value must be refused at the door, with a short
 * message, before an element echoes it in an error (a status message of a few hundred kilobytes never
 * reaches a grpc-js client: the call hangs), stores it or spends its time on it.
 *
 * | what | limit |
 * | --- | --- |
 * | any string (names, ids, labels, addresses, URLs) | {@link MAX_STRING} characters |
 * | a token | {@link MAX_TOKEN} characters |
 * | a mechanism's `cls` and `type` | {@link MAX_MECHANISM_NAME} characters |
 * | a path | {@link MAX_PATH_SEGMENTS} segments |
 * | mechanism preferences | {@link MAX_MECHANISM_PREFERENCES} |
 * | any other list, any map | {@link MAX_ENTRIES} entries |
 * | a Timestamp | the range of the protobuf spec: 0001-01-01 to 9999-12-31, nanos 0 to 999,999,999 |
 * @module
 */

/** The longest string: names, ids, label keys and values, addresses, URLs. */
export const MAX_STRING = 4096;
/** The longest token (a JWT; HTTP/2 caps the metadata it travels in near 64 KB anyway). */
export const MAX_TOKEN = 65_536;
/** The longest mechanism `cls` or `type` (they are names such as LOCAL and KERNEL). */
export const MAX_MECHANISM_NAME = 128;
/** The most path segments (a path has one per hop: a handful). */
export const MAX_PATH_SEGMENTS = 256;
/** The most mechanism preferences in a request (clients offer one to three). */
export const MAX_MECHANISM_PREFERENCES = 32;
/** The most entries in any other list or map. */
export const MAX_ENTRIES = 1024;

/** Seconds of 0001-01-01T00:00:00Z and of 9999-12-31T23:59:59Z, the range of a protobuf Timestamp. */
const MIN_SECONDS = -62_135_596_800;
const MAX_SECONDS = 253_402_300_799;

/** Map fields: their keys are data (checked for length, never echoed), not field names. */
const MAP_FIELDS: ReadonlySet<string> = new Set([
  'labels',
  'metrics',
  'parameters',
  'extraContext',
  'sourceSelector',
  'destinationSelector',
  'networkServiceLabels',
]);

/** Timestamp fields. */
const TIMESTAMP_FIELDS: ReadonlySet<string> = new Set(['expires', 'expirationTime', 'initialRegistrationTime']);

const LIST_LIMITS: Readonly<Record<string, number>> = {
  pathSegments: MAX_PATH_SEGMENTS,
  mechanismPreferences: MAX_MECHANISM_PREFERENCES,
};

/** The wire name of a field (`pathSegments` → `path_segments`), for messages. */
function wireName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function stringLimit(field: string, inMechanism: boolean): number {
  if (field === 'token') return MAX_TOKEN;
  if (inMechanism && (field === 'cls' || field === 'type')) return MAX_MECHANISM_NAME;
  return MAX_STRING;
}

function timestampProblem(value: unknown, where: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { seconds, nanos } = value as { seconds?: unknown; nanos?: unknown };
  if (typeof seconds === 'number' && (!Number.isInteger(seconds) || seconds < MIN_SECONDS || seconds > MAX_SECONDS)) {
    return `${where}.seconds is ${seconds}: a Timestamp lies between ${MIN_SECONDS} (0001-01-01) and ${MAX_SECONDS} (9999-12-31)`;
  }
  if (typeof nanos === 'number' && (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999)) {
    return `${where}.nanos is ${nanos}: at least 0 and at most 999999999`;
  }
  return undefined;
}

function mapProblem(map: object, where: string): string | undefined {
  const entries = Object.entries(map);
  if (entries.length > MAX_ENTRIES) return `${where} has ${entries.length} entries: at most ${MAX_ENTRIES}`;
  for (const [key, value] of entries) {
    if (key.length > MAX_STRING) return `${where} has a key of ${key.length} characters: at most ${MAX_STRING}`;
    const at = `${where}[${JSON.stringify(key)}]`;
    const problem =
      typeof value === 'string'
        ? value.length > MAX_STRING
          ? `${at} is ${value.length} characters long: at most ${MAX_STRING}`
          : undefined
        : messageProblem(value, at);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * Why `message` (a decoded ts-proto message, or any part of one) exceeds the limits of this module, or
 * undefined. `where` names it in the answer (`connection`, `NetworkServiceEndpoint`), which then says
 * which field is too large and what the limit is, without repeating the value.
 */
export function messageProblem(message: unknown, where: string, inMechanism = false): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  for (const [field, value] of Object.entries(message as Record<string, unknown>)) {
    const at = `${where}.${wireName(field)}`;
    let problem: string | undefined;
    if (typeof value === 'string') {
      const limit = stringLimit(field, inMechanism);
      if (value.length > limit) problem = `${at} is ${value.length} characters long: at most ${limit}`;
    } else if (Array.isArray(value)) {
      problem = listProblem(value, field, at);
    } else if (MAP_FIELDS.has(field) && typeof value === 'object' && value !== null) {
      problem = mapProblem(value, at);
    } else if (TIMESTAMP_FIELDS.has(field)) {
      problem = timestampProblem(value, at);
    } else {
      problem = messageProblem(value, at, field === 'mechanism');
    }
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function listProblem(list: readonly unknown[], field: string, where: string): string | undefined {
  const limit = LIST_LIMITS[field] ?? MAX_ENTRIES;
  if (list.length > limit) return `${where} has ${list.length} ${field === 'pathSegments' ? 'segments' : 'entries'}: at most ${limit}`;
  for (const [i, item] of list.entries()) {
    const at = `${where}[${i}]`;
    if (typeof item === 'string') {
      if (item.length > MAX_STRING) return `${at} is ${item.length} characters long: at most ${MAX_STRING}`;
      continue;
    }
    const problem = messageProblem(item, at, field === 'mechanismPreferences');
    if (problem !== undefined) return problem;
  }
  return undefined;
}
