/**
 * Serves a chain as the `networkservice.NetworkService` gRPC service. Each call gets a context with the
 * call's deadline, cancellation, metadata and peer; failures leave as gRPC status errors; and the
 * connections the chain holds are remembered, so stopping the server closes each of them through the
 * chain (downstream hops are released, not left to expire).
 * @module
 */
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Connection } from '../../api/gen/connection.js';
import type { Empty } from '../../api/gen/google/protobuf/empty.js';
import { NetworkServiceRequest, NetworkServiceService } from '../../api/gen/networkservice.js';
import type { GrpcServer } from '../../tools/grpc/server.js';
import { INCOMING_METADATA, PEER_ADDRESS } from '../../tools/grpc/keys.js';
import { errorMessage, toStatusError } from '../../tools/grpc/status.js';
import { callPeer } from '../../tools/spiffe/tls.js';
import { PEER_AUTH_INFO } from '../../tools/token/types.js';
import { ChainContext, ContextKey, type CancelFunc } from './context.js';
import { toHandler } from './chain.js';
import type { NetworkServiceElement, NetworkServiceHandler } from './types.js';

/**
 * Set by the server for each Request: called when the chain closes that connection on its own (a timeout,
 * a NetworkService change), so the server stops holding it. `begin` keeps it with the request's context.
 */
export const ON_CLOSED_BY_CHAIN = new ContextKey<() => void>('serve.onClosedByChain');

/**
 * Set by the server for each Request and Close: the served chain's `updatepath` calls it with this hop's
 * id for the connection (its own path segment's id, the id `begin` and every later element use). The
 * server holds connections under that id, not under the id the caller sent: another caller may send the
 * same id for another connection, and a Close that names a live id with a path that leads elsewhere
 * closes nothing, so neither may make the server forget a live connection.
 */
export const ON_HOP_ID = new ContextKey<(id: string) => void>('serve.onHopId');

/** Options for {@link serveNetworkService}. */
export interface ServeNetworkServiceOptions {
  /** The context every call derives from (clock, logger, values). */
  readonly ctx?: ChainContext;
  /** How long closing each held connection may take when the server stops (ms). */
  readonly closeTimeoutMs?: number;
}

/** The context for one incoming call: deadline, cancellation, metadata, peer address and, over mTLS, the peer's identity. */
export function callContext(
  base: ChainContext,
  call: Pick<ServerUnaryCall<unknown, unknown>, 'metadata' | 'getPeer' | 'getDeadline' | 'on' | 'removeListener'> &
    Partial<Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext'>>,
): [ChainContext, CancelFunc] {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() - Date.now() : Number.isFinite(deadline) ? deadline - Date.now() : undefined;
  let withValues = base.withValue(INCOMING_METADATA, call.metadata).withValue(PEER_ADDRESS, call.getPeer());
  const peer = callPeer(call.getAuthContext?.());
  if (peer !== undefined) withValues = withValues.withValue(PEER_AUTH_INFO, peer);
  const [ctx, cancel] = withValues.withCancel(ms);
  const onCancelled = (): void => cancel(new Error('call cancelled by the client'));
  call.on('cancelled', onCancelled);
  return [
    ctx,
    (reason?: unknown) => {
      call.removeListener('cancelled', onCancelled);
      cancel(reason);
    },
  ];
}

/**
 * The hooks a served call puts in its context (`ON_HOP_ID`, `ON_CLOSED_BY_CHAIN`) and what they learn.
 * An object of its own, not closures in the handler: `begin` keeps a call's context for the
 * connection's lifetime, and closures made beside `call` and `callback` would keep the finished call
 * (its HTTP/2 stream, request and metadata) alive with it, several KB per connection.
 */
class HopTracker {
  /** This hop's id for the connection, as the served chain's `updatepath` reported it first. */
  hopId: string | undefined;
  /** The key the connection is held under, once the Request succeeded. */
  key: string | undefined;

  constructor(private readonly held: Map<string, Connection>) {}

  /** The first report is the served chain's own updatepath (a nested chain's would come later). */
  readonly onHopId = (id: string): void => {
    this.hopId ??= id;
  };

  readonly onClosedByChain = (): void => {
    if (this.key !== undefined) this.held.delete(this.key);
  };
}

/** What {@link networkServiceImplementation} returns. */
export interface NetworkServiceBinding {
  /** The `Request` and `Close` handlers to add to a grpc-js server. */
  readonly implementation: UntypedServiceImplementation;
  /** Connections returned by Request and not closed since, by this hop's id (the one `updatepath` reports, see `ON_HOP_ID`). */
  readonly held: ReadonlyMap<string, Connection>;
  /** Closes every held connection through the chain. */
  closeAll(): Promise<void>;
}

/** Builds the grpc-js implementation of NetworkService for `element`. */
export function networkServiceImplementation(
  element: NetworkServiceElement,
  options: ServeNetworkServiceOptions = {},
): NetworkServiceBinding {
  const handler: NetworkServiceHandler = toHandler(element);
  const base = options.ctx ?? ChainContext.background();
  const held = new Map<string, Connection>();

  const request = (call: ServerUnaryCall<NetworkServiceRequest, Connection>, callback: sendUnaryData<Connection>): void => {
    const [callCtx, cancel] = callContext(base, call);
    const hop = new HopTracker(held);
    const ctx = callCtx.withValue(ON_HOP_ID, hop.onHopId).withValue(ON_CLOSED_BY_CHAIN, hop.onClosedByChain);
    handler
      .request(call.request, ctx)
      .then(
        (conn) => {
          // A chain without updatepath knows the connection by the id the caller sees.
          hop.key = hop.hopId ?? conn.id;
          held.set(hop.key, conn);
          callback(null, conn);
        },
        (error: unknown) => {
          const conn = call.request.connection;
          base.logger.info(`Request of connection ${conn?.id ?? '?'} for ${JSON.stringify(conn?.networkService ?? '')} failed: ${errorMessage(error)}`);
          callback(toStatusError(error));
        },
      )
      .finally(() => cancel());
  };

  const close = (call: ServerUnaryCall<Connection, Empty>, callback: sendUnaryData<Empty>): void => {
    const [callCtx, cancel] = callContext(base, call);
    // Read before the chain runs: updatepath rewrites the id to this hop's own segment id.
    const callerId = call.request.id;
    const hop = new HopTracker(held);
    const ctx = callCtx.withValue(ON_HOP_ID, hop.onHopId);
    const forget = (closed: boolean): void => {
      // Once updatepath has taken the Close to this hop's connection, begin forgets it whether or not the
      // hops after it closed cleanly; a Close refused before that (validate, an inconsistent path) leaves
      // everything as it was. A chain without updatepath: the caller's id, when the Close succeeded.
      if (hop.hopId !== undefined) held.delete(hop.hopId);
      else if (closed) held.delete(callerId);
    };
    handler
      .close(call.request, ctx)
      .then(
        () => {
          forget(true);
          callback(null, {});
        },
        (error: unknown) => {
          forget(false);
          callback(toStatusError(error));
        },
      )
      .finally(() => cancel());
  };

  const closeAll = async (): Promise<void> => {
    const timeout = options.closeTimeoutMs ?? 5000;
    await Promise.all(
      [...held].map(async ([key, conn]) => {
        const [ctx, cancel] = base.withCancel(timeout);
        try {
          await handler.close(conn, ctx);
        } catch (error) {
          base.logger.warn('closing a held connection on stop failed', { id: conn.id, error: errorMessage(error) });
        } finally {
          held.delete(key);
          cancel();
        }
      }),
    );
  };

  return { implementation: { request, close }, held, closeAll };
}

/**
 * Adds the NetworkService service for `element` to `server`; when the server stops, every connection
 * the element still holds is closed through it first.
 */
export function serveNetworkService(
  server: GrpcServer,
  element: NetworkServiceElement,
  options: ServeNetworkServiceOptions = {},
): NetworkServiceBinding {
  const binding = networkServiceImplementation(element, options);
  server.addService('networkservice.NetworkService', NetworkServiceService, binding.implementation);
  server.onStop(() => binding.closeAll());
  return binding;
}
