import { randomUUID } from 'node:crypto';
import type { Client } from '@grpc/grpc-js';
import { namedChain, type NetworkServiceChain } from '../../core/chain.js';
import type { NetworkServiceClient } from '../../core/types.js';
import { beginClient } from '../../common/begin/index.js';
import { metadataClient } from '../../common/metadata/index.js';
import { clientURLClient } from '../../common/clienturl/index.js';
import { clientConnClient } from '../../common/clientconn/index.js';
import { dialClient, type DialOptions } from '../../common/dial/index.js';
import { connectClient } from '../../common/connect/index.js';
import { updatePathClient } from '../../common/updatepath/index.js';
import { authorizeClient } from '../../common/authorize/index.js';
import { trimPathClient } from '../../common/trimpath/index.js';
import { updateTokenClient } from '../../common/updatetoken/index.js';
import { createUnsignedTokenGenerator, type TokenGenerator } from '../../../tools/token/index.js';
import { healClient, type HealOptions } from '../../common/heal/index.js';
import { refreshClient, type RefreshOptions } from '../../common/refresh/index.js';
import { monitorClient, type ConnectionMonitor } from '../../common/monitor/index.js';
import type { Security } from '../../../tools/security/index.js';

/** Options of {@link clientChain}. */
export interface ClientOptions {
  /** This hop's path segment name. Default: `nsc-` and a random suffix. */
  readonly name?: string;
  /** The next hop's URL (`unix:///...`, `tcp://host:port`). Leave it out when an element before sets it. */
  readonly connectTo?: string;
  /** Mints this hop's tokens. Default: the security's, else unsigned tokens living an hour. */
  readonly tokenGenerator?: TokenGenerator;
  /** How to dial the next hop (credentials, timeout). */
  readonly dialOptions?: DialOptions;
  /**
   * The role's security (mTLS with its SVID, signed tokens, default policies; or insecure). Without it
   * the role runs insecure, as a hand-built chain did before; the sandbox and the `nsm` roles always
   * give one, secure by default.
   */
  readonly security?: Security;
  /** Use this channel instead of dialing (it stays the caller's). */
  readonly channel?: Client;
  /** Extra elements, placed after dial and before the path is trimmed and the call is made. */
  readonly additionalFunctionality?: readonly NetworkServiceClient[];
  /**
   * Refresh connections before their tokens expire (see `refresh`); on by default. Off in a manager's or
   * forwarder's inner client: the client at the start of the path refreshes the whole path.
   */
  readonly refresh?: RefreshOptions | false;
  /** Heal connections (see `heal`); off unless given. A manager's or forwarder's inner client never heals. */
  readonly heal?: HealOptions | false;
  /** Record the chain's connections here (UPDATE, DELETE, DOWN while healing), for applications to watch. */
  readonly monitor?: ConnectionMonitor;
}

/** The token generator of a chain given no security: unsigned tokens (an insecure chain proves nothing). */
export function defaultTokenGenerator(name: string): TokenGenerator {
  return createUnsignedTokenGenerator({ subject: `spiffe://nsm-sdk.local/${name}`, lifetimeMs: 60 * 60 * 1000 });
}

/** Builds a client chain. */
export function clientChain(options: ClientOptions = {}): NetworkServiceChain {
  const name = options.name ?? `nsc-${randomUUID().slice(0, 8)}`;
  const security = options.security;
  const dialOptions: DialOptions = { ...options.dialOptions, ...(security === undefined ? {} : { security }) };
  return namedChain(`client(${name})`, [
    updatePathClient(name),
    beginClient(),
    metadataClient(),
    options.monitor !== undefined && monitorClient(options.monitor),
    options.refresh !== false && refreshClient(options.refresh ?? {}),
    options.connectTo !== undefined && clientURLClient(options.connectTo),
    clientConnClient(options.channel),
    options.heal !== undefined && options.heal !== false && healClient({ ...options.heal, ...(options.monitor === undefined ? {} : { monitor: options.monitor }) }),
    dialClient(dialOptions),
    ...(options.additionalFunctionality ?? []),
    security !== undefined && authorizeClient(security),
    trimPathClient(),
    updateTokenClient(options.tokenGenerator ?? security?.tokenGenerator(name) ?? defaultTokenGenerator(name)),
    connectClient(),
  ]);
}

/**
 * The client chain a server role uses towards its next hop (a manager to its forwarder, a forwarder onwards,
 * a passthrough endpoint to its manager): no refresh and no heal, since the client at the start of the path
 * refreshes and heals the whole path through it.
 */
export function nextHopClientChain(options: Omit<ClientOptions, 'refresh' | 'heal' | 'monitor'>): NetworkServiceChain {
  return clientChain({ ...options, refresh: false });
}
