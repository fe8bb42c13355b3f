/**
 * Matching rules shared by the registry (Find filters, registration validation) and by discovery
 * (a NetworkService's `matches`: which endpoints a client with given labels may use).
 * @module
 */
export { expandTemplate, formatLabels, isSubset, type Labels } from './labels.js';
export { matchEndpoints, selectMatch } from './endpoints.js';
export { matchNetworkService, matchNetworkServiceEndpoint } from './find.js';
export { validateNetworkService, validateNetworkServiceEndpoint } from './validate.js';
