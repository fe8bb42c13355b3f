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

/** Marks the next step of a trail as a map key. */
const MAP_KEY = Symbol('map key');
type Step = string | number | typeof MAP_KEY;

/**
 * Where the walk is: field names, list indexes and map keys pushed and popped as it goes. Every Request
 * at every hop is walked, so the name of a place (`connection.path.path_segments[3].token`) is only
 * spelled out for the one that fails.
 */
class Walk {
  private readonly trail: Step[] = [];

  constructor(private readonly root: string) {}

  push(...steps: Step[]): void {
    this.trail.push(...steps);
  }

  pop(steps = 1): void {
    this.trail.length -= steps;
  }

  /** The current place, as problems name it. */
  at(): string {
    let text = this.root;
    for (let i = 0; i < this.trail.length; i++) {
      const step = this.trail[i];
      if (typeof step === 'number') text += `[${step}]`;
      else if (step === MAP_KEY) text += `[${JSON.stringify(this.trail[++i])}]`;
      else if (step !== undefined) text += `.${wireName(step)}`;
    }
    return text;
  }
}

function tooLong(walk: Walk, length: number, limit: number): string {
  return `${walk.at()} is ${length} characters long: at most ${limit}`;
}

function timestampProblem(value: unknown, walk: Walk): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { seconds, nanos } = value as { seconds?: unknown; nanos?: unknown };
  if (typeof seconds === 'number' && (!Number.isInteger(seconds) || seconds < MIN_SECONDS || seconds > MAX_SECONDS)) {
    return `${walk.at()}.seconds is ${seconds}: a Timestamp lies between ${MIN_SECONDS} (0001-01-01) and ${MAX_SECONDS} (9999-12-31)`;
  }
  if (typeof nanos === 'number' && (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999)) {
    return `${walk.at()}.nanos is ${nanos}: at least 0 and at most 999999999`;
  }
  return undefined;
}

function mapProblem(map: Record<string, unknown>, walk: Walk): string | undefined {
  let entries = 0;
  for (const _key in map) {
    if (++entries > MAX_ENTRIES) return `${walk.at()} has ${Object.keys(map).length} entries: at most ${MAX_ENTRIES}`;
  }
  for (const key in map) {
    if (key.length > MAX_STRING) return `${walk.at()} has a key of ${key.length} characters: at most ${MAX_STRING}`;
    const value = map[key];
    walk.push(MAP_KEY, key);
    const problem = typeof value === 'string' ? (value.length > MAX_STRING ? tooLong(walk, value.length, MAX_STRING) : undefined) : walkMessage(value, walk, false);
    walk.pop(2);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function listProblem(list: readonly unknown[], field: string, walk: Walk): string | undefined {
  const limit = LIST_LIMITS[field] ?? MAX_ENTRIES;
  if (list.length > limit) return `${walk.at()} has ${list.length} ${field === 'pathSegments' ? 'segments' : 'entries'}: at most ${limit}`;
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    walk.push(i);
    const problem =
      typeof item === 'string' ? (item.length > MAX_STRING ? tooLong(walk, item.length, MAX_STRING) : undefined) : walkMessage(item, walk, field === 'mechanismPreferences');
    walk.pop();
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function walkMessage(message: unknown, walk: Walk, inMechanism: boolean): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const fields = message as Record<string, unknown>;
  for (const field in fields) {
    const value = fields[field];
    walk.push(field);
    let problem: string | undefined;
    if (typeof value === 'string') {
      const limit = stringLimit(field, inMechanism);
      if (value.length > limit) problem = tooLong(walk, value.length, limit);
    } else if (Array.isArray(value)) {
      problem = listProblem(value, field, walk);
    } else if (MAP_FIELDS.has(field) && typeof value === 'object' && value !== null) {
      problem = mapProblem(value as Record<string, unknown>, walk);
    } else if (TIMESTAMP_FIELDS.has(field)) {
      problem = timestampProblem(value, walk);
    } else {
      problem = walkMessage(value, walk, field === 'mechanism');
    }
    walk.pop();
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/**
 * Why `message` (a decoded ts-proto message, or any part of one) exceeds the limits of this module, or
 * undefined. `where` names it in the answer (`connection`, `NetworkServiceEndpoint`), which then says
 * which field is too large and what the limit is, without repeating the value.
 */
export function messageProblem(message: unknown, where: string): string | undefined {
  return walkMessage(message, new Walk(where), false);
}
