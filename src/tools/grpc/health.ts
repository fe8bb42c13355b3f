/**
 * The gRPC health service (grpc.health.v1) for every NSM role, so standard probes can ask whether a
 * registry, manager, forwarder or endpoint is serving.
 * @module
 */
import type { ServerUnaryCall, ServerWritableStream, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  HealthCheckRequest,
  HealthCheckResponse,
  HealthCheckResponse_ServingStatus as ServingStatus,
  HealthService,
} from '../../api/gen/grpc/health/v1/health.js';
import { statusError, status } from './status.js';

export { ServingStatus };

/** Serving status per service name; the empty name is the server as a whole. */
export class HealthRegistry {
  private readonly statuses = new Map<string, ServingStatus>([['', ServingStatus.SERVING]]);
  private readonly watchers = new Set<{ service: string; write: (s: ServingStatus) => void; end: () => void }>();

  /** Sets a service's status and tells its watchers. */
  set(service: string, value: ServingStatus): void {
    this.statuses.set(service, value);
    for (const watcher of this.watchers) if (watcher.service === service) watcher.write(value);
  }

  /** Marks every service NOT_SERVING and ends watch streams, so probes do not hold a stopping server open. */
  shutdown(): void {
    for (const service of [...this.statuses.keys()]) this.set(service, ServingStatus.NOT_SERVING);
    for (const watcher of this.watchers) watcher.end();
    this.watchers.clear();
  }

  /** A service's current status; undefined for a service never set. */
  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** The definition and implementation to add to a grpc-js server. */
  service(): {
    /** The `grpc.health.v1.Health` service definition. */
    definition: typeof HealthService;
    /** Its `Check` and `Watch` handlers, backed by this registry. */
    implementation: UntypedServiceImplementation;
  } {
    const check = (call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>): void => {
      const value = this.statuses.get(call.request.service);
      if (value === undefined) callback(statusError(status.NOT_FOUND, `unknown service "${call.request.service}"`));
      else callback(null, HealthCheckResponse.create({ status: value }));
    };
    const watch = (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>): void => {
      const service = call.request.service;
      const watcher = {
        service,
        write: (s: ServingStatus) => call.write(HealthCheckResponse.create({ status: s })),
        end: () => call.end(),
      };
      this.watchers.add(watcher);
      watcher.write(this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN);
      call.on('cancelled', () => this.watchers.delete(watcher));
      call.on('close', () => this.watchers.delete(watcher));
    };
    return { definition: HealthService, implementation: { check, watch } };
  }
}
