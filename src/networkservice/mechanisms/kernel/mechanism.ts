import { createHash } from 'node:crypto';
import { Mechanism } from '../../../api/gen/connection.js';

import { KernelParams, LINUX_IF_MAX_LENGTH, MechanismClass, MechanismType } from '../../../api/constants.js';

const KERNEL = MechanismType.KERNEL;
const LOCAL = MechanismClass.LOCAL;
const KEYS = {
  interfaceName: KernelParams.InterfaceName,
  netnsURL: KernelParams.NetNSURL,
  netnsInode: KernelParams.NetNSInode,
  vlan: KernelParams.VLAN,
  supportsVlan: KernelParams.SupportsVLAN,
  routeLocalNet: KernelParams.RouteLocalNet,
  pciAddress: KernelParams.PCIAddress,
  deviceTokenId: KernelParams.DeviceTokenID,
  iptables4NatTemplate: KernelParams.IPTables4NatTemplate,
} as const;

/** Linux limits interface names to 15 bytes (IFNAMSIZ 16, with the terminating NUL). */
export const KERNEL_INTERFACE_NAME_MAX_LENGTH = LINUX_IF_MAX_LENGTH;

/**
 * The network namespace of this process, as upstream clients announce theirs. `thread-self` rather than
 * `self`, as upstream does, because a namespace belongs to a thread.
 */
export const DEFAULT_NETNS_URL = 'file:///proc/thread-self/ns/net';

const MAX_VLAN = 4095;

/**
 * A typed view of a `KERNEL` mechanism's parameters. It reads and writes the wrapped message in place, so a
 * change shows in the connection or request that holds the mechanism. Numbers and booleans are stored as
 * decimal and `true`/`false` strings, as upstream does; a value that does not parse reads as 0 or false.
 */
export class KernelMechanism {
  constructor(
    /** The wrapped mechanism, read and written in place. */
    readonly mechanism: Mechanism,
  ) {
    // A message built by hand may lack the map that ts-proto always creates.
    (mechanism as { parameters?: Mechanism['parameters'] }).parameters ??= {};
  }

  /** The parameters map of the wrapped mechanism. */
  get parameters(): Record<string, string> {
    return this.mechanism.parameters;
  }

  /** The interface name (`name`); '' when unset. */
  get interfaceName(): string {
    return this.get(KEYS.interfaceName);
  }
  /** Sets the interface name. */
  set interfaceName(name: string) {
    this.parameters[KEYS.interfaceName] = name;
  }

  /** The URL of the network namespace to put the interface in (`inodeURL`), e.g. `file:///proc/42/ns/net`. */
  get netnsURL(): string {
    return this.get(KEYS.netnsURL);
  }
  /** Sets the network namespace URL. */
  set netnsURL(url: string) {
    this.parameters[KEYS.netnsURL] = url;
  }

  /** The namespace's inode number as text (`netnsInode`). */
  get netnsInode(): string {
    return this.get(KEYS.netnsInode);
  }
  /** Sets the namespace's inode number. */
  set netnsInode(inode: string) {
    this.parameters[KEYS.netnsInode] = inode;
  }

  /** The VLAN id (`vlan`), 0 to 4095; 0 when unset or invalid. */
  get vlan(): number {
    const text = this.get(KEYS.vlan);
    if (!/^[0-9]+$/.test(text)) return 0;
    const id = Number(text);
    return id <= MAX_VLAN ? id : 0;
  }
  /** Sets the VLAN id; throws a RangeError outside 0 to 4095. */
  set vlan(id: number) {
    if (!Number.isInteger(id) || id < 0 || id > MAX_VLAN) {
      throw new RangeError(`VLAN id ${id} is not in 0..${MAX_VLAN}`);
    }
    this.parameters[KEYS.vlan] = String(id);
  }

  /** Whether the client can take a VLAN sub-interface (`supportsVlan`). */
  get supportsVlan(): boolean {
    return parseBool(this.get(KEYS.supportsVlan));
  }
  /** Sets whether the client can take a VLAN sub-interface. */
  set supportsVlan(supported: boolean) {
    this.parameters[KEYS.supportsVlan] = String(supported);
  }

  /** Whether to enable `route_localnet` on the interface (`routeLocalNet`). */
  get routeLocalNet(): boolean {
    return parseBool(this.get(KEYS.routeLocalNet));
  }
  /** Sets whether to enable `route_localnet`. */
  set routeLocalNet(enabled: boolean) {
    this.parameters[KEYS.routeLocalNet] = String(enabled);
  }

  /** The PCI address of an SR-IOV device (`pciAddress`). */
  get pciAddress(): string {
    return this.get(KEYS.pciAddress);
  }
  /** Sets the PCI address. */
  set pciAddress(address: string) {
    this.parameters[KEYS.pciAddress] = address;
  }

  /** The device token id (`tokenID`). */
  get deviceTokenId(): string {
    return this.get(KEYS.deviceTokenId);
  }
  /** Sets the device token id. */
  set deviceTokenId(id: string) {
    this.parameters[KEYS.deviceTokenId] = id;
  }

  /** The iptables NAT template (`IPTables4NatTemplate`): rules joined with `;`, '' when unset. */
  get iptables4NatTemplate(): string {
    return this.get(KEYS.iptables4NatTemplate);
  }

  /** The iptables NAT template split into its rules. */
  get iptables4NatRules(): string[] {
    const template = this.iptables4NatTemplate;
    return template === '' ? [] : template.split(';');
  }

  /** Stores iptables NAT rules as one template, joined with `;` as upstream expects. */
  setIPTables4NatTemplate(...rules: string[]): this {
    this.parameters[KEYS.iptables4NatTemplate] = rules.join(';');
    return this;
  }

  private get(key: string): string {
    return this.parameters[key] ?? '';
  }
}

function parseBool(text: string): boolean {
  // The spellings Go's strconv.ParseBool reads as true.
  return text === 'true' || text === 'TRUE' || text === 'True' || text === '1' || text === 't' || text === 'T';
}

/** True when `mechanism` is a `KERNEL` mechanism. */
export function isKernelMechanism(mechanism: Mechanism | undefined): mechanism is Mechanism {
  return mechanism !== undefined && mechanism.type === KERNEL;
}

/** A {@link KernelMechanism} view of `mechanism`, or undefined when it is missing or of another type. */
export function toKernelMechanism(mechanism: Mechanism | undefined): KernelMechanism | undefined {
  return isKernelMechanism(mechanism) ? new KernelMechanism(mechanism) : undefined;
}

/** A new `KERNEL` mechanism of class `LOCAL` for the namespace at `netnsURL` (this process's by default). */
export function newKernelMechanism(netnsURL: string = DEFAULT_NETNS_URL): Mechanism {
  return Mechanism.create({ cls: LOCAL, type: KERNEL, parameters: { [KEYS.netnsURL]: netnsURL } });
}

/**
 * A `KERNEL` mechanism preference for a request, optionally asking for an interface name: what a client puts
 * in `mechanismPreferences` to get a kernel interface.
 * @throws Error when `interfaceName` is not a valid Linux interface name
 */
export function kernelMechanismPreference(interfaceName?: string, netnsURL: string = DEFAULT_NETNS_URL): Mechanism {
  const mechanism = newKernelMechanism(netnsURL);
  if (interfaceName !== undefined) new KernelMechanism(mechanism).interfaceName = checkInterfaceName(interfaceName);
  return mechanism;
}

/**
 * An interface name for a connection that fits Linux's 15-character limit: up to 6 characters of `prefix`
 * (e.g. the network service), a dash, and 8 hex digits of a hash of the connection id. The hash keeps names
 * of different connections apart even when their ids share a beginning, and gives a connection the same name
 * on every refresh. Characters Linux refuses in names (`/`, `:`, whitespace) become `-`.
 */
export function kernelInterfaceName(prefix: string, connectionId: string): string {
  const head = prefix.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 6) || 'nsm';
  const hash = createHash('sha256').update(connectionId).digest('hex').slice(0, 8);
  return `${head}-${hash}`;
}

/**
 * Checks a configured interface name against Linux's rules, throwing an Error that says what is wrong.
 * Used for names given in options, where a mistake should show at start-up rather than in the data plane.
 */
export function checkInterfaceName(name: string): string {
  if (name === '' || name === '.' || name === '..') throw new Error(`invalid interface name "${name}"`);
  if (Buffer.byteLength(name) > KERNEL_INTERFACE_NAME_MAX_LENGTH) {
    throw new Error(`interface name "${name}" is longer than ${KERNEL_INTERFACE_NAME_MAX_LENGTH} bytes`);
  }
  if (/[/:\s]/.test(name)) throw new Error(`interface name "${name}" contains '/', ':' or whitespace`);
  return name;
}
