//! The flow map shared with the XDP program: key and value layouts (`struct flow_key` and
//! `struct flow_action` in bpf/fastpath.h) and their encoding from the core's offloads.

use std::net::IpAddr;

use rvs_core::director::{Offload, OffloadRewrite};

use crate::nexthop::Egress;

/// `FLOW_DR` and friends in bpf/fastpath.h.
const FLOW_DR: u8 = 1;
const FLOW_NAT_DST: u8 = 2;
const FLOW_NAT_SRC: u8 = 3;

/// Key of the flow map: the packet as received. Must match `struct flow_key`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// Ingress interface.
    pub ifindex: u32,
    /// 4 or 6.
    pub family: u8,
    /// IP protocol.
    pub proto: u8,
    /// Source port, network byte order.
    pub sport: u16,
    /// Destination port, network byte order.
    pub dport: u16,
    pad: u16,
    /// Source address (IPv4 v4-mapped).
    pub saddr: [u8; 16],
    /// Destination address (IPv4 v4-mapped).
    pub daddr: [u8; 16],
}

// SAFETY: repr(C), Copy, no padding (4+1+1+2+2+2+16+16 = 44 bytes, 4-aligned), every bit
// pattern valid.
unsafe impl aya::Pod for FlowKey {}

/// What the program does with a packet of the flow, and its counters. Must match
/// `struct flow_action`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowAction {
    /// Destination MAC.
    pub dmac: [u8; 6],
    /// Source MAC.
    pub smac: [u8; 6],
    /// DR / NAT destination / NAT source.
    pub kind: u8,
    pad0: u8,
    /// New port (NAT), network byte order.
    pub port: u16,
    /// New address (NAT), IPv4 v4-mapped.
    pub addr: [u8; 16],
    /// Egress slot (rvs_egress).
    pub egress: u32,
    /// Largest IP packet the program forwards.
    pub mtu: u16,
    pad1: u16,
    /// Packets forwarded by the program.
    pub packets: u64,
    /// IP bytes forwarded by the program.
    pub bytes: u64,
    /// bpf_ktime_get_ns() of the last packet.
    pub last_seen_ns: u64,
}

// SAFETY: repr(C), Copy, no padding (6+6+1+1+2+16+4+2+2 = 40, then three u64 at 8-aligned
// offsets: 64 bytes), every bit pattern valid.
unsafe impl aya::Pod for FlowAction {}

/// An address as the maps hold it (IPv4 v4-mapped) and its family.
pub fn map_addr(a: IpAddr) -> (u8, [u8; 16]) {
    match a {
        IpAddr::V4(v4) => (4, v4.to_ipv6_mapped().octets()),
        IpAddr::V6(v6) => (6, v6.octets()),
    }
}

impl FlowKey {
    /// The key of packets `src:sport` → `dst:dport` (host byte order ports) of `proto`
    /// arriving on `ifindex`; `None` when the families differ.
    pub fn new(
        ifindex: u32,
        proto: u8,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
    ) -> Option<FlowKey> {
        let (family, saddr) = map_addr(src);
        let (dfamily, daddr) = map_addr(dst);
        (family == dfamily).then_some(FlowKey {
            ifindex,
            family,
            proto,
            sport: sport.to_be(),
            dport: dport.to_be(),
            pad: 0,
            saddr,
            daddr,
        })
    }
}

impl FlowAction {
    /// The action for `o` leaving through `eg`; `None` when the rewrite mixes families.
    pub fn new(o: &Offload, eg: &Egress) -> Option<FlowAction> {
        let (kind, addr, port) = match o.rewrite {
            OffloadRewrite::None => (FLOW_DR, [0; 16], 0),
            OffloadRewrite::Dst { addr, port } => (FLOW_NAT_DST, map_addr(addr).1, port),
            OffloadRewrite::Src { addr, port } => (FLOW_NAT_SRC, map_addr(addr).1, port),
        };
        Some(FlowAction {
            dmac: eg.dst_mac,
            smac: eg.src_mac,
            kind,
            pad0: 0,
            port: port.to_be(),
            addr,
            egress: u32::try_from(eg.slot).ok()?,
            mtu: o.mtu,
            pad1: 0,
            packets: 0,
            bytes: 0,
            last_seen_ns: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_the_c_structs() {
        assert_eq!(std::mem::size_of::<FlowKey>(), 44);
        assert_eq!(std::mem::size_of::<FlowAction>(), 64);
        assert_eq!(std::mem::offset_of!(FlowAction, egress), 32);
        assert_eq!(std::mem::offset_of!(FlowAction, packets), 40);
    }

    #[test]
    fn keys_hold_ports_in_network_order_and_v4_mapped_addresses() {
        let k = FlowKey::new(
            3,
            6,
            "198.51.100.1".parse().unwrap(),
            0x1234,
            "203.0.113.9".parse().unwrap(),
            80,
        )
        .unwrap();
        assert_eq!(k.sport.to_ne_bytes(), [0x12, 0x34]);
        assert_eq!(k.family, 4);
        assert_eq!(&k.saddr[10..], &[0xff, 0xff, 198, 51, 100, 1]);
        assert!(
            FlowKey::new(
                1,
                6,
                "198.51.100.1".parse().unwrap(),
                1,
                "2001:db8::1".parse().unwrap(),
                2
            )
            .is_none()
        );
    }
}
