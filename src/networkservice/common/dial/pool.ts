/**
 * One gRPC channel per peer, shared by every connection a role holds to that peer. A connection takes a
 * lease on its peer's channel when it dials and gives it back when it closes; the channel (one socket,
 * one HTTP/2 session, one TLS handshake once credentials are on) is closed when the last lease is given
 * back and the channel has stayed unused for `idleTimeoutMs`, so a Request followed by a Close followed
 * by the next Request does not open a socket each time.
 *
 * Sharing changes what a dead peer looks like: the channel stays in the pool and grpc-js reconnects it in
 * the background. A lease asked for while the pooled channel is in TRANSIENT_FAILURE (the peer refused
 * the last attempt) or shut down gets a fresh channel instead, which becomes the pool's channel for that
 * URL: a peer that came back on the same address is reached at once, not after grpc-js's reconnect
 * backoff. The old channel is closed when its last lease is given back.
 * @module
 */
import { Client, connectivityState, credentials as grpcCredentials } from '@grpc/grpc-js';
import type { ChainContext } from '../../core/context.js';
import { grpcTarget, parseAddress } from '../../../tools/grpc/address.js';
import type { HeldChannel } from '../clientconn/index.js';
import { waitUntilReady, type DialOptions } from './ready.js';
import { trackChannelPeer } from '../../../tools/spiffe/tls.js';
import type { PeerAuthInfo } from '../../../tools/token/types.js';

/** Options of {@link ChannelPool}. */
export interface ChannelPoolOptions {
  /**
   * How long a channel no connection uses is kept open before it is closed (ms); default 1000. Zero
   * closes it as soon as the last lease is given back.
   */
  readonly idleTimeoutMs?: number;
}

/** A pooled channel: the grpc-js client and the leases on it. */
class PooledChannel {
  leases = 0;
  idleTimer: NodeJS.Timeout | undefined;
  private readonly closeHooks: (() => void)[] = [];

  constructor(
    readonly url: string,
    /** The pool's key: the URL, and the identity that dials it. */
    readonly key: string,
    readonly client: Client,
  ) {}

  get state(): connectivityState {
    return this.client.getChannel().getConnectivityState(false);
  }

  /** Runs `hook` right before the channel is closed (a multiplexed stream cancels itself there). */
  onClose(hook: () => void): void {
    this.closeHooks.push(hook);
  }

  close(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    for (const hook of this.closeHooks.splice(0)) hook();
    this.client.close();
  }
}

/**
 * The channels of one role, one per peer URL (see the module comment). Give every dialing element of a
 * role the same pool (through {@link DialOptions.pool}) so that they share channels; a role that goes
 * away closes what is left with {@link ChannelPool.closeAll}.
 */
export class ChannelPool {
  private readonly current = new Map<string, PooledChannel>();
  /** Every channel still open, the current ones and those replaced but still leased. */
  private readonly open = new Set<PooledChannel>();
  private readonly idleTimeoutMs: number;

  constructor(options: ChannelPoolOptions = {}) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 1000;
  }

  /** Channels open now (peers, plus replaced channels still in use). */
  get size(): number {
    return this.open.size;
  }

  /** Leases held now, over all channels (for leak checks: zero once every connection is closed). */
  get leases(): number {
    let n = 0;
    for (const pooled of this.open) n += pooled.leases;
    return n;
  }

  /**
   * A lease on the channel to `url`, once it is READY. A peer that refuses fails at once (unless
   * `options.failFast` is false), a peer that does not answer within the dial timeout fails then; either
   * way the lease is given back before the error is thrown.
   */
  async acquire(url: string, ctx: ChainContext, options: DialOptions): Promise<HeldChannel> {
    const pooled = this.channelFor(url, options);
    pooled.leases++;
    if (pooled.idleTimer !== undefined) clearTimeout(pooled.idleTimer);
    pooled.idleTimer = undefined;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.release(pooled);
    };
    const timeout = Math.max(0, Math.min(options.dialTimeoutMs ?? 5000, ctx.remaining() ?? Number.POSITIVE_INFINITY));
    try {
      await waitUntilReady(pooled.client, url, timeout, ctx, options.failFast ?? true);
    } catch (error) {
      release();
      throw error;
    }
    return { client: pooled.client, url, owned: true, release, onClose: (hook) => pooled.onClose(hook) };
  }

  /** Closes every channel, leased or not (the role is going away). */
  closeAll(): void {
    for (const pooled of [...this.open]) pooled.close();
    this.open.clear();
    this.current.clear();
  }

  private channelFor(url: string, options: DialOptions): PooledChannel {
    // Over mTLS a channel is one identity's: two roles of one process (a test's clients) that share a
    // pool must not share a session, or the second would speak with the first one's certificate.
    const key = options.security === undefined ? url : `${url}\u0000${identityKey(options.security)}`;
    const existing = this.current.get(key);
    if (existing !== undefined) {
      const state = existing.state;
      if (state !== connectivityState.TRANSIENT_FAILURE && state !== connectivityState.SHUTDOWN) return existing;
      // The peer refused the last attempt: a fresh channel tries now instead of after the backoff.
      this.current.delete(key);
      if (existing.leases === 0) this.forget(existing);
    }
    const pooled = new PooledChannel(url, key, newClient(url, options));
    this.current.set(key, pooled);
    this.open.add(pooled);
    return pooled;
  }

  private release(pooled: PooledChannel): void {
    pooled.leases--;
    if (pooled.leases > 0) return;
    const replaced = this.current.get(pooled.key) !== pooled;
    if (replaced || this.idleTimeoutMs === 0 || pooled.state !== connectivityState.READY) {
      this.forget(pooled);
      return;
    }
    pooled.idleTimer = setTimeout(() => {
      if (pooled.leases === 0) this.forget(pooled);
    }, this.idleTimeoutMs);
    // An idle channel must not keep a process alive that has nothing else to do.
    pooled.idleTimer.unref();
  }

  private forget(pooled: PooledChannel): void {
    if (this.current.get(pooled.key) === pooled) this.current.delete(pooled.key);
    this.open.delete(pooled);
    pooled.close();
  }
}

const identities = new WeakMap<object, number>();
let lastIdentity = 0;

/** A number per security object, for pool keys. */
function identityKey(security: object): number {
  let id = identities.get(security);
  if (id === undefined) {
    id = ++lastIdentity;
    identities.set(security, id);
  }
  return id;
}

/** A grpc-js client for `url` with the options every pooled channel needs. */
export function newClient(url: string, options: DialOptions): Client {
  // Credentials of its own per channel, so that the handshake tells this channel who its server is.
  let peer: PeerAuthInfo | undefined;
  const channelCredentials =
    options.security?.channelCredentials((verified) => {
      peer = verified;
    }) ??
    options.credentials ??
    grpcCredentials.createInsecure();
  const client = new Client(grpcTarget(parseAddress(url)), channelCredentials, {
    // A unix socket peer has no real authority; keep grpc-js from deriving one from the path.
    'grpc.default_authority': 'localhost',
    // Its own subchannel: two pools (two roles in one process, a test's sandbox) do not share a session,
    // so one role's shutdown cannot break the other's connections.
    'grpc.use_local_subchannel_pool': 1,
    // A pooled channel outlives peer restarts; once the peer is back, reconnect within a second rather
    // than after grpc-js's default backoff (1 s growing to 2 min).
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 1000,
    // A SPIFFE peer is named by its ID, not its host: keep TLS from sending an IP address as SNI.
    ...(options.security === undefined ? {} : { 'grpc.ssl_target_name_override': 'localhost' }),
    ...options.channelOptions,
  });
  if (options.security !== undefined) trackChannelPeer(client, () => peer);
  return client;
}
