import { namedChain, type NetworkServiceChain } from '../../core/chain.js';
import type { NetworkServiceServer } from '../../core/types.js';
import { validateServer } from '../../common/validate/index.js';
import { beginServer } from '../../common/begin/index.js';
import { metadataServer } from '../../common/metadata/index.js';
import { updatePathServer } from '../../common/updatepath/index.js';
import { trimPathServer } from '../../common/trimpath/index.js';
import { endpointNameServer } from '../../common/endpointname/index.js';
import { updateTokenServer } from '../../common/updatetoken/index.js';
import type { TokenGenerator } from '../../../tools/token/index.js';
import { defaultTokenGenerator } from '../client/chain.js';
import { ConnectionMonitor, monitorServer } from '../../common/monitor/index.js';
import { authorizeServer } from '../../common/authorize/index.js';
import { timeoutServer } from '../../common/timeout/index.js';
import type { Security } from '../../../tools/security/index.js';

/** A server chain with the monitor its MonitorConnection service streams from. */
export interface MonitoredChain extends NetworkServiceChain {
  /** The connections the chain holds, and their events. */
  readonly monitor: ConnectionMonitor;
}

/** Attaches `monitor` to `chain`. */
export function withMonitor(chain: NetworkServiceChain, monitor: ConnectionMonitor): MonitoredChain {
  return Object.assign(chain, { monitor });
}

/** Whether `element` is a chain with a monitor (served as MonitorConnection next to it). */
export function isMonitored(element: object): element is MonitoredChain {
  return (element as Partial<MonitoredChain>).monitor instanceof ConnectionMonitor;
}

/** Options of {@link endpointChain}. */
export interface EndpointOptions {
  /** The endpoint's name: its path segment name and, later, its registration name. */
  readonly name: string;
  /** Mints the endpoint's tokens. Default: the security's, else unsigned tokens living an hour. */
  readonly tokenGenerator?: TokenGenerator;
  /**
   * The role's security (mTLS with its SVID, signed tokens, default policies; or insecure). Without it
   * the role runs insecure, as a hand-built chain did before; the sandbox and the `nsm` roles always
   * give one, secure by default.
   */
  readonly security?: Security;
  /** What the endpoint does: mechanisms, IPAM, your own elements. They run after the common part. */
  readonly additionalFunctionality?: readonly NetworkServiceServer[];
  /** The endpoint's lifetime: when it ends, the chain's timers stop (a process that stops or dies). */
  readonly signal?: AbortSignal;
}

/**
 * The elements every server role starts with (endpoint, manager, forwarder): validation, this hop's path
 * segment and token, one event at a time per connection, the caller's side of the path authorized (with a
 * security), per-connection metadata, a Close for connections
 * the caller stops refreshing (before its token expires), the role's monitor, and the path trimmed on the
 * way back.
 */
export function serverCommon(
  name: string,
  tokenGenerator: TokenGenerator,
  monitor: ConnectionMonitor,
  lifetime?: AbortSignal,
  security?: Security,
): NetworkServiceServer[] {
  const elements: (NetworkServiceServer | false)[] = [
    validateServer(),
    updatePathServer(name),
    beginServer(),
    updateTokenServer(tokenGenerator),
    security !== undefined && authorizeServer(security),
    metadataServer(),
    timeoutServer(lifetime === undefined ? {} : { signal: lifetime }),
    monitorServer(monitor),
    trimPathServer(),
  ];
  return elements.filter((element): element is NetworkServiceServer => element !== false);
}

/** Builds an endpoint chain; {@link serveEndpoint} serves its monitor too. */
export function endpointChain(options: EndpointOptions): MonitoredChain {
  const monitor = new ConnectionMonitor();
  const chain = namedChain(`endpoint(${options.name})`, [
    ...serverCommon(
      options.name,
      options.tokenGenerator ?? options.security?.tokenGenerator(options.name) ?? defaultTokenGenerator(options.name),
      monitor,
      options.signal,
      options.security,
    ),
    endpointNameServer(options.name),
    ...(options.additionalFunctionality ?? []),
  ]);
  return withMonitor(chain, monitor);
}
