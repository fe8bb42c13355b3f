/**
 * `setpayload`: a NetworkService registered without a payload gets the default one (IP), so that every
 * consumer of the registry sees an explicit payload.
 * @module
 */
import type { NetworkService, NetworkServiceQuery } from '../../../api/gen/registry.js';
import { Payload } from '../../../api/constants.js';
import type { ChainContext } from '../../../networkservice/core/context.js';
import type { NSRegistryHandler } from '../../core/types.js';
import { NullRegistry } from '../null/index.js';

/** The `setpayload` NetworkService registry server. */
export class SetPayloadServer extends NullRegistry<NetworkService, NetworkServiceQuery> {
  override readonly name = 'setpayload';

  constructor(private readonly payload: string = Payload.IP) {
    super();
  }

  override register(item: NetworkService, ctx: ChainContext, next: NSRegistryHandler): Promise<NetworkService> {
    if (item.payload === '') item.payload = this.payload;
    return next.register(item, ctx);
  }
}

/** A `setpayload` element; `payload` defaults to IP. */
export function setPayloadServer(payload?: string): SetPayloadServer {
  return new SetPayloadServer(payload);
}
