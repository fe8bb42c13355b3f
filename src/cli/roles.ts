/**
 * The roles the `nsm` command runs, each built from the SDK's chains and nothing else: read the settings,
 * log them in one line, serve, report ready, and on stop release everything (connections closed,
 * registrations removed). One file per role under `roles/`.
 * @module
 */
export { type Role, type RoleEnv, type Running, StartAborted, retryUntil, type RetryPlan } from './roles/common.js';
export { registryRole } from './roles/registry.js';
export { nsmgrRole } from './roles/nsmgr.js';
export { forwarderRole } from './roles/forwarder.js';
export { nseRole, parseDNSConfigs } from './roles/nse.js';
export { nscRole, nscRequests } from './roles/nsc.js';
