//! NAT (masquerading): destination rewrite on the way in, source rewrite on the way back.
//!
//! In: destination VIP:VPORT → RIP:RPORT. Out (replies): source RIP:RPORT → VIP:VPORT. The
//! TCP/UDP checksum is patched for the address (pseudo header) and the port, the IPv4 header
//! checksum for the address; an IPv4 UDP checksum of 0 ("none") stays 0. SCTP has no
//! pseudo header, but its CRC32c covers the ports: it is recomputed.

use core::net::IpAddr;

use rvs_wire::{checksum, ip_proto};

use crate::director::packet::{Parsed, SCTP_CSUM, TCP_CSUM, UDP_CSUM, get16, put_addr, put16};
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
#[inline]
pub(crate) fn rewrite(
    buf: &mut [u8],
    p: &Parsed,
    side: Side,
    addr: IpAddr,
    port: u16,
) -> Result<(), DropReason> {
    if let (IpAddr::V4(a), false) = (addr, p.v6)
        && p.proto != ip_proto::SCTP
    {
        return rewrite_v4(buf, p, side, a.octets(), port);
    }
    if addr.is_ipv6() != p.v6 {
        return Err(DropReason::Malformed);
    }
    let at = p.l3 + addr_offset(p.v6, side);
    // RFC 1624 eqn. 3 with all changed words folded in at once: the address changes the
    // IPv4 header and the pseudo header; the port only the transport checksum.
    let addr_delta = match addr {
        IpAddr::V4(a) => swap_addr(buf, at, a.octets()),
        IpAddr::V6(a) => swap_addr(buf, at, a.octets()),
    };
    let port_at = p.l4 + if side == Side::Src { 0 } else { 2 };
    let old_port = get16(buf, port_at);
    let port_delta = u64::from(!old_port) + u64::from(port);
    match p.proto {
        ip_proto::TCP => {
            let c = get16(buf, p.l4 + TCP_CSUM);
            put16(buf, p.l4 + TCP_CSUM, apply(c, addr_delta + port_delta));
        }
        ip_proto::UDP => {
            let c = get16(buf, p.l4 + UDP_CSUM);
            // IPv4 "no checksum" stays so; a computed 0 is sent as 0xffff.
            if c != 0 {
                put16(
                    buf,
                    p.l4 + UDP_CSUM,
                    checksum::udp_wire(apply(c, addr_delta + port_delta)),
                );
            }
        }
        ip_proto::SCTP => {}
        _ => return Err(DropReason::UnsupportedProtocol),
    }
    put16(buf, port_at, port);
    if p.proto == ip_proto::SCTP {
        fill_sctp_crc(buf, p.l4, p.end);
    }
    if !p.v6 {
        let c = get16(buf, p.l3 + 10);
        put16(buf, p.l3 + 10, apply(c, addr_delta));
    }
    Ok(())
}

/// [`rewrite`] of an IPv4 TCP or UDP packet, the common case.
#[inline(always)]
pub(crate) fn rewrite_v4(
    buf: &mut [u8],
    p: &Parsed,
    side: Side,
    new: [u8; 4],
    port: u16,
) -> Result<(), DropReason> {
    let udp = match p.proto {
        ip_proto::TCP => false,
        ip_proto::UDP => true,
        _ => return Err(DropReason::UnsupportedProtocol),
    };
    let (head, l4) = buf.split_at_mut(p.l4);
    let ip = head
        .get_mut(p.l3..)
        .and_then(|h| h.first_chunk_mut::<20>())
        .ok_or(DropReason::Malformed)?;
    if rewrite_v4_headers(ip, l4, udp, side, new, port) {
        Ok(())
    } else {
        Err(DropReason::Malformed)
    }
}

/// Rewrite one end of an IPv4 TCP/UDP packet to `new:port` given its IP header (the first
/// 20 bytes) and its transport header `l4`; false (nothing changed) when `l4` is shorter
/// than the header. Every checksum is patched incrementally (RFC 1624 eqn. 3).
///
/// The sums are taken over native-endian words: a one's complement sum does not depend on
/// byte order (RFC 1071 §2(B)), so no byte swapping is needed.
#[inline(always)]
fn rewrite_v4_headers(
    ip: &mut [u8; 20],
    l4: &mut [u8],
    udp: bool,
    side: Side,
    new: [u8; 4],
    port: u16,
) -> bool {
    let csum_at = if udp { UDP_CSUM } else { TCP_CSUM };
    let Some(l4) = l4.get_mut(..csum_at + 2) else {
        return false;
    };
    let (addr_at, port_at) = match side {
        Side::Src => (12, 0),
        Side::Dst => (16, 2),
    };
    let old = ne32(&ip[addr_at..addr_at + 4]);
    // Σ(~old) + Σ(new) over the address words, folded to 17 bits.
    let addr_delta = u64::from(!old) + u64::from(u32::from_ne_bytes(new));
    let addr_delta = ((addr_delta & 0xffff_ffff) + (addr_delta >> 32)) as u32;
    let addr_delta = (addr_delta & 0xffff) + (addr_delta >> 16);
    ip[addr_at..addr_at + 4].copy_from_slice(&new);
    let c = ne16(&ip[10..12]);
    ip[10..12].copy_from_slice(&patch(c, addr_delta).to_ne_bytes());
    let new_port = port.to_be_bytes();
    let port_delta =
        u32::from(!ne16(&l4[port_at..port_at + 2])) + u32::from(u16::from_ne_bytes(new_port));
    l4[port_at..port_at + 2].copy_from_slice(&new_port);
    let c = ne16(&l4[csum_at..csum_at + 2]);
    // An IPv4 UDP checksum of 0 means "none" and stays so; a computed 0 is sent as 0xffff.
    if !udp || c != 0 {
        let mut n = patch(c, addr_delta + port_delta);
        if udp && n == 0 {
            n = 0xffff;
        }
        l4[csum_at..csum_at + 2].copy_from_slice(&n.to_ne_bytes());
    }
    true
}

#[inline]
fn ne16(b: &[u8]) -> u16 {
    u16::from_ne_bytes([b[0], b[1]])
}

#[inline]
fn ne32(b: &[u8]) -> u32 {
    u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
}

/// `~fold(~c + delta)`: the checksum `c` after the changes summed in `delta` (any byte
/// order, as long as `c` and `delta` use the same; `delta` below 2^18).
#[inline]
fn patch(c: u16, delta: u32) -> u16 {
    let s = u32::from(!c) + delta;
    let s = (s & 0xffff) + (s >> 16);
    let s = (s & 0xffff) + (s >> 16);
    !(s as u16)
}

/// Write the `N`-byte address `new` at `at`; returns Σ(~old word) + Σ(new word) over its
/// 16-bit words, the checksum delta of the change.
#[inline]
fn swap_addr<const N: usize>(buf: &mut [u8], at: usize, new: [u8; N]) -> u64 {
    let mut old = [0u8; N];
    old.copy_from_slice(&buf[at..at + N]);
    buf[at..at + N].copy_from_slice(&new);
    let mut d = 0u64;
    for i in (0..N).step_by(2) {
        d += u64::from(!u16::from_be_bytes([old[i], old[i + 1]]))
            + u64::from(u16::from_be_bytes([new[i], new[i + 1]]));
    }
    d
}

/// `~fold(~c + delta)`: the checksum `c` after the changes summed in `delta`.
#[inline]
fn apply(c: u16, delta: u64) -> u16 {
    let mut s = u64::from(!c) + delta;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    !(s as u16)
}

/// Write one address of the IP header at `l3`, patching the IPv4 header checksum.
#[inline]
pub(crate) fn set_ip_addr(
    buf: &mut [u8],
    l3: usize,
    v6: bool,
    side: Side,
    old: IpAddr,
    new: IpAddr,
) {
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
