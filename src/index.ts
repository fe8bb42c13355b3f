/**
 * nsm-sdk: a TypeScript SDK for Network Service Mesh. Everything an application, a custom endpoint or a
 * bespoke manager needs: the wire-compatible API messages, the chain machinery, the chain elements, the
 * prebuilt chains, and the tools (gRPC serving and dialing, tokens, clocks, logging).
 *
 * The generated API messages and constants are also available alone from `nsm-sdk/api`.
 * @packageDocumentation
 */

// API messages, constants and path helpers.
export * from './api/index.js';

// The chain machinery.
export * from './networkservice/core/index.js';
export { serveNetworkService, networkServiceImplementation, callContext } from './networkservice/core/serve.js';
export type { NetworkServiceBinding, ServeNetworkServiceOptions } from './networkservice/core/serve.js';

// Elements.
export * from './networkservice/common/begin/index.js';
export * from './networkservice/common/metadata/index.js';
export * from './networkservice/common/null/index.js';
export * from './networkservice/common/validate/index.js';
export * from './networkservice/common/endpointname/index.js';
export * from './networkservice/common/clienturl/index.js';
export * from './networkservice/common/clientconn/index.js';
export * from './networkservice/common/dial/index.js';
export * from './networkservice/common/connect/index.js';
export * from './networkservice/common/updatepath/index.js';
export * from './networkservice/common/trimpath/index.js';
export * from './networkservice/common/updatetoken/index.js';
export * from './networkservice/common/authorize/index.js';
export * from './networkservice/common/mechanisms/index.js';
export * from './networkservice/mechanisms/kernel/index.js';
export * from './networkservice/ipam/point2point/index.js';
export * from './networkservice/common/clientinfo/index.js';
export * from './networkservice/common/excludedprefixes/index.js';
export * from './networkservice/common/netsvcmonitor/index.js';
export * from './networkservice/common/discover/index.js';
export * from './networkservice/common/roundrobin/index.js';
export * from './networkservice/common/discoverforwarder/index.js';
export * from './networkservice/common/filtermechanisms/index.js';
export * from './networkservice/common/mechanismtranslation/index.js';
export * from './networkservice/common/passthrough/index.js';
export * from './networkservice/common/refresh/index.js';
export * from './networkservice/common/timeout/index.js';
export * from './networkservice/common/retry/index.js';
export * from './networkservice/common/monitor/index.js';
export * from './networkservice/common/heal/index.js';
export * from './networkservice/mechanisms/vxlan/index.js';

// Prebuilt chains.
export * from './networkservice/chains/client/index.js';
export * from './networkservice/chains/endpoint/index.js';
export * from './networkservice/chains/nsmgr/index.js';
export * from './networkservice/chains/forwarder/index.js';

// The registry: machinery, elements, chains.
export * from './registry/index.js';

// Tools.
export * from './tools/clock/index.js';
export * from './tools/log/index.js';
export * from './tools/grpc/status.js';
export * from './tools/grpc/address.js';
export * from './tools/grpc/keys.js';
export * from './tools/grpc/server.js';
export { HealthRegistry, ServingStatus } from './tools/grpc/health.js';
export { HealthCheckRequest, HealthCheckResponse, HealthService } from './api/gen/grpc/health/v1/health.js';
export { unaryCall, serverStreamCall, callOptions, type UnaryMethod, type StreamMethod } from './tools/grpc/call.js';
export * from './tools/matchutils/index.js';
export * from './tools/token/index.js';
export * from './tools/nsurl/index.js';
export * from './tools/serial/index.js';
export * from './tools/ippool/index.js';
export * from './tools/manifest/index.js';
export * from './tools/process/index.js';
export * from './tools/spiffe/index.js';
export * from './tools/security/index.js';
export * from './tools/policy/index.js';
export * from './tools/security/env.js';
