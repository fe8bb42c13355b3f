/**
 * `connect` for registries. The client sends Register, Find and Unregister to the registry over the
 * channel `dial` chose and never calls `next`: it ends a client chain. The server hands each call to a
 * client chain (a registry server that forwards to another registry, a manager to the registry).
 * @module
 */
import type { Client } from '@grpc/grpc-js';
import { defer, map, type Observable } from 'rxjs';
import type { ChainContext } from '../../../networkservice/core/context.js';
import { serverStreamCall, unaryCall } from '../../../tools/grpc/call.js';
import { statusError, status } from '../../../tools/grpc/status.js';
import type { RegistryKind } from '../../core/kind.js';
import type { FindResult, RegistryElement, RegistryHandler } from '../../core/types.js';
import { NullRegistry } from '../null/index.js';
import { registryChannelFrom } from '../dial/index.js';
import { toRegistryHandler } from '../../core/chain.js';

/** The registry `connect` client element. */
export class ConnectRegistryClient<R, Q, P> extends NullRegistry<R, Q> {
  override readonly name = 'connect/client';

  constructor(private readonly kind: RegistryKind<R, Q, P>) {
    super();
  }

  private channel(ctx: ChainContext): Client {
    const client = registryChannelFrom(ctx);
    if (client === undefined) throw statusError(status.FAILED_PRECONDITION, 'no registry channel: put dial before connect');
    return client;
  }

  override async register(item: R, ctx: ChainContext): Promise<R> {
    return unaryCall(this.channel(ctx), this.kind.methods.register, item, ctx);
  }

  override find(query: Q, ctx: ChainContext): Observable<FindResult<R>> {
    return defer(() => serverStreamCall(this.channel(ctx), this.kind.methods.find, query, ctx)).pipe(
      map((response) => this.kind.fromResponse(response)),
    );
  }

  override async unregister(item: R, ctx: ChainContext): Promise<void> {
    await unaryCall(this.channel(ctx), this.kind.methods.unregister, item, ctx);
  }
}

/** The registry `connect` server element: hands every call to `client` instead of `next`. */
export class ConnectRegistryServer<R, Q> extends NullRegistry<R, Q> {
  override readonly name = 'connect/server';
  private readonly client: RegistryHandler<R, Q>;

  constructor(client: RegistryElement<R, Q>) {
    super();
    this.client = toRegistryHandler(client);
  }

  override register(item: R, ctx: ChainContext): Promise<R> {
    return this.client.register(item, ctx);
  }

  override find(query: Q, ctx: ChainContext): Observable<FindResult<R>> {
    return this.client.find(query, ctx);
  }

  override unregister(item: R, ctx: ChainContext): Promise<void> {
    return this.client.unregister(item, ctx);
  }
}

/** A registry `connect` client element. */
export function connectRegistryClient<R, Q, P>(kind: RegistryKind<R, Q, P>): ConnectRegistryClient<R, Q, P> {
  return new ConnectRegistryClient(kind);
}

/** A registry `connect` server element. */
export function connectRegistryServer<R, Q>(client: RegistryElement<R, Q>): ConnectRegistryServer<R, Q> {
  return new ConnectRegistryServer(client);
}
