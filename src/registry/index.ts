/**
 * The Registry API side of nsm-sdk: the chain machinery, the elements and the prebuilt chains for the
 * NetworkService and NetworkServiceEndpoint registries.
 * @module
 */
export * from './core/index.js';
export * from './common/authorize/index.js';
export * from './common/begin/index.js';
export * from './common/clienturl/index.js';
export * from './common/connect/index.js';
export * from './common/dial/index.js';
export * from './common/expire/index.js';
export * from './common/grpcmetadata/index.js';
export * from './common/heal/index.js';
export * from './common/limits/index.js';
export * from './common/localbypass/index.js';
export * from './common/memory/index.js';
export * from './common/metadata/index.js';
export * from './common/null/index.js';
export * from './common/querycache/index.js';
export * from './common/refresh/index.js';
export * from './common/retry/index.js';
export * from './common/setpayload/index.js';
export * from './common/setregistrationtime/index.js';
export * from './common/store/index.js';
export * from './common/updatepath/index.js';
export * from './common/updatetoken/index.js';
export * from './common/validate/index.js';
export * from './chains/client/index.js';
export * from './chains/server/index.js';
