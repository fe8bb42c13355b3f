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
  /** Plumbs into a workload on the same node, e.g. a kernel interface in a pod's network namespace. */
  LOCAL: 'LOCAL',
  /** Connects two nodes over the network, e.g. a VXLAN or WireGuard tunnel. */
  REMOTE: 'REMOTE',
} as const;
/** One of the {@link MechanismClass} values. */
export type MechanismClass = (typeof MechanismClass)[keyof typeof MechanismClass];

/** `Mechanism.type`: how a connection is plumbed. */
export const MechanismType = {
  /** A Linux kernel network interface placed in the workload's network namespace. */
  KERNEL: 'KERNEL',
  /** A VPP shared-memory packet interface reached through a unix socket file. */
  MEMIF: 'MEMIF',
  /** A VXLAN tunnel between two nodes. */
  VXLAN: 'VXLAN',
  /** A WireGuard tunnel between two nodes. */
  WIREGUARD: 'WIREGUARD',
  /** An IPsec tunnel between two nodes. */
  IPSEC: 'IPSEC',
  /** A VLAN sub-interface on a shared physical link. */
  VLAN: 'VLAN',
  /** An SRv6 (segment routing over IPv6) path between two nodes. */
  SRV6: 'SRV6',
  /** A PCI device (e.g. an SR-IOV virtual function) handed to the workload through VFIO. */
  VFIO: 'VFIO',
  /** No plumbing: the connection is negotiated but nothing is set up for it. */
  NOOP: 'NOOP',
} as const;
/** One of the {@link MechanismType} values. */
export type MechanismType = (typeof MechanismType)[keyof typeof MechanismType];

/** Parameter keys shared by several mechanisms (upstream's `mechanisms/common`). */
export const CommonParams = {
  /** IP address of the tunnel's source (client) side. */
  SrcIP: 'src_ip',
  /** IP address of the tunnel's destination (endpoint) side. */
  DstIP: 'dst_ip',
  /** UDP port of the tunnel's source side. */
  SrcPort: 'src_port',
  /** UDP port of the tunnel's destination side. */
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
  /** MTU of the interface or tunnel, in bytes (decimal). */
  MTU: 'MTU',
} as const;
/** One of the {@link CommonParams} keys. */
export type CommonParamKey = (typeof CommonParams)[keyof typeof CommonParams];

/** `KERNEL` mechanism parameter keys. */
export const KernelParams = {
  /** PCI address of the SR-IOV device to use instead of a veth pair. */
  PCIAddress: CommonParams.PCIAddress,
  /** Device token ID of the client or endpoint, for SR-IOV devices. */
  DeviceTokenID: CommonParams.DeviceTokenID,
  /** Inode number of the workload's network namespace. */
  NetNSInode: CommonParams.NetNSInode,
  /** Name of the interface in the workload's network namespace. */
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
  /** File name of the memif socket. */
  SocketFilename: 'socketfile',
  /** URL (`file://` or `inode://`) of the network namespace the memif socket lives in. */
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
  /** IP address of the tunnel's source (client) side. */
  SrcIP: CommonParams.SrcIP,
  /** IP address of the tunnel's destination (endpoint) side. */
  DstIP: CommonParams.DstIP,
  /** UDP port of the tunnel's source side. */
  SrcPort: CommonParams.SrcPort,
  /** UDP port of the tunnel's destination side. */
  DstPort: CommonParams.DstPort,
  /** VXLAN network identifier (24-bit, decimal). */
  VNI: 'vni',
  /** MTU of the interface or tunnel, in bytes (decimal). */
  MTU: CommonParams.MTU,
} as const;
/** One of the {@link VxlanParams} keys. */
export type VxlanParamKey = (typeof VxlanParams)[keyof typeof VxlanParams];

/** `WIREGUARD` mechanism parameter keys. */
export const WireguardParams = {
  /** IP address of the tunnel's source (client) side. */
  SrcIP: CommonParams.SrcIP,
  /** IP address of the tunnel's destination (endpoint) side. */
  DstIP: CommonParams.DstIP,
  /** UDP port of the tunnel's source side. */
  SrcPort: CommonParams.SrcPort,
  /** UDP port of the tunnel's destination side. */
  DstPort: CommonParams.DstPort,
  /** Public key of the source side. */
  SrcPublicKey: 'src_public_key',
  /** Public key of the destination side. */
  DstPublicKey: 'dst_public_key',
  /** MTU of the interface or tunnel, in bytes (decimal). */
  MTU: CommonParams.MTU,
} as const;
/** One of the {@link WireguardParams} keys. */
export type WireguardParamKey = (typeof WireguardParams)[keyof typeof WireguardParams];

/** `IPSEC` mechanism parameter keys (the same keys as WireGuard). */
export const IpsecParams = {
  /** IP address of the tunnel's source (client) side. */
  SrcIP: CommonParams.SrcIP,
  /** IP address of the tunnel's destination (endpoint) side. */
  DstIP: CommonParams.DstIP,
  /** UDP port of the tunnel's source side. */
  SrcPort: CommonParams.SrcPort,
  /** UDP port of the tunnel's destination side. */
  DstPort: CommonParams.DstPort,
  /** Public key of the source side. */
  SrcPublicKey: 'src_public_key',
  /** Public key of the destination side. */
  DstPublicKey: 'dst_public_key',
  /** MTU of the interface or tunnel, in bytes (decimal). */
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
  /** IP address of the source host. */
  SrcHostIP: 'src_host_ip',
  /** IP address of the destination host. */
  DstHostIP: 'dst_host_ip',
  /** Binding SID of the source side. */
  SrcBSID: 'src_bsid',
  /** Binding SID of the destination side. */
  DstBSID: 'dst_bsid',
  /** Local SID of the source side. */
  SrcLocalSID: 'src_localsid',
  /** Local SID of the destination side. */
  DstLocalSID: 'dst_localsid',
  /** Local SID of the source host. */
  SrcHostLocalSID: 'src_host_localsid',
  /** Local SID of the destination host. */
  DstHostLocalSID: 'dst_host_localsid',
  /** MAC address of the source side. */
  SrcHardwareAddress: 'src_hw_addr',
  /** MAC address of the destination side. */
  DstHardwareAddress: 'dst_hw_addr',
} as const;
/** One of the {@link Srv6Params} keys. */
export type Srv6ParamKey = (typeof Srv6Params)[keyof typeof Srv6Params];

/** `VFIO` mechanism parameter keys. */
export const VfioParams = {
  /** The client's devices cgroup directory, where access to the VFIO devices is granted. */
  CgroupDir: 'cgroupDir',
  /** IOMMU group of the device, naming `/dev/vfio/<group>`. */
  IommuGroup: 'iommuGroup',
  /** PCI address of the device. */
  PCIAddress: CommonParams.PCIAddress,
  /** Device token ID of the client or endpoint. */
  DeviceTokenID: CommonParams.DeviceTokenID,
  /** Major device number of `/dev/vfio/vfio`. */
  VfioMajor: 'vfioMajor',
  /** Minor device number of `/dev/vfio/vfio`. */
  VfioMinor: 'vfioMinor',
  /** Major device number of `/dev/vfio/<iommuGroup>`. */
  DeviceMajor: 'deviceMajor',
  /** Minor device number of `/dev/vfio/<iommuGroup>`. */
  DeviceMinor: 'deviceMinor',
} as const;
/** One of the {@link VfioParams} keys. */
export type VfioParamKey = (typeof VfioParams)[keyof typeof VfioParams];

/** The parameter keys of each mechanism type; `NOOP` has none. */
export const MechanismParams = {
  /** The `KERNEL` keys: {@link KernelParams}. */
  KERNEL: KernelParams,
  /** The `MEMIF` keys: {@link MemifParams}. */
  MEMIF: MemifParams,
  /** The `VXLAN` keys: {@link VxlanParams}. */
  VXLAN: VxlanParams,
  /** The `WIREGUARD` keys: {@link WireguardParams}. */
  WIREGUARD: WireguardParams,
  /** The `IPSEC` keys: {@link IpsecParams}. */
  IPSEC: IpsecParams,
  /** The `VLAN` keys: {@link VlanParams}. */
  VLAN: VlanParams,
  /** The `SRV6` keys: {@link Srv6Params}. */
  SRV6: Srv6Params,
  /** The `VFIO` keys: {@link VfioParams}. */
  VFIO: VfioParams,
  /** `NOOP` has no parameters. */
  NOOP: {},
} as const satisfies Record<MechanismType, Readonly<Record<string, string>>>;

/** `Connection.payload` and `NetworkService.payload`: what the connection carries. */
export const Payload = {
  /** IP packets (layer 3). */
  IP: 'IP',
  /** Ethernet frames (layer 2). */
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
