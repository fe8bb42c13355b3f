/**
 * `grpcmetadata`: carries the registry path between hops in gRPC metadata. The server reads the caller's
 * path into the context (a fresh one when there is none) and sends the updated path back in its response
 * headers; the client sends the context's path and adopts the one the server returns, so a refresh
 * presents the same path again.
 * @module
 */
import { Metadata } from '@grpc/grpc-js';
import type { ChainContext } from '../../../networkservice/core/context.js';
import { INCOMING_METADATA, OUTGOING_METADATA, RESPONSE_HEADERS, SEND_HEADERS } from '../../../tools/grpc/keys.js';
import { errorMessage } from '../../../tools/grpc/status.js';
import type { RegistryHandler } from '../../core/types.js';
import { NullRegistry } from '../null/index.js';
import {
  formatRegistryPath,
  parseRegistryPath,
  REGISTRY_PATH_METADATA_KEY,
  registryPathFrom,
  withRegistryPath,
  type RegistryPath,
} from './path.js';

export * from './path.js';

function lastString(metadata: Metadata | undefined): string | undefined {
  const values = metadata?.get(REGISTRY_PATH_METADATA_KEY) ?? [];
  const last = values[values.length - 1];
  if (last === undefined) return undefined;
  return typeof last === 'string' ? last : last.toString('utf8');
}

/** The server side of `grpcmetadata`. */
export class GrpcMetadataServer<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'grpcmetadata/server';

  private async run<T>(ctx: ChainContext, call: (ctx: ChainContext) => Promise<T>): Promise<T> {
    const raw = lastString(ctx.value(INCOMING_METADATA));
    const path: RegistryPath = raw === undefined ? { index: 0, segments: [] } : parseRegistryPath(raw);
    const result = await call(withRegistryPath(ctx, path));
    ctx.value(SEND_HEADERS)?.set(REGISTRY_PATH_METADATA_KEY, formatRegistryPath(path));
    return result;
  }

  override register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    return this.run(ctx, (c) => next.register(item, c));
  }

  override unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    return this.run(ctx, (c) => next.unregister(item, c));
  }
}

/** The client side of `grpcmetadata`. */
export class GrpcMetadataClient<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'grpcmetadata/client';

  private async run<T>(ctx: ChainContext, call: (ctx: ChainContext) => Promise<T>): Promise<T> {
    const path = registryPathFrom(ctx) ?? { index: 0, segments: [] };
    const outgoing = ctx.value(OUTGOING_METADATA)?.clone() ?? new Metadata();
    outgoing.set(REGISTRY_PATH_METADATA_KEY, formatRegistryPath(path));
    // The returned path replaces ours as soon as the headers arrive, so that elements after this one
    // (a client's `authorize`) see it when the call returns to them.
    const onHeaders = (headers: Metadata): void => {
      const raw = lastString(headers);
      if (raw === undefined) return;
      try {
        const returned: RegistryPath = parseRegistryPath(raw);
        path.index = returned.index;
        path.segments = returned.segments;
      } catch (error) {
        ctx.logger.warn('the registry sent back a malformed path', { error: errorMessage(error) });
      }
    };
    const callCtx = withRegistryPath(ctx, path).withValue(OUTGOING_METADATA, outgoing).withValue(RESPONSE_HEADERS, onHeaders);
    return call(callCtx);
  }

  override register(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<R> {
    return this.run(ctx, (c) => next.register(item, c));
  }

  override unregister(item: R, ctx: ChainContext, next: RegistryHandler<R, Q>): Promise<void> {
    return this.run(ctx, (c) => next.unregister(item, c));
  }
}

/** A server-side `grpcmetadata` element. */
export function grpcMetadataServer<R, Q>(): GrpcMetadataServer<R, Q> {
  return new GrpcMetadataServer();
}

/** A client-side `grpcmetadata` element. */
export function grpcMetadataClient<R, Q>(): GrpcMetadataClient<R, Q> {
  return new GrpcMetadataClient();
}
