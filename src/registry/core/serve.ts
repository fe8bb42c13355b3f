/**
 * Serves registry chains as the `registry.NetworkServiceRegistry` and `registry.NetworkServiceEndpointRegistry`
 * gRPC services. Each call gets a context with the call's deadline, cancellation, metadata and peer, plus a
 * header set that elements may fill (the registry path); failures leave as gRPC status errors. A Find call
 * subscribes to the chain's find: each result is written to the stream, completion ends it, and a client
 * that cancels the call unsubscribes.
 * @module
 */
import {
  Metadata,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Subscription } from 'rxjs';
import type { Empty } from '../../api/gen/google/protobuf/empty.js';
import { ChainContext, type CancelFunc } from '../../networkservice/core/context.js';
import { callContext } from '../../networkservice/core/serve.js';
import { SEND_HEADERS } from '../../tools/grpc/keys.js';
import type { GrpcServer } from '../../tools/grpc/server.js';
import { errorMessage, toStatusError } from '../../tools/grpc/status.js';
import { toRegistryHandler } from './chain.js';
import type { RegistryKind } from './kind.js';
import type { RegistryElement } from './types.js';

/** Options for {@link serveRegistry}. */
export interface ServeRegistryOptions {
  /** The context every call derives from (clock, logger, values). */
  readonly ctx?: ChainContext;
}

/** How many calls of each kind a registry binding has served. */
export interface RegistryCallCounts {
  register: number;
  /** One-shot Finds. */
  find: number;
  /** Watching Finds. */
  watch: number;
  unregister: number;
}

/** What {@link registryImplementation} returns. */
export interface RegistryBinding {
  /** The `Register`, `Find` and `Unregister` handlers to add to a grpc-js server. */
  readonly implementation: UntypedServiceImplementation;
  /** Find streams open now. */
  readonly openFinds: number;
  /** Calls served since the binding was made, by kind (watching Finds counted apart from one-shot ones). */
  readonly calls: Readonly<RegistryCallCounts>;
  /** Ends every open Find stream (used when the server stops, so clients see the end at once). */
  endFinds(): void;
}

function withHeaders(ctx: ChainContext): [ChainContext, Metadata] {
  const headers = new Metadata();
  return [ctx.withValue(SEND_HEADERS, headers), headers];
}

function sendHeaders(call: { sendMetadata(md: Metadata): void }, headers: Metadata): void {
  if (Object.keys(headers.getMap()).length > 0) call.sendMetadata(headers);
}

/** Builds the grpc-js implementation of one registry service for `element`. */
export function registryImplementation<R, Q, P>(
  kind: RegistryKind<R, Q, P>,
  element: RegistryElement<R, Q>,
  options: ServeRegistryOptions = {},
): RegistryBinding {
  const handler = toRegistryHandler(element);
  const base = options.ctx ?? ChainContext.background();
  const finds = new Map<ServerWritableStream<Q, P>, [Subscription, CancelFunc]>();
  const calls: RegistryCallCounts = { register: 0, find: 0, watch: 0, unregister: 0 };

  const unary = <In, Out>(
    run: (item: R, ctx: ChainContext) => Promise<Out>,
  ): ((call: ServerUnaryCall<R, In>, callback: sendUnaryData<Out>) => void) => {
    return (call, callback) => {
      const [callCtx, cancel] = callContext(base, call);
      const [ctx, headers] = withHeaders(callCtx);
      run(call.request, ctx)
        .then(
          (result) => {
            sendHeaders(call, headers);
            callback(null, result);
          },
          (error: unknown) => {
            base.logger.debug(`${kind.serviceName} call failed`, { error: errorMessage(error) });
            callback(toStatusError(error));
          },
        )
        .finally(() => cancel());
    };
  };

  const register = unary<R, R>((item, ctx) => {
    calls.register++;
    return handler.register(item, ctx);
  });
  const unregister = unary<Empty, Empty>(async (item, ctx) => {
    calls.unregister++;
    await handler.unregister(item, ctx);
    return {};
  });

  const find = (call: ServerWritableStream<Q, P>): void => {
    if (kind.readQuery(call.request).watch) calls.watch++;
    else calls.find++;
    const [ctx, cancel] = callContext(base, call);
    const finish = (): void => {
      const entry = finds.get(call);
      finds.delete(call);
      entry?.[0].unsubscribe();
      cancel();
    };
    call.on('cancelled', finish);
    const subscription = handler.find(call.request, ctx).subscribe({
      next: (result) => {
        call.write(kind.toResponse(result));
      },
      error: (error: unknown) => {
        finish();
        call.emit('error', toStatusError(error));
      },
      complete: () => {
        finish();
        call.end();
      },
    });
    if (!subscription.closed) finds.set(call, [subscription, cancel]);
  };

  return {
    implementation: { register, find, unregister },
    calls,
    get openFinds() {
      return finds.size;
    },
    endFinds() {
      for (const [call, [subscription, cancel]] of [...finds]) {
        finds.delete(call);
        subscription.unsubscribe();
        cancel();
        call.end();
      }
    },
  };
}

/** Adds the registry service of `kind` for `element` to `server`; open Find streams end when it stops. */
export function serveRegistry<R, Q, P>(
  server: GrpcServer,
  kind: RegistryKind<R, Q, P>,
  element: RegistryElement<R, Q>,
  options: ServeRegistryOptions = {},
): RegistryBinding {
  const binding = registryImplementation(kind, element, options);
  server.addService(kind.serviceName, kind.service, binding.implementation);
  server.onStop(() => {
    binding.endFinds();
    return Promise.resolve();
  });
  return binding;
}
