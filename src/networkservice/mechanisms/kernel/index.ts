/**
 * `kernel`: the `KERNEL` mechanism, a Linux network interface placed in a network namespace.
 *
 * - {@link KernelMechanism} / {@link toKernelMechanism} / {@link newKernelMechanism}: typed access to the
 *   mechanism's parameters (interface name, namespace URL, VLAN, iptables NAT template, ...) with upstream's
 *   keys and encodings, so TypeScript and Go peers read the same values.
 * - {@link kernelMechanismPreference}: a ready `KERNEL` preference for a request, optionally naming the interface.
 * - {@link kernelInterfaceName}: a per-connection interface name within Linux's 15-character limit.
 * - {@link KernelMechanismClient}: offers `KERNEL` in a request's mechanism preferences, with an interface name.
 * - {@link KernelMechanismServer}: names the interface of a `KERNEL` connection that arrives without a name, so the
 *   returned connection says which interface was created.
 *
 * ```ts
 * const client = chain(..., kernelMechanismClient({ interfaceName: 'nsm-1' }), ...);
 * const endpoint = chain(..., mechanismsServer({ KERNEL: kernelMechanismServer() }), ...);
 * ```
 * @module
 */
export {
  checkInterfaceName,
  DEFAULT_NETNS_URL,
  isKernelMechanism,
  KERNEL_INTERFACE_NAME_MAX_LENGTH,
  KernelMechanism,
  kernelInterfaceName,
  kernelMechanismPreference,
  newKernelMechanism,
  toKernelMechanism,
} from './mechanism.js';
export { KernelMechanismServer, kernelMechanismServer, type KernelMechanismServerOptions } from './server.js';
export { KernelMechanismClient, kernelMechanismClient, type KernelMechanismClientOptions } from './client.js';
