//! NAT (masquerading): destination rewrite on the way in, source rewrite on the way back.
//!
//! In: destination VIP:VPORT → RIP:RPORT. Out (replies): source RIP:RPORT → VIP:VPORT. The
//! TCP/UDP checksum is patched for the address (pseudo header) and the port, the IPv4 header
//! checksum for the address; an IPv4 UDP checksum of 0 ("none") stays 0. SCTP has no
//! pseudo header, but its CRC32c covers the ports: it is recomputed.

use core::net::IpAddr;

use rvs_wire::{checksum, ip_proto};

use crate::director::packet::{Parsed, SCTP_CSUM, TCP_CSUM, UDP_CSUM, get16, put16, put_addr};
use crate::verdict::DropReason;

/// Which end of the packet a rewrite changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Source address and port (replies from a NAT real server).
    Src,
    /// Destination address and port (client packets to a NAT real server).
    Dst,
}

/// Offset of the source (or destination) address in the IP header.
#[inline]
pub(crate) fn addr_offset(v6: bool, side: Side) -> usize {
    match (v6, side) {
        (false, Side::Src) => 12,
        (false, Side::Dst) => 16,
        (true, Side::Src) => 8,
        (true, Side::Dst) => 24,
    }
}

/// Rewrite one end of the packet to `addr:port`, keeping every checksum valid.
/// `addr` must have the packet's family (NAT never mixes families).
pub(crate) fn rewrite(buf: &mut [u8], p: &Parsed, side: Side, addr: IpAddr, port: u16) -> Result<(), DropReason> {
    let old_addr = match side {
        Side::Src => p.src,
        Side::Dst => p.dst,
    };
    if addr.is_ipv6() != p.v6 {
        return Err(DropReason::Malformed);
    }
    let port_at = p.l4 + if side == Side::Src { 0 } else { 2 };
    let old_port = get16(buf, port_at);
    match p.proto {
        ip_proto::TCP => {
            let at = p.l4 + TCP_CSUM;
            let c = update_addr(get16(buf, at), old_addr, addr, false);
            put16(buf, at, checksum::update_u16(c, old_port, port));
            put16(buf, port_at, port);
        }
        ip_proto::UDP => {
            let at = p.l4 + UDP_CSUM;
            let c = update_addr(get16(buf, at), old_addr, addr, true);
            put16(buf, at, checksum::udp_update_u16(c, old_port, port));
            put16(buf, port_at, port);
        }
        ip_proto::SCTP => {
            put16(buf, port_at, port);
            fill_sctp_crc(buf, p.l4, p.end);
        }
        _ => return Err(DropReason::UnsupportedProtocol),
    }
    set_ip_addr(buf, p.l3, p.v6, side, old_addr, addr);
    Ok(())
}

/// Patch a transport checksum for an address change in its pseudo header.
#[inline]
fn update_addr(c: u16, old: IpAddr, new: IpAddr, udp: bool) -> u16 {
    match (old, new, udp) {
        (IpAddr::V4(o), IpAddr::V4(n), false) => checksum::update_ipv4_addr(c, o, n),
        (IpAddr::V4(o), IpAddr::V4(n), true) => checksum::udp_update_ipv4_addr(c, o, n),
        (IpAddr::V6(o), IpAddr::V6(n), false) => checksum::update_ipv6_addr(c, &o, &n),
        (IpAddr::V6(o), IpAddr::V6(n), true) => checksum::udp_update_ipv6_addr(c, &o, &n),
        _ => c,
    }
}

/// Write one address of the IP header at `l3`, patching the IPv4 header checksum.
#[inline]
pub(crate) fn set_ip_addr(buf: &mut [u8], l3: usize, v6: bool, side: Side, old: IpAddr, new: IpAddr) {
    put_addr(buf, l3 + addr_offset(v6, side), new);
    if let (IpAddr::V4(o), IpAddr::V4(n)) = (old, new) {
        let c = checksum::update_ipv4_addr(get16(buf, l3 + 10), o, n);
        put16(buf, l3 + 10, c);
    }
}

/// Recompute the CRC32c of the SCTP packet `buf[l4..end]` (stored little-endian, as the
/// kernel's `sctp_compute_cksum` does).
pub(crate) fn fill_sctp_crc(buf: &mut [u8], l4: usize, end: usize) {
    let at = l4 + SCTP_CSUM;
    buf[at..at + 4].fill(0);
    let crc = checksum::crc32c(&buf[l4..end]);
    buf[at..at + 4].copy_from_slice(&crc.to_le_bytes());
}
