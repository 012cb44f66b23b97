//! What the core decides for one frame.

use core::net::IpAddr;

/// The outcome of processing one frame.
///
/// On `Forward`, the frame buffer has been rewritten in place (and, for TUN, may have grown
/// at the front into the headroom): it starts with an Ethernet header whose MAC addresses
/// the driver fills in after resolving `next_hop` through the kernel's routes and neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Transmit the rewritten frame towards `next_hop` (an on-link address: the real server
    /// for DR/NAT, the tunnel endpoint for TUN, the client's address for NAT replies and
    /// locally generated ICMP errors; the driver routes it).
    Forward {
        /// The address whose route and neighbour decide the egress interface and MACs.
        next_hop: IpAddr,
        /// Offset of the frame's first byte in the buffer after the rewrite.
        start: usize,
        /// Length of the frame after the rewrite.
        len: usize,
    },
    /// Drop the frame; the reason is counted.
    Drop(DropReason),
}

/// Why a frame was dropped. Every drop is counted under one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum DropReason {
    /// The frame is shorter than its headers claim or a header is malformed.
    Malformed,
    /// A checksum does not verify.
    BadChecksum,
    /// Not IPv4/IPv6 or a transport the core does not balance.
    UnsupportedProtocol,
    /// An IP fragment (IPVS does not balance fragments).
    Fragment,
    /// TTL or hop limit would expire on forwarding.
    TtlExceeded,
    /// No virtual service matches the packet.
    NoService,
    /// The service has no usable destination.
    NoDestination,
    /// A packet that cannot start a connection (e.g. a TCP non-SYN) and matches none.
    NoConnection,
    /// The connection's destination was deleted (expire_nodest_conn).
    DestinationGone,
    /// The packet would exceed the path MTU with DF set; an ICMP error was not possible.
    TooBig,
    /// The connection table is full and nothing could be evicted.
    TableFull,
    /// Not enough headroom to add a tunnel header.
    NoHeadroom,
    /// An ICMP message that is not an error about a tracked connection (echo to a VIP,
    /// errors about unknown connections, ...).
    IcmpUnrelated,
    /// No source address is known for a tunnel header (the driver has not given one).
    NoSourceAddress,
    /// An ICMP error consumed by the director (frag-needed about a tunnelled packet whose
    /// inner packet allowed fragmentation), as IPVS does.
    IcmpConsumed,
}
