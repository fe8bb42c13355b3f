/**
 * `clientconn`: where a connection's gRPC channel lives between its Request and its Close. `dial` stores
 * the channel it opened here and `connect` takes it from here, both through the connection's client
 * metadata, so a refresh reuses the channel of its connection. Given a channel of its own (for example
 * one the application already has), the element offers it for every connection; it is the caller's, so
 * it is never closed here.
 * @module
 */
import type { Client } from '@grpc/grpc-js';
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { connectionMetadata, MetadataKey } from '../metadata/index.js';
import { channelPeer } from '../../../tools/spiffe/tls.js';
import type { PeerAuthInfo } from '../../../tools/token/types.js';

/** A channel held for a connection: the grpc-js client, the URL it goes to, and who closes it. */
export interface HeldChannel {
  /** The grpc-js client on the channel. */
  readonly client: Client;
  /** The URL the channel goes to. */
  readonly url: string;
  /** True when the SDK opened the channel and must let go of it; false for a caller's channel. */
  readonly owned: boolean;
  /** Gives a pooled channel's lease back (see `dial`'s ChannelPool); without it, an owned channel is closed. */
  readonly release?: () => void;
  /** Runs a hook right before a pooled channel is closed (a stream shared by its connections ends there). */
  readonly onClose?: (hook: () => void) => void;
}

/** Lets go of `held` if the SDK owns it: gives its lease back, or closes a channel of its own. */
export function releaseChannel(held: HeldChannel): void {
  if (!held.owned) return;
  if (held.release !== undefined) held.release();
  else held.client.close();
}

const CHANNEL = new MetadataKey<HeldChannel>('clientconn.channel');

/** The channel held for the current connection, if any. */
export function loadChannel(ctx: ChainContext): HeldChannel | undefined {
  return connectionMetadata(ctx, 'client').get(CHANNEL);
}

/** Holds `channel` for the current connection. */
/**
 * The next hop's TLS identity: the verified peer of the channel this connection holds, when it is mTLS
 * (undefined on plaintext, before `dial`, or in a chain without metadata).
 */
export function nextHopPeer(ctx: ChainContext): PeerAuthInfo | undefined {
  try {
    return channelPeer(loadChannel(ctx)?.client);
  } catch {
    return undefined;
  }
}

export function storeChannel(ctx: ChainContext, channel: HeldChannel): void {
  connectionMetadata(ctx, 'client').set(CHANNEL, channel);
}

/** Forgets the channel of the current connection (without closing it). */
export function deleteChannel(ctx: ChainContext): void {
  connectionMetadata(ctx, 'client').delete(CHANNEL);
}

export class ClientConnClient implements NetworkServiceElement {
  readonly name = 'clientconn/client';

  constructor(private readonly channel?: HeldChannel) {}

  async request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const loaded = loadChannel(ctx) !== undefined;
    if (!loaded && this.channel !== undefined) storeChannel(ctx, this.channel);
    try {
      return await next.request(request, ctx);
    } catch (error) {
      if (!loaded && this.channel !== undefined) deleteChannel(ctx);
      throw error;
    }
  }

  async close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    if (loadChannel(ctx) === undefined && this.channel !== undefined) storeChannel(ctx, this.channel);
    try {
      await next.close(connection, ctx);
    } finally {
      deleteChannel(ctx);
    }
  }
}

/** A `clientconn` element, optionally offering a caller-owned grpc-js client for every connection. */
export function clientConnClient(client?: Client, url = ''): ClientConnClient {
  return new ClientConnClient(client === undefined ? undefined : { client, url, owned: false });
}
