import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import { checkInterfaceName, kernelInterfaceName, toKernelMechanism } from './mechanism.js';

/** Options of {@link KernelMechanismServer}. */
export interface KernelMechanismServerOptions {
  /** The interface name to use for every connection; at most 15 characters. Default: one per connection. */
  readonly interfaceName?: string;
  /** The prefix of generated names (see {@link kernelInterfaceName}). Default: the network service's name. */
  readonly interfaceNamePrefix?: string;
  /** When set, the namespace URL to put this side's interface in, replacing what the request carries. */
  readonly netnsURL?: string;
}

/**
 * On a request whose mechanism is `KERNEL`, names the interface when the request leaves the name unset, so
 * the forwarder knows what to create and the returned connection tells the client what was created.
 */
export class KernelMechanismServer implements NetworkServiceElement {
  readonly name = 'kernel/server';
  private readonly options: KernelMechanismServerOptions;

  /** @throws Error when `options.interfaceName` is not a valid Linux interface name */
  constructor(options: KernelMechanismServerOptions = {}) {
    if (options.interfaceName !== undefined) checkInterfaceName(options.interfaceName);
    this.options = options;
  }

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const conn = request.connection;
    const kernel = toKernelMechanism(conn?.mechanism);
    if (conn !== undefined && kernel !== undefined) {
      if (kernel.interfaceName === '') {
        kernel.interfaceName =
          this.options.interfaceName ??
          kernelInterfaceName(this.options.interfaceNamePrefix ?? conn.networkService, conn.id);
      }
      if (this.options.netnsURL !== undefined) kernel.netnsURL = this.options.netnsURL;
    }
    return next.request(request, ctx);
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }
}

/** A `kernel` server element. */
export function kernelMechanismServer(options?: KernelMechanismServerOptions): KernelMechanismServer {
  return new KernelMechanismServer(options);
}
