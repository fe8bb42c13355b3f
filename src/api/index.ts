/**
 * `nsm-sdk/api`: the Network Service Mesh API on its own, wire-compatible with upstream
 * (github.com/networkservicemesh/api): the protobuf messages and enums with their codecs (`create`,
 * `fromPartial`, `encode`, `decode`, `fromJSON`, `toJSON`), the grpc-js service definitions, the string
 * constants that have no proto message (mechanism types and parameter keys, payloads, labels), and the
 * path helpers.
 *
 * Names are the proto names, except where two generated files, or the chain machinery, use the same one:
 * - ipam's `Type` enum is {@link IpamType} (with `ipamTypeFromJSON` / `ipamTypeToJSON`);
 * - the grpc-js server interfaces end in `GrpcServer` (`NetworkServiceGrpcServer`, ...), because
 *   `NetworkServiceServer` is the chain element type of `nsm-sdk`;
 * - `DeepPartial` and `MessageFns`, identical in every generated file, are exported once.
 * @module
 */

// connectioncontext.proto
export {
  ConnectionContext,
  ConnectionContext_ExtraContextEntry,
  DNSConfig,
  DNSContext,
  EthernetContext,
  ExtraPrefixRequest,
  IPContext,
  IpFamily,
  IpFamily_Family,
  ipFamily_FamilyFromJSON,
  ipFamily_FamilyToJSON,
  IpNeighbor,
  PolicyRoute,
  Route,
} from './gen/connectioncontext.js';

// connection.proto
export {
  Connection,
  Connection_LabelsEntry,
  ConnectionEvent,
  ConnectionEvent_ConnectionsEntry,
  ConnectionEventType,
  connectionEventTypeFromJSON,
  connectionEventTypeToJSON,
  Mechanism,
  Mechanism_ParametersEntry,
  MonitorConnectionService,
  type MonitorConnectionServer as MonitorConnectionGrpcServer,
  MonitorScopeSelector,
  Path,
  PathSegment,
  PathSegment_MetricsEntry,
  State,
  stateFromJSON,
  stateToJSON,
  type DeepPartial,
  type MessageFns,
} from './gen/connection.js';

// networkservice.proto
export {
  NetworkServiceRequest,
  NetworkServiceService,
  type NetworkServiceServer as NetworkServiceGrpcServer,
} from './gen/networkservice.js';

// registry.proto
export {
  Destination,
  Destination_DestinationSelectorEntry,
  Match,
  Match_SourceSelectorEntry,
  Metadata,
  Metadata_LabelsEntry,
  NetworkService,
  NetworkServiceEndpoint,
  NetworkServiceEndpoint_NetworkServiceLabelsEntry,
  NetworkServiceEndpointQuery,
  NetworkServiceEndpointRegistryService,
  type NetworkServiceEndpointRegistryServer as NetworkServiceEndpointRegistryGrpcServer,
  NetworkServiceEndpointResponse,
  NetworkServiceLabels,
  NetworkServiceLabels_LabelsEntry,
  NetworkServiceQuery,
  NetworkServiceRegistryService,
  type NetworkServiceRegistryServer as NetworkServiceRegistryGrpcServer,
  NetworkServiceResponse,
} from './gen/registry.js';

// ipam.proto
export {
  IPAMService,
  type IPAMServer as IPAMGrpcServer,
  PrefixRequest,
  PrefixResponse,
  Type as IpamType,
  typeFromJSON as ipamTypeFromJSON,
  typeToJSON as ipamTypeToJSON,
} from './gen/ipam.js';

// Well-known types used by the messages above.
export { Empty } from './gen/google/protobuf/empty.js';
export { Timestamp } from './gen/google/protobuf/timestamp.js';

export * from './constants.js';
export * from './path.js';
