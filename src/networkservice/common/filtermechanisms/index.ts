/**
 * `filtermechanisms` (client, in a forwarder): keeps only the mechanism preferences that suit the next
 * hop. A next hop on a unix socket runs on this node, so only LOCAL mechanisms (KERNEL, MEMIF) make
 * sense; any other address is another node, reached with REMOTE ones (VXLAN, WIREGUARD). Without this the
 * endpoint could pick a kernel interface for a peer on another machine.
 * @module
 */
import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import { MechanismClass } from '../../../api/constants.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { clientURLFrom } from '../clienturl/index.js';

/** The mechanism class suited to a next hop at `url`: LOCAL for `unix://`, REMOTE otherwise. */
export function mechanismClassFor(url: string): MechanismClass {
  return url.startsWith('unix:') ? MechanismClass.LOCAL : MechanismClass.REMOTE;
}

/** The `filtermechanisms` client element. */
export class FilterMechanismsClient implements NetworkServiceElement {
  readonly name = 'filtermechanisms';

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const url = clientURLFrom(ctx);
    if (url !== undefined) {
      const cls = mechanismClassFor(url);
      request.mechanismPreferences = request.mechanismPreferences.filter((m) => m.cls === cls);
    }
    return next.request(request, ctx);
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }
}

/** A `filtermechanisms` client element. */
export function filterMechanismsClient(): FilterMechanismsClient {
  return new FilterMechanismsClient();
}
