/**
 * Trying candidates in turn (endpoints in `roundrobin`, forwarders in `discoverforwarder`) within one
 * request's time. Each candidate but the last gets an equal share of what is left of the deadline, so a
 * candidate that hangs cannot eat the time of the ones after it; a candidate is tried at most once per
 * request; and the failure, when every candidate fails, names each one with its reason. When the
 * caller's own deadline runs out, the answer is DEADLINE_EXCEEDED with the reasons seen so far, not a
 * bare "cancelled".
 * @module
 */
import type { ChainContext } from '../../networkservice/core/context.js';
import { DeadlineExceededError } from '../../networkservice/core/context.js';
import { commonFailureCode, errorMessage, status, statusError } from '../grpc/status.js';

/** One thing to try. */
export interface Candidate {
  /** Its name, for the failure message and for trying it only once. */
  readonly name: string;
}

/** Options of {@link tryCandidates}. */
export interface TryCandidatesOptions {
  /** What the candidates are, for the failure message: `all ${what} have failed: ...`. */
  readonly what: string;
  /** Names already tried (and failed) in this request; they are skipped, and failures add to it. */
  readonly tried?: Set<string>;
  /** Failures seen before (for instance of a kept candidate), in the message of the final error. */
  readonly failures?: readonly Failure[];
}

/** A candidate's failure. */
export interface Failure {
  /** The candidate's name. */
  readonly name: string;
  /** What it failed with. */
  readonly error: unknown;
}

/** The failure message part for `failures`: `a (reason); b (reason)`. */
export function describeFailures(failures: readonly Failure[]): string {
  return failures.map((f) => `${f.name} (${errorMessage(f.error)})`).join('; ');
}

/**
 * Calls `attempt` for each candidate in order until one succeeds; see the module comment.
 * @throws a status error naming every failed candidate (code: see {@link commonFailureCode})
 */
export async function tryCandidates<C extends Candidate, T>(
  candidates: readonly C[],
  ctx: ChainContext,
  options: TryCandidatesOptions,
  attempt: (candidate: C, ctx: ChainContext) => Promise<T>,
): Promise<T> {
  const tried = options.tried ?? new Set<string>();
  const failures: Failure[] = [...(options.failures ?? [])];
  const left = candidates.filter((c) => !tried.has(c.name));
  for (let i = 0; i < left.length; i++) {
    const candidate = left[i] as C;
    tried.add(candidate.name);
    const remaining = ctx.remaining();
    const share = remaining === undefined || i === left.length - 1 ? undefined : Math.max(0, remaining / (left.length - i));
    const [candidateCtx, cancel] = share === undefined ? [ctx, undefined] : ctx.withCancel(share);
    try {
      return await attempt(candidate, candidateCtx);
    } catch (error) {
      failures.push({ name: candidate.name, error });
      if (ctx.signal.aborted) throw abortedError(ctx, options.what, failures);
    } finally {
      cancel?.();
    }
  }
  if (failures.length === 0) throw statusError(status.UNAVAILABLE, `no ${options.what} left to try`);
  throw statusError(
    commonFailureCode(failures.map((f) => f.error)),
    `all ${options.what} have failed: ${describeFailures(failures)}`,
    failures.at(-1)?.error,
  );
}

/** The error for a caller whose context ended while candidates were tried. */
function abortedError(ctx: ChainContext, what: string, failures: readonly Failure[]): Error {
  const reasons = failures.length === 0 ? '' : `; tried ${what}: ${describeFailures(failures)}`;
  if (ctx.signal.reason instanceof DeadlineExceededError || (ctx.remaining() ?? 1) <= 0) {
    return statusError(status.DEADLINE_EXCEEDED, `deadline exceeded${reasons}`, failures.at(-1)?.error);
  }
  return statusError(status.CANCELLED, `cancelled${reasons}`, failures.at(-1)?.error);
}
