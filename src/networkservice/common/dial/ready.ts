/**
 * Dial options, and the wait for a channel to be READY that every dial shares.
 * @module
 */
import { connectivityState, type ChannelCredentials, type ChannelOptions, type Client } from '@grpc/grpc-js';
import type { ChainContext } from '../../core/context.js';
import { statusError, status } from '../../../tools/grpc/status.js';
import type { ChannelPool } from './pool.js';
import type { Security } from '../../../tools/security/index.js';

/** Options of `dial` (the connection and registry elements alike). */
export interface DialOptions {
  /** Channel credentials; insecure by default. Ignored when {@link DialOptions.security} is given. */
  readonly credentials?: ChannelCredentials;
  /**
   * The role's security: with mTLS, each channel presents the role's SVID and accepts only a server with
   * an SVID of a trusted domain, and remembers who that server is (see `channelPeer`).
   */
  readonly security?: Pick<Security, 'channelCredentials'>;
  /** How long to wait for a channel to become ready (ms); also bounded by the context deadline. Default 5000. */
  readonly dialTimeoutMs?: number;
  /** Extra grpc-js channel options. */
  readonly channelOptions?: ChannelOptions;
  /**
   * Fail at once when the peer refuses the connection (default true). False waits for a peer that is not
   * listening yet, up to the dial timeout, as grpc-js's waitForReady does.
   */
  readonly failFast?: boolean;
  /**
   * The role's channels, one per peer, shared by all its dialing elements; without one, each element
   * keeps a pool of its own. The role closes what is left with `closeAll` when it goes away.
   */
  readonly pool?: ChannelPool;
}

/**
 * Resolves when `client` is READY. A peer that refuses (nothing listens on the port, no socket file)
 * fails at once with UNAVAILABLE naming the URL when `failFast`, instead of waiting out the timeout: the
 * caller (roundrobin, discoverforwarder, heal, retry) can go on to another candidate while there is time.
 * A peer that accepts but does not answer yet (still starting) is waited for, up to `timeoutMs`; a
 * cancelled context or a closed channel end the wait too.
 */
export function waitUntilReady(client: Client, url: string, timeoutMs: number, ctx: ChainContext, failFast: boolean): Promise<void> {
  const channel = client.getChannel();
  // Most dials find their peer's channel READY already: answer without a promise chain or a listener.
  if (channel.getConnectivityState(false) === connectivityState.READY) return Promise.resolve();
  const deadline = Date.now() + timeoutMs;
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      removeCancel();
      if (error === undefined) resolve();
      else reject(error);
    };
    const removeCancel = ctx.onCancel(() => finish(statusError(status.CANCELLED, `dial ${url}: cancelled`)));
    const check = (): void => {
      if (done) return;
      const state = channel.getConnectivityState(true);
      if (state === connectivityState.READY) return finish();
      if (state === connectivityState.SHUTDOWN) return finish(statusError(status.UNAVAILABLE, `dial ${url}: channel closed`));
      if (state === connectivityState.TRANSIENT_FAILURE && failFast) {
        return finish(statusError(status.UNAVAILABLE, `dial ${url}: connection refused (nothing is serving there)`));
      }
      channel.watchConnectivityState(state, deadline, (error) => {
        if (error !== undefined && error !== null) finish(statusError(status.UNAVAILABLE, `dial ${url}: not ready within ${timeoutMs} ms`));
        else check();
      });
    };
    check();
  });
}
