/**
 * The string constants of the Network Service API that have no proto message: mechanism classes and types,
 * mechanism parameter keys, payloads and label keys. They travel on the wire as `Mechanism.cls`,
 * `Mechanism.type`, keys of `Mechanism.parameters`, `Connection.payload` and label keys, so their values must
 * be exactly upstream's; a misspelt key is silently ignored by a Go peer.
 *
 * Each group is an `as const` object with a union type of its values, so a parameter key or a mechanism type
 * can be typed as "one of these" rather than any string.
 * @module
 */

/** `Mechanism.cls`: whether a mechanism plumbs into a workload on this node or connects two nodes. */
export const MechanismClass = {
  LOCAL: 'LOCAL',
  REMOTE: 'REMOTE',
} as const;
/** One of the {@link MechanismClass} values. */
export type MechanismClass = (typeof MechanismClass)[keyof typeof MechanismClass];

/** `Mechanism.type`: how a connection is plumbed. */
export const MechanismType = {
  KERNEL: 'KERNEL',
  MEMIF: 'MEMIF',
  VXLAN: 'VXLAN',
  WIREGUARD: 'WIREGUARD',
  IPSEC: 'IPSEC',
  VLAN: 'VLAN',
  SRV6: 'SRV6',
  VFIO: 'VFIO',
  NOOP: 'NOOP',
} as const;
/** One of the {@link MechanismType} values. */
export type MechanismType = (typeof MechanismType)[keyof typeof MechanismType];

/** Parameter keys shared by several mechanisms (upstream's `mechanisms/common`). */
export const CommonParams = {
  SrcIP: 'src_ip',
  DstIP: 'dst_ip',
  SrcPort: 'src_port',
  DstPort: 'dst_port',
  /** The source IP before any NAT on the way. */
  SrcOriginalIP: 'orig_src_ip',
  /** The destination IP before any NAT on the way. */
  DstOriginalIP: 'orig_dst_ip',
  /** Inode number of the network namespace. */
  NetNSInode: 'netnsInode',
  /** Interface name. */
  InterfaceName: 'name',
  /** `file://` or `inode://` URL of a file shared between processes (e.g. a netns file passed with grpcfd). */
  InodeURL: 'inodeURL',
  /** PCI address of an SR-IOV device. */
  PCIAddress: 'pciAddress',
  /** Device token ID of the client or endpoint. */
  DeviceTokenID: 'tokenID',
  MTU: 'MTU',
} as const;
/** One of the {@link CommonParams} keys. */
export type CommonParamKey = (typeof CommonParams)[keyof typeof CommonParams];

/** `KERNEL` mechanism parameter keys. */
export const KernelParams = {
  PCIAddress: CommonParams.PCIAddress,
  DeviceTokenID: CommonParams.DeviceTokenID,
  NetNSInode: CommonParams.NetNSInode,
  InterfaceName: CommonParams.InterfaceName,
  /** URL of the workload's network namespace: `file:///proc/<pid>/ns/net` or `inode://<dev>/<ino>`. */
  NetNSURL: CommonParams.InodeURL,
  /** `"true"` when the workload's side supports a VLAN sub-interface. */
  SupportsVLAN: 'supportsVlan',
  /** VLAN id (12-bit, decimal). */
  VLAN: 'vlan',
  /** `"true"` to set `route_localnet` on the interface. */
  RouteLocalNet: 'routeLocalNet',
  /** iptables NAT rules template, rules joined with `;`. */
  IPTables4NatTemplate: 'IPTables4NatTemplate',
} as const;
/** One of the {@link KernelParams} keys. */
export type KernelParamKey = (typeof KernelParams)[keyof typeof KernelParams];

/** Linux limits interface names to 15 bytes (IFNAMSIZ 16, with the terminating NUL). */
export const LINUX_IF_MAX_LENGTH = 15;

/** The URL scheme of a kernel mechanism's network namespace file. */
export const KERNEL_NETNS_URL_SCHEME = 'file';

/** `MEMIF` mechanism parameter keys. */
export const MemifParams = {
  SocketFilename: 'socketfile',
  NetNSURL: CommonParams.InodeURL,
  /** Upstream's name for the same `inodeURL` key as {@link MemifParams.NetNSURL}. */
  SocketFileURL: CommonParams.InodeURL,
} as const;
/** One of the {@link MemifParams} keys. */
export type MemifParamKey = (typeof MemifParams)[keyof typeof MemifParams];

/** The URL scheme of a memif socket file. */
export const MEMIF_FILE_SCHEME = 'file';

/** `VXLAN` mechanism parameter keys. */
export const VxlanParams = {
  SrcIP: CommonParams.SrcIP,
  DstIP: CommonParams.DstIP,
  SrcPort: CommonParams.SrcPort,
  DstPort: CommonParams.DstPort,
  /** VXLAN network identifier (24-bit, decimal). */
  VNI: 'vni',
  MTU: CommonParams.MTU,
} as const;
/** One of the {@link VxlanParams} keys. */
export type VxlanParamKey = (typeof VxlanParams)[keyof typeof VxlanParams];

/** `WIREGUARD` mechanism parameter keys. */
export const WireguardParams = {
  SrcIP: CommonParams.SrcIP,
  DstIP: CommonParams.DstIP,
  SrcPort: CommonParams.SrcPort,
  DstPort: CommonParams.DstPort,
  SrcPublicKey: 'src_public_key',
  DstPublicKey: 'dst_public_key',
  MTU: CommonParams.MTU,
} as const;
/** One of the {@link WireguardParams} keys. */
export type WireguardParamKey = (typeof WireguardParams)[keyof typeof WireguardParams];

/** `IPSEC` mechanism parameter keys (the same keys as WireGuard). */
export const IpsecParams = {
  SrcIP: CommonParams.SrcIP,
  DstIP: CommonParams.DstIP,
  SrcPort: CommonParams.SrcPort,
  DstPort: CommonParams.DstPort,
  SrcPublicKey: 'src_public_key',
  DstPublicKey: 'dst_public_key',
  MTU: CommonParams.MTU,
} as const;
/** One of the {@link IpsecParams} keys. */
export type IpsecParamKey = (typeof IpsecParams)[keyof typeof IpsecParams];

/** `VLAN` mechanism parameter keys. */
export const VlanParams = {
  /** VLAN id (12-bit, decimal). */
  ID: 'vlan-id',
} as const;
/** One of the {@link VlanParams} keys. */
export type VlanParamKey = (typeof VlanParams)[keyof typeof VlanParams];

/** `SRV6` mechanism parameter keys. */
export const Srv6Params = {
  SrcHostIP: 'src_host_ip',
  DstHostIP: 'dst_host_ip',
  SrcBSID: 'src_bsid',
  DstBSID: 'dst_bsid',
  SrcLocalSID: 'src_localsid',
  DstLocalSID: 'dst_localsid',
  SrcHostLocalSID: 'src_host_localsid',
  DstHostLocalSID: 'dst_host_localsid',
  SrcHardwareAddress: 'src_hw_addr',
  DstHardwareAddress: 'dst_hw_addr',
} as const;
/** One of the {@link Srv6Params} keys. */
export type Srv6ParamKey = (typeof Srv6Params)[keyof typeof Srv6Params];

/** `VFIO` mechanism parameter keys. */
export const VfioParams = {
  CgroupDir: 'cgroupDir',
  IommuGroup: 'iommuGroup',
  PCIAddress: CommonParams.PCIAddress,
  DeviceTokenID: CommonParams.DeviceTokenID,
  VfioMajor: 'vfioMajor',
  VfioMinor: 'vfioMinor',
  DeviceMajor: 'deviceMajor',
  DeviceMinor: 'deviceMinor',
} as const;
/** One of the {@link VfioParams} keys. */
export type VfioParamKey = (typeof VfioParams)[keyof typeof VfioParams];

/** The parameter keys of each mechanism type; `NOOP` has none. */
export const MechanismParams = {
  KERNEL: KernelParams,
  MEMIF: MemifParams,
  VXLAN: VxlanParams,
  WIREGUARD: WireguardParams,
  IPSEC: IpsecParams,
  VLAN: VlanParams,
  SRV6: Srv6Params,
  VFIO: VfioParams,
  NOOP: {},
} as const satisfies Record<MechanismType, Readonly<Record<string, string>>>;

/** `Connection.payload` and `NetworkService.payload`: what the connection carries. */
export const Payload = {
  IP: 'IP',
  ETHERNET: 'ETHERNET',
} as const;
/** One of the {@link Payload} values. */
export type Payload = (typeof Payload)[keyof typeof Payload];

/** Label keys used with SR-IOV devices. */
export const SriovLabels = {
  /** Names the SR-IOV token (resource) a client asks for. */
  SriovToken: 'sriovToken',
  /** Names the service domain of an SR-IOV device. */
  ServiceDomain: 'serviceDomain',
} as const;
/** One of the {@link SriovLabels} keys. */
export type SriovLabelKey = (typeof SriovLabels)[keyof typeof SriovLabels];
