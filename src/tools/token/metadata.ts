/**
 * Tokens in gRPC metadata, under upstream NSM's keys, so a Go peer reads ours and we read theirs.
 * @module
 */
import { credentials, Metadata, type CallCredentials, type MetadataValue } from '@grpc/grpc-js';
import { statusError, status } from '../grpc/status.js';
import type { GeneratedToken, TokenGenerator } from './types.js';

/** Metadata key of the caller's token. */
export const TOKEN_METADATA_KEY = 'nsm-client-token';

/** Metadata key of the token's expiry, an RFC 3339 timestamp. */
export const TOKEN_EXPIRES_METADATA_KEY = 'nsm-client-token-expires';

/**
 * Formats `date` as RFC 3339 in UTC, with as many fraction digits as needed and none when whole,
 * as Go's `time.RFC3339Nano` does (`2026-01-01T00:00:00Z`, `2026-01-01T00:00:00.5Z`).
 */
export function formatRfc3339(date: Date): string {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError('cannot format an invalid Date');
  // Tokens are reused for a second (see the JWT generator), so each hop formats the same expiry again
  // and again: the last answer is kept.
  if (ms !== lastFormatted.ms) lastFormatted = { ms, text: date.toISOString().replace(/\.?0+Z$/, 'Z') };
  return lastFormatted.text;
}

let lastFormatted = { ms: Number.NaN, text: '' };

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 timestamp strictly (date, time, and a `Z` or `±hh:mm` offset are all required);
 * fractions finer than a millisecond are dropped. Returns undefined when `text` is not one.
 */
export function parseRfc3339(text: string): Date | undefined {
  // Every call of a hop carries the same few expiries (tokens are reused for a second): the last is kept.
  if (text !== lastParsed.text) lastParsed = { text, ms: parseUncached(text)?.getTime() };
  return lastParsed.ms === undefined ? undefined : new Date(lastParsed.ms);
}

let lastParsed: { text: string; ms: number | undefined } = { text: '', ms: undefined };

function parseUncached(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  // A day that does not exist (31 February) would roll over into the next month: not a timestamp.
  if (date.getUTCDate() !== day) return undefined;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    const offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
    return new Date(date.getTime() - offsetMin * 60_000);
  }
  return date;
}

/** Sets our token and its expiry in `metadata`, replacing any earlier values. */
export function writeTokenMetadata(metadata: Metadata, token: string, expires: Date): void {
  metadata.set(TOKEN_METADATA_KEY, token);
  metadata.set(TOKEN_EXPIRES_METADATA_KEY, formatRfc3339(expires));
}

function single(values: MetadataValue[], key: string): string {
  if (values.length !== 1) {
    throw statusError(status.INVALID_ARGUMENT, `metadata "${key}" has ${values.length} values, expected 1`);
  }
  const value = values[0] as MetadataValue;
  return typeof value === 'string' ? value : value.toString('utf8');
}

/**
 * The caller's token and expiry from incoming metadata; undefined when neither is there. Throws
 * INVALID_ARGUMENT when only one of the two is there, either is repeated, or the expiry is not RFC 3339.
 */
export function readTokenMetadata(metadata: Metadata): GeneratedToken | undefined {
  const tokens = metadata.get(TOKEN_METADATA_KEY);
  const expiries = metadata.get(TOKEN_EXPIRES_METADATA_KEY);
  if (tokens.length === 0 && expiries.length === 0) return undefined;
  const token = single(tokens, TOKEN_METADATA_KEY);
  const raw = single(expiries, TOKEN_EXPIRES_METADATA_KEY);
  const expires = parseRfc3339(raw);
  if (expires === undefined) {
    throw statusError(
      status.INVALID_ARGUMENT,
      `metadata "${TOKEN_EXPIRES_METADATA_KEY}" is not an RFC 3339 timestamp: ${JSON.stringify(raw)}`,
    );
  }
  return { token, expires };
}

/**
 * Per-call credentials that send a fresh token from `generator` with every call, for channels with
 * TLS (grpc-js applies call credentials only on secure channels: combine them with
 * `credentials.combineChannelCredentials`). grpc-js does not tell the generator who the server is, so
 * it gets no peer information. On insecure channels the `updatetoken` client element does this job.
 */
export function tokenCallCredentials(generator: TokenGenerator): CallCredentials {
  return credentials.createFromMetadataGenerator((_options, callback) => {
    generator(undefined).then(
      ({ token, expires }) => {
        const metadata = new Metadata();
        writeTokenMetadata(metadata, token, expires);
        callback(null, metadata);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  });
}
