/**
 * Policies: what `authorize` checks. A policy is a named, typed function over a typed input that says
 * what is wrong (a {@link PolicyViolation}) or nothing; a chain's `authorize` element takes a list of
 * them and {@link enforce} runs them in order. The first violation ends the call with
 * PERMISSION_DENIED naming the policy and, where there is one, the path segment at fault, so a denied
 * caller (and the operator reading its log) knows which rule refused it and why.
 *
 * Upstream writes its policies in Rego and evaluates them with OPA on every call; here they are plain
 * functions, typed against their input, and cheap enough to run on every Request.
 * @module
 */
import { statusError, status, type NsmStatusError } from '../grpc/status.js';

/** What a policy found wrong. */
export interface PolicyViolation {
  /** Why the input is refused, in words for the caller. */
  readonly reason: string;
  /** The index (in the whole path) of the segment at fault, when the fault is in one. */
  readonly segment?: number;
  /** That segment's name, when known. */
  readonly segmentName?: string;
}

/** A named check over an input of type `I`. */
export interface Policy<I> {
  /** The policy's name, as upstream names its Rego policies (`tokens_valid`, `prev_token_signed`...). */
  readonly name: string;
  /** Undefined when `input` passes; otherwise what is wrong. May be asynchronous (signature checks). */
  check(input: I): PolicyViolation | undefined | Promise<PolicyViolation | undefined>;
}

/** Builds a policy from a name and a check. */
export function policy<I>(name: string, check: Policy<I>['check']): Policy<I> {
  return { name, check };
}

/** The error of a refused call: PERMISSION_DENIED, naming the policy and the segment. */
export function permissionDenied(policyName: string, violation: PolicyViolation): NsmStatusError {
  const where =
    violation.segment === undefined
      ? ''
      : ` at path segment ${violation.segment}${violation.segmentName === undefined || violation.segmentName === '' ? '' : ` (${violation.segmentName})`}`;
  return statusError(status.PERMISSION_DENIED, `authorize: policy "${policyName}" failed${where}: ${violation.reason}`);
}

/** The first policy of `policies` that `input` violates, with its violation; undefined when all pass. */
export async function firstViolation<I>(
  policies: readonly Policy<I>[],
  input: I,
): Promise<{ readonly policy: Policy<I>; readonly violation: PolicyViolation } | undefined> {
  for (const candidate of policies) {
    const violation = await candidate.check(input);
    if (violation !== undefined) return { policy: candidate, violation };
  }
  return undefined;
}

/** Runs `policies` in order over `input`; throws PERMISSION_DENIED at the first violation. */
export async function enforce<I>(policies: readonly Policy<I>[], input: I): Promise<void> {
  const failed = await firstViolation(policies, input);
  if (failed !== undefined) throw permissionDenied(failed.policy.name, failed.violation);
}
