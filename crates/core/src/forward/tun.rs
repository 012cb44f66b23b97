//! IP-in-IP tunnelling: an outer IPv4 or IPv6 header is put in front of the packet, in the
//! headroom before the frame; the layer-2 header moves to the new front.
//!
//! The outer header follows `ip_vs_tunnel_xmit`: IPv4 (20 bytes, no options) or IPv6
//! (40 bytes) by the real server's family, so mixed families work; DS field copied from the
//! inner packet with ECN encapsulated (CE becomes ECT(0)); DF copied from an inner IPv4
//! header when path-MTU discovery is on; TTL / hop limit = the inner one (already
//! decremented); protocol 4 for an inner IPv4 packet, 41 for IPv6.

use core::net::IpAddr;

use rvs_wire::{ethernet::ethertype, ip_proto};

use crate::director::packet::{Parsed, header20_sum, put_addr, put16};

/// Length of an untagged Ethernet header.
const ETH_LEN: usize = 14;
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
    if let (IpAddr::V4(src), IpAddr::V4(rip)) = (t.src, t.rip) {
        return encapsulate_v4(buf, p, src.octets(), rip.octets(), t.df, t.ident);
    }
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
    let ds = outer_ds(ds);
    let inner_proto = if p.v6 { ip_proto::IPV6 } else { ip_proto::IPIP };
    let l2 = p.l2_len();
    buf.copy_within(p.start..p.l3, new_start);
    let o = new_start + l2;
    match (t.src, t.rip) {
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

/// The outer DS field: the inner one with ECN encapsulated (CE becomes ECT(0)).
#[inline(always)]
fn outer_ds(inner: u8) -> u8 {
    let ecn = inner & 3;
    (inner & !3) | if ecn == 3 { 2 } else { ecn }
}

/// [`encapsulate`] with an IPv4 outer header from `src` to `rip` (the common case, on the
/// per-packet path): the header is built in registers and written once.
#[inline(always)]
pub(crate) fn encapsulate_v4(
    buf: &mut [u8],
    p: &Parsed,
    src: [u8; 4],
    rip: [u8; 4],
    df: bool,
    ident: u16,
) -> Result<(usize, usize), DropReason> {
    let new_start = p.start.checked_sub(20).ok_or(DropReason::NoHeadroom)?;
    let inner_len = p.ip_len();
    let total = u16::try_from(inner_len + 20).map_err(|_| DropReason::TooBig)?;
    let inner: &[u8; 9] = buf
        .get(p.l3..)
        .and_then(|h| h.first_chunk())
        .ok_or(DropReason::Malformed)?;
    let (ds, ttl, inner_proto) = if p.v6 {
        ((inner[0] << 4) | (inner[1] >> 4), inner[7], ip_proto::IPV6)
    } else {
        (inner[1], inner[8], ip_proto::IPIP)
    };
    let l2 = p.l2_len();
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[1] = outer_ds(ds);
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&ident.to_be_bytes());
    h[6] = if df { 0x40 } else { 0 };
    h[8] = ttl;
    h[9] = inner_proto;
    h[12..16].copy_from_slice(&src);
    h[16..20].copy_from_slice(&rip);
    let c = !header20_sum(&h);
    h[10..12].copy_from_slice(&c.to_ne_bytes());
    // The layer-2 header moves 20 bytes to the front (an untagged one without a call).
    if l2 == ETH_LEN {
        let mut eth: [u8; ETH_LEN] = *buf
            .get(p.start..)
            .and_then(|f| f.first_chunk())
            .ok_or(DropReason::Malformed)?;
        eth[12..14].copy_from_slice(&ethertype::IPV4.to_be_bytes());
        let out: &mut [u8; ETH_LEN + 20] = buf
            .get_mut(new_start..)
            .and_then(|f| f.first_chunk_mut())
            .ok_or(DropReason::Malformed)?;
        out[..ETH_LEN].copy_from_slice(&eth);
        out[ETH_LEN..].copy_from_slice(&h);
    } else {
        buf.copy_within(p.start..p.l3, new_start);
        let o = new_start + l2;
        put16(buf, o - 2, ethertype::IPV4);
        buf[o..o + 20].copy_from_slice(&h);
    }
    Ok((new_start, l2 + 20 + inner_len))
}
