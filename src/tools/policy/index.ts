/**
 * Policies for `authorize`: typed checks over typed inputs, run in order by {@link enforce}. The default
 * sets are upstream's (token path: valid, not expired, chained, signed by the TLS peer; registry: only
 * the registrant), plus a monitor policy that upstream leaves off. Pass your own lists to the chains to
 * add rules (a function over the same input) or to drop some.
 * @module
 */
export { enforce, firstViolation, permissionDenied, policy, type Policy, type PolicyViolation } from './types.js';
export {
  defaultClientPathPolicies,
  defaultServerPathPolicies,
  nextTokenSigned,
  type PathPolicy,
  type PathChecker,
  type PathPolicyInput,
  pathSideInput,
  prevTokenSigned,
  tokensChained,
  tokensNotExpired,
  tokensValid,
  type TokenPathSegment,
} from './path.js';
export { defaultRegistryPolicies, RegistrantTable, registrantOnly, type RegistrantInput, type RegistryPolicy } from './registry.js';
export { defaultMonitorPolicies, type MonitorPolicy, type MonitorPolicyInput, ownConnections } from './monitor.js';
