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

/** Options of {@link endpointChain}. */
export interface EndpointOptions {
  /** The endpoint's name: its path segment name and, later, its registration name. */
  readonly name: string;
  /** Mints the endpoint's tokens. Default: a JWT generator with a per-process key and a one-hour lifetime. */
  readonly tokenGenerator?: TokenGenerator;
  /** What the endpoint does: mechanisms, IPAM, your own elements. They run after the common part. */
  readonly additionalFunctionality?: readonly NetworkServiceServer[];
}

/**
 * The elements every server role starts with (endpoint, manager, forwarder): validation, this hop's path
 * segment and token, one event at a time per connection, per-connection metadata, and the path trimmed on
 * the way back.
 */
export function serverCommon(name: string, tokenGenerator: TokenGenerator): NetworkServiceServer[] {
  return [validateServer(), updatePathServer(name), beginServer(), updateTokenServer(tokenGenerator), metadataServer(), trimPathServer()];
}

/** Builds an endpoint chain. */
export function endpointChain(options: EndpointOptions): NetworkServiceChain {
  return namedChain(`endpoint(${options.name})`, [
    ...serverCommon(options.name, options.tokenGenerator ?? defaultTokenGenerator(options.name)),
    endpointNameServer(options.name),
    ...(options.additionalFunctionality ?? []),
  ]);
}
