import type { Connection } from '../../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../../api/gen/networkservice.js';
import type { ChainContext } from '../../core/context.js';
import type { NetworkServiceElement, NetworkServiceHandler } from '../../core/types.js';
import {
  checkInterfaceName,
  DEFAULT_NETNS_URL,
  KernelMechanism,
  kernelInterfaceName,
  newKernelMechanism,
  toKernelMechanism,
} from './mechanism.js';

/** Options of {@link KernelMechanismClient}. */
export interface KernelMechanismClientOptions {
  /** The interface name to ask for; at most 15 characters. Default: one per connection. */
  readonly interfaceName?: string;
  /** The prefix of generated names (see {@link kernelInterfaceName}). Default: the network service's name. */
  readonly interfaceNamePrefix?: string;
  /** The namespace the interface should appear in. Default: this process's ({@link DEFAULT_NETNS_URL}). */
  readonly netnsURL?: string;
}

/**
 * Offers a `KERNEL` mechanism: a request without a `KERNEL` preference gets one appended (after whatever the
 * caller prefers more), and a `KERNEL` preference without an interface name gets one.
 */
export class KernelMechanismClient implements NetworkServiceElement {
  readonly name = 'kernel/client';
  private readonly options: KernelMechanismClientOptions;

  /** @throws Error when `options.interfaceName` is not a valid Linux interface name */
  constructor(options: KernelMechanismClientOptions = {}) {
    if (options.interfaceName !== undefined) checkInterfaceName(options.interfaceName);
    this.options = options;
  }

  request(request: NetworkServiceRequest, ctx: ChainContext, next: NetworkServiceHandler): Promise<Connection> {
    const offered = request.mechanismPreferences.map(toKernelMechanism).filter((m) => m !== undefined);
    if (offered.length === 0) {
      const mechanism = newKernelMechanism(this.options.netnsURL ?? DEFAULT_NETNS_URL);
      request.mechanismPreferences.push(mechanism);
      offered.push(new KernelMechanism(mechanism));
    }
    const name = this.interfaceName(request);
    if (name !== undefined) {
      for (const kernel of offered) if (kernel.interfaceName === '') kernel.interfaceName = name;
    }
    return next.request(request, ctx);
  }

  close(connection: Connection, ctx: ChainContext, next: NetworkServiceHandler): Promise<void> {
    return next.close(connection, ctx);
  }

  /** The configured name, else one derived from the connection; undefined when there is no id to derive it from. */
  private interfaceName(request: NetworkServiceRequest): string | undefined {
    if (this.options.interfaceName !== undefined) return this.options.interfaceName;
    const conn = request.connection;
    if (conn === undefined || conn.id === '') return undefined;
    return kernelInterfaceName(this.options.interfaceNamePrefix ?? conn.networkService, conn.id);
  }
}

/** A `kernel` client element. */
export function kernelMechanismClient(options?: KernelMechanismClientOptions): KernelMechanismClient {
  return new KernelMechanismClient(options);
}
