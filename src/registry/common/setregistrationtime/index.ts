/**
 * `setregistrationtime`: stamps an endpoint's `initial_registration_time` at its first registration and
 * keeps that stamp on every refresh, so consumers can tell how long an endpoint has been around.
 * @module
 */
import type { NetworkServiceEndpoint, NetworkServiceEndpointQuery } from '../../../api/gen/registry.js';
import { timestampFromMillis } from '../../../api/path.js';
import type { Timestamp } from '../../../api/gen/google/protobuf/timestamp.js';
import type { ChainContext } from '../../../networkservice/core/context.js';
import { MetadataKey } from '../../../networkservice/common/metadata/index.js';
import type { NSERegistryHandler } from '../../core/types.js';
import { registrationMetadata } from '../metadata/index.js';
import { NullRegistry } from '../null/index.js';

const FIRST_REGISTERED = new MetadataKey<Timestamp>('setregistrationtime.first');

/** The `setregistrationtime` NetworkServiceEndpoint registry server (after `metadata`). */
export class SetRegistrationTimeServer extends NullRegistry<NetworkServiceEndpoint, NetworkServiceEndpointQuery> {
  override readonly name = 'setregistrationtime';

  override register(item: NetworkServiceEndpoint, ctx: ChainContext, next: NSERegistryHandler): Promise<NetworkServiceEndpoint> {
    const metadata = registrationMetadata(ctx, 'server');
    const first = metadata.getOrCreate(FIRST_REGISTERED, () => timestampFromMillis(ctx.clock.now()));
    item.initialRegistrationTime = { ...first };
    return next.register(item, ctx);
  }
}

/** A `setregistrationtime` element. */
export function setRegistrationTimeServer(): SetRegistrationTimeServer {
  return new SetRegistrationTimeServer();
}
