//! IP-in-IP tunnelling: an outer IPv4 or IPv6 header is put in front of the packet, in the
//! headroom before the frame; the layer-2 header moves to the new front.
//!
//! The outer header follows `ip_vs_tunnel_xmit`: IPv4 (20 bytes, no options) or IPv6
//! (40 bytes) by the real server's family, so mixed families work; DS field copied from the
//! inner packet with ECN encapsulated (CE becomes ECT(0)); DF copied from an inner IPv4
//! header when path-MTU discovery is on; TTL / hop limit = the inner one (already
//! decremented); protocol 4 for an inner IPv4 packet, 41 for IPv6.

use core::net::IpAddr;

use rvs_wire::{checksum, ethernet::ethertype, ip_proto};

use crate::director::packet::{Parsed, put_addr, put16};
use crate::verdict::DropReason;

/// What the outer header carries besides the inner packet's own fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TunParams {
    /// Outer source: the director's address towards the real server.
    pub src: IpAddr,
    /// Outer destination: the real server.
    pub rip: IpAddr,
    /// Set DF on an IPv4 outer header.
    pub df: bool,
    /// IPv4 identification of the outer header.
    pub ident: u16,
}

/// Folded sum of a 20-byte IPv4 header, by 32-bit words.
#[inline]
fn header_sum(h: &[u8]) -> u16 {
    let mut s: u64 = 0;
    for w in h.chunks_exact(4) {
        s += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    checksum::fold(s)
}

/// Length of the outer header towards `rip`.
#[inline]
pub(crate) const fn outer_len(rip: IpAddr) -> usize {
    match rip {
        IpAddr::V4(_) => 20,
        IpAddr::V6(_) => 40,
    }
}

/// Encapsulate the (TTL-decremented) packet; returns the new frame's (start, len).
pub(crate) fn encapsulate(
    buf: &mut [u8],
    p: &Parsed,
    t: &TunParams,
) -> Result<(usize, usize), DropReason> {
    let olen = outer_len(t.rip);
    if t.src.is_ipv6() != t.rip.is_ipv6() {
        return Err(DropReason::NoSourceAddress);
    }
    let new_start = p.start.checked_sub(olen).ok_or(DropReason::NoHeadroom)?;
    let inner_len = p.ip_len();
    let (ds, ttl) = if p.v6 {
        ((buf[p.l3] << 4) | (buf[p.l3 + 1] >> 4), buf[p.l3 + 7])
    } else {
        (buf[p.l3 + 1], buf[p.l3 + 8])
    };
    let ecn = ds & 3;
    let ds = (ds & !3) | if ecn == 3 { 2 } else { ecn };
    let inner_proto = if p.v6 { ip_proto::IPV6 } else { ip_proto::IPIP };
    let l2 = p.l2_len();
    buf.copy_within(p.start..p.l3, new_start);
    let o = new_start + l2;
    match (t.src, t.rip) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let total = u16::try_from(inner_len + olen).map_err(|_| DropReason::TooBig)?;
            put16(buf, o - 2, ethertype::IPV4);
            let h = &mut buf[o..o + 20];
            h[0] = 0x45;
            h[1] = ds;
            h[2..4].copy_from_slice(&total.to_be_bytes());
            h[4..6].copy_from_slice(&t.ident.to_be_bytes());
            h[6..8].copy_from_slice(&(if t.df { 0x4000u16 } else { 0 }).to_be_bytes());
            h[8] = ttl;
            h[9] = inner_proto;
            h[10..12].fill(0);
            h[12..16].copy_from_slice(&src.octets());
            h[16..20].copy_from_slice(&dst.octets());
            let c = checksum::finish(header_sum(h));
            h[10..12].copy_from_slice(&c.to_be_bytes());
        }
        (IpAddr::V6(_), IpAddr::V6(_)) => {
            let payload = u16::try_from(inner_len).map_err(|_| DropReason::TooBig)?;
            put16(buf, o - 2, ethertype::IPV6);
            buf[o] = 0x60 | (ds >> 4);
            buf[o + 1] = ds << 4;
            buf[o + 2] = 0;
            buf[o + 3] = 0;
            put16(buf, o + 4, payload);
            buf[o + 6] = inner_proto;
            buf[o + 7] = ttl;
            put_addr(buf, o + 8, t.src);
            put_addr(buf, o + 24, t.rip);
        }
        _ => return Err(DropReason::NoSourceAddress),
    }
    Ok((new_start, l2 + olen + inner_len))
}
