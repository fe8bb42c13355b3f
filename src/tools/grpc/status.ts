/**
 * gRPC status errors. Everything that leaves a chain as a failure is an {@link NsmStatusError}, so a
 * server answers with a status code and a message that says what was wrong, and never crashes.
 * @module
 */
import { Metadata, status } from '@grpc/grpc-js';

export { status };

/** An error carrying a gRPC status code; grpc-js sends `code` and `details` to the peer. */
export class NsmStatusError extends Error {
  /** The gRPC status code sent to the peer. */
  readonly code: status;
  /** The status message sent to the peer (the same as `message`). */
  readonly details: string;
  /** Trailing metadata to send with the status; starts empty. */
  readonly metadata: Metadata;

  constructor(code: status, details: string, options?: { cause?: unknown }) {
    super(details, options);
    this.name = 'NsmStatusError';
    this.code = code;
    this.details = details;
    this.metadata = new Metadata();
  }
}

/** Shorthand for `new NsmStatusError(code, message)`. */
export function statusError(code: status, message: string, cause?: unknown): NsmStatusError {
  return new NsmStatusError(code, message, cause === undefined ? undefined : { cause });
}

/** True for errors that carry a numeric gRPC status code (ours, or a grpc-js ServiceError). */
export function hasStatusCode(error: unknown): error is Error & {
  /** The gRPC status code. */
  code: status;
  /** The status message, when the error has one. */
  details?: string;
} {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number';
}

/**
 * Whether `error` refuses the caller (PERMISSION_DENIED from `authorize`, UNAUTHENTICATED from mTLS)
 * rather than fails: asking again gets the same answer, so retries pass it on at once.
 */
export function isRefusal(error: unknown): boolean {
  return hasStatusCode(error) && (error.code === status.PERMISSION_DENIED || error.code === status.UNAUTHENTICATED);
}

/** The human part of an error: grpc-js `details` when present, else the message. */
export function errorMessage(error: unknown): string {
  if (hasStatusCode(error) && typeof error.details === 'string' && error.details !== '') return error.details;
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Turns any thrown value into a status error. Errors that already carry a code keep it;
 * anything else becomes `fallback` (INTERNAL by default).
 */
export function toStatusError(error: unknown, fallback: status = status.INTERNAL): NsmStatusError {
  if (error instanceof NsmStatusError) return error;
  if (hasStatusCode(error)) return new NsmStatusError(error.code, errorMessage(error), { cause: error });
  if (error instanceof Error && error.name === 'AbortError') {
    return new NsmStatusError(status.CANCELLED, errorMessage(error), { cause: error });
  }
  return new NsmStatusError(fallback, errorMessage(error), { cause: error });
}

/**
 * The code for "every candidate failed": the code all the failures share when they agree on one that is
 * the caller's to act on (PERMISSION_DENIED from a policy, INVALID_ARGUMENT, NOT_FOUND, ...), since trying
 * again elsewhere would not help; UNAVAILABLE otherwise.
 */
export function commonFailureCode(errors: readonly unknown[]): status {
  const codes = new Set(errors.map((e) => (hasStatusCode(e) ? e.code : status.UNKNOWN)));
  const [only] = codes;
  const transient: readonly status[] = [status.UNAVAILABLE, status.UNKNOWN, status.INTERNAL, status.CANCELLED, status.DEADLINE_EXCEEDED];
  return codes.size === 1 && only !== undefined && !transient.includes(only) ? only : status.UNAVAILABLE;
}
