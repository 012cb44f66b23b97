//! Forwarding methods: NAT, DR and TUN rewrites, ICMP error handling, TTL and MTU rules.
//!
//! All functions work in place on the receive buffer, using the offsets found by the
//! director's parser. Every rewrite keeps every checksum valid: IPv4 header checksums and
//! TCP/UDP checksums are patched incrementally (RFC 1624), the SCTP CRC32c and the checksums
//! of ICMP messages are recomputed.
//!
//! Order of the routing step, as `__ip_vs_get_out_rt` does it for every method: the TTL or
//! hop limit is decremented first (a packet with TTL ≤ 1 is dropped, `TtlExceeded`, and
//! the director answers it with an ICMP time exceeded), then
//! the packet is checked against the path MTU (IPv4 with DF, or IPv6, too big: an ICMP
//! "fragmentation needed" / "packet too big" goes back to the client), then the method's
//! rewrite runs.

mod dr;
mod icmp;
mod nat;
mod tun;

use core::net::IpAddr;

use crate::director::packet::Parsed;
use crate::verdict::DropReason;

pub(crate) use dr::forward as dr_forward;
pub(crate) use icmp::{
    IcmpError, IcmpKind, build_error, nat_rewrite as icmp_nat_rewrite,
    parse_error as parse_icmp_error, relay_tunnel_error, tunnel_quote,
};
pub(crate) use nat::{Side, rewrite as nat_rewrite, rewrite_v4 as nat_rewrite_v4};
pub(crate) use tun::{
    TunParams, encapsulate as tun_encapsulate, encapsulate_v4 as tun_encapsulate_v4,
    outer_len as tun_outer_len,
};

/// Where and how to send packets towards one real server, as the driver learnt it from the
/// kernel's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathInfo {
    /// Source address for tunnel headers towards this real server (the route's preferred
    /// source); `None` falls back to the director's address of the family.
    pub source: Option<IpAddr>,
    /// MTU of the egress towards this real server.
    pub mtu: u16,
}

/// The default MTU when the driver gave none (Ethernet).
pub const DEFAULT_MTU: u16 = 1500;

/// Decrement the IPv4 TTL (patching the header checksum) or the IPv6 hop limit; a packet
/// whose TTL is 1 or 0 would expire here and is refused, as `decrement_ttl` in
/// `ip_vs_xmit.c` does.
#[inline]
pub(crate) fn decrement_ttl(buf: &mut [u8], p: &Parsed) -> Result<(), DropReason> {
    if p.v6 {
        let at = p.l3 + 7;
        if buf[at] <= 1 {
            return Err(DropReason::TtlExceeded);
        }
        buf[at] -= 1;
    } else {
        let h = &mut buf[p.l3..p.l3 + 12];
        if h[8] <= 1 {
            return Err(DropReason::TtlExceeded);
        }
        h[8] -= 1;
        // RFC 1624 for a TTL (high byte of its word) going down by one: add 0x0100 to the
        // checksum with end-around carry, as the kernel's `ip_decrease_ttl` does (which also
        // turns a 0xffff result into 0, what a full recompute gives).
        let c = u32::from(u16::from_be_bytes([h[10], h[11]])) + 0x0100;
        let c = (c + u32::from(c >= 0xffff)) as u16;
        h[10..12].copy_from_slice(&c.to_be_bytes());
    }
    Ok(())
}

/// The MTU verdict for a packet of `p` leaving on a path of `mtu` bytes (for tunnels: the
/// path MTU minus the outer header), `ensure_mtu_is_adequate`: `Ok` if it fits, else the
/// ICMP error to send the client (IPv4 with DF: frag-needed; IPv6: packet too big), or a
/// drop when IPVS would fragment (IPv4 without DF: the data plane cannot fragment) or the
/// packet is itself an ICMP error.
#[inline]
pub(crate) fn check_mtu(p: &Parsed, mtu: u16, is_icmp_error: bool) -> Result<(), MtuAction> {
    if p.ip_len() <= usize::from(mtu) {
        return Ok(());
    }
    if is_icmp_error {
        return Err(MtuAction::Drop);
    }
    if p.v6 {
        Err(MtuAction::Icmp(IcmpKind::PacketTooBig(u32::from(mtu))))
    } else if p.df {
        Err(MtuAction::Icmp(IcmpKind::FragNeeded(mtu)))
    } else {
        Err(MtuAction::Drop)
    }
}

#[cfg(test)]
mod tests;

/// What to do with a packet too big for its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MtuAction {
    /// Send this ICMP error to the client and drop the packet.
    Icmp(IcmpKind),
    /// Drop the packet (counted as `TooBig`).
    Drop,
}

impl MtuAction {
    /// The ICMP error to send, if any.
    pub(crate) fn icmp(self) -> Option<IcmpKind> {
        match self {
            MtuAction::Icmp(k) => Some(k),
            MtuAction::Drop => None,
        }
    }
}
