import type { Client, ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Observable, Subscription } from 'rxjs';
import { type ConnectionEvent, type DeepPartial, MonitorConnectionService, MonitorScopeSelector } from '../../../api/gen/connection.js';
import type { ChainContext } from '../../core/context.js';
import type { GrpcServer } from '../../../tools/grpc/server.js';
import { serverStreamCall } from '../../../tools/grpc/call.js';
import type { ConnectionMonitor } from './hub.js';
import type { MonitorPolicy } from '../../../tools/policy/monitor.js';
import { callPeer } from '../../../tools/spiffe/tls.js';
import { authorizeMonitorEvents } from '../authorize/monitor.js';

/** The gRPC service name of MonitorConnection (upstream's package is `connection`). */
export const MONITOR_SERVICE_NAME = 'connection.MonitorConnection';

/** What {@link monitorImplementation} returns. */
export interface MonitorBinding {
  /** The `MonitorConnections` handler to add to a grpc-js server. */
  readonly implementation: UntypedServiceImplementation;
  /** Streams open now. */
  readonly openStreams: number;
  /** Ends every open stream (the server is stopping: watchers see the end at once). */
  endStreams(): void;
}

/**
 * The grpc-js implementation of MonitorConnection over `monitor`. With `policies` (the role's monitor
 * policies), each caller, known by its TLS identity, sees only the connections they allow.
 */
export function monitorImplementation(monitor: ConnectionMonitor, policies: readonly MonitorPolicy[] = []): MonitorBinding {
  const streams = new Map<ServerWritableStream<MonitorScopeSelector, ConnectionEvent>, Subscription>();
  const finish = (call: ServerWritableStream<MonitorScopeSelector, ConnectionEvent>): void => {
    streams.get(call)?.unsubscribe();
    streams.delete(call);
  };
  const monitorConnections = (call: ServerWritableStream<MonitorScopeSelector, ConnectionEvent>): void => {
    call.on('cancelled', () => finish(call));
    call.on('error', () => finish(call));
    const visible = authorizeMonitorEvents(policies, callPeer(call.getAuthContext?.())?.spiffeId);
    const subscription = monitor.events(call.request).subscribe({
      next: (event) => {
        const shown = visible(event);
        if (shown !== undefined) call.write(shown);
      },
      complete: () => {
        finish(call);
        call.end();
      },
    });
    if (!subscription.closed) streams.set(call, subscription);
  };
  return {
    implementation: { monitorConnections },
    get openStreams() {
      return streams.size;
    },
    endStreams() {
      for (const call of [...streams.keys()]) {
        finish(call);
        call.end();
      }
    },
  };
}

/**
 * Adds MonitorConnection over `monitor` to `server`, with the monitor policies of the server's security;
 * open streams end when it stops.
 */
export function serveMonitorConnection(server: GrpcServer, monitor: ConnectionMonitor): MonitorBinding {
  const binding = monitorImplementation(monitor, server.security?.policies.monitor ?? []);
  server.addService(MONITOR_SERVICE_NAME, MonitorConnectionService, binding.implementation);
  server.onStop(() => Promise.resolve(binding.endStreams()));
  return binding;
}

/**
 * Watches a peer's connections over `channel`: a cold Observable of the peer's MonitorConnections stream
 * (the call starts on subscription and is cancelled on unsubscribe or when `ctx` is cancelled).
 */
export function watchConnections(
  channel: Client,
  selector: DeepPartial<MonitorScopeSelector>,
  ctx: ChainContext,
): Observable<ConnectionEvent> {
  return serverStreamCall(channel, MonitorConnectionService.monitorConnections, MonitorScopeSelector.fromPartial(selector), ctx);
}
