//! The fast path: a packet of an established IPv4 TCP or UDP connection, both directions.
//!
//! Most packets a director sees belong to connections it already tracks. For those,
//! [`Director::established_v4`] and [`Director::reply_v4`] do what the general path
//! ([`existing`](super::input), [`xmit_in`](super::xmit), [`reply`](super::input)) does,
//! in the same order and with the same results, without its generality: no address
//! conversions, one bounds check per header, checksums patched in one pass.
//!
//! The rule that keeps both paths equal: every check that could make the general path
//! take another turn (a SYN, a deleted destination, TTL about to expire, a packet too big
//! for its path, a tunnel without source address or headroom) is made *before* anything
//! changes, and on any of them the fast path returns `None` and the general path runs as if
//! the fast one did not exist. The differential test in `fast_tests.rs` holds them to it.
//!
//! The transmit half ([`Director::plan_v4`], then [`Director::send_v4`]) also sends the
//! first packet of a new connection.
//!
//! [`Director::shortcut_v4`] puts the two in front of the general path for frames of the
//! common form: the connection is looked up from the packet's fields (no key is built),
//! and everything it calls is inlined into `process`, so the packet's parse stays in
//! registers. Where it declines, `process` parses the frame again and runs the general
//! path, which tries the same fast functions once more (for the frames `parse_common`
//! leaves to the general parser) before its own work.

use core::net::{IpAddr, Ipv4Addr};

use rvs_wire::ip_proto;

use crate::Instant;
use crate::conn::{ConnId, Direction, Segment, TcpFlags};
use crate::forward::{Side, nat_rewrite_v4, tun_encapsulate_v4};
use crate::model::ForwardMethod;
use crate::verdict::Verdict;

use super::Director;
use super::packet::Parsed;

/// Smallest IPv4 MTU (RFC 791): a tunnel path whose inner MTU falls below it is refused.
const MIN_MTU_V4: u16 = 68;

/// Length of the outer IPv4 header of a tunnel.
const TUN_V4_HEADER: u16 = 20;

/// How a client packet leaves towards its real server, decided before anything changes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TxPlan {
    method: ForwardMethod,
    rip: Ipv4Addr,
    /// Real server port (NAT).
    dport: u16,
    /// Outer source address (TUN).
    tun_src: Ipv4Addr,
}

/// What [`Director::shortcut_v4`] made of a frame.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shortcut {
    /// Handled: the frame's verdict.
    Done(Verdict),
    /// Nothing changed, and the packet belongs to no connection (neither side): the
    /// general path can go straight to scheduling a new one.
    NoConnection,
    /// Nothing changed; the general path decides everything.
    Declined,
}

/// Both lookups missed.
struct NoConnection;

impl Director {
    /// The established-flow shortcut for a frame of the common form (untagged IPv4 TCP or
    /// UDP, see `parse_common`): connection lookup from the packet's fields, then
    /// [`established_v4`](Director::established_v4) or, for a NAT reply,
    /// [`reply_v4`](Director::reply_v4), in [`input`](Director::input)'s order. `None`
    /// (nothing changed) when any of them declines; the general path then runs.
    #[inline(always)]
    pub(crate) fn shortcut_v4(&mut self, buf: &mut [u8], p: &Parsed, now: Instant) -> Shortcut {
        if !self.fast_path {
            return Shortcut::Declined;
        }
        match self.shortcut_lookup(buf, p, now) {
            Ok(Some(v)) => {
                #[cfg(test)]
                {
                    self.fast_hits += 1;
                }
                Shortcut::Done(v)
            }
            Ok(None) => Shortcut::Declined,
            Err(NoConnection) => Shortcut::NoConnection,
        }
    }

    /// The lookups and fast functions of [`shortcut_v4`](Director::shortcut_v4).
    #[inline(always)]
    fn shortcut_lookup(
        &mut self,
        buf: &mut [u8],
        p: &Parsed,
        now: Instant,
    ) -> Result<Option<Verdict>, NoConnection> {
        let seg = if p.proto == ip_proto::TCP {
            Segment::Tcp(TcpFlags(p.tcp_flags))
        } else {
            Segment::Udp
        };
        let (Some(&src), Some(&dst)) = (p.src_raw.first_chunk(), p.dst_raw.first_chunk()) else {
            return Ok(None);
        };
        match self.conns.lookup_in_v4(p.proto, src, p.sport, dst, p.dport) {
            Ok(id) => Ok(self.established_v4(buf, p, id, seg, now)),
            Err(_) if self.conns.has_no_cport() => Ok(None),
            Err(hash) => {
                if self.st.nat_servers.is_empty() || !self.st.rips.may_contain(&p.src_raw) {
                    return Err(NoConnection);
                }
                let id = self
                    .conns
                    .lookup_out_v4(p.proto, src, p.sport, dst, p.dport, hash)
                    .ok_or(NoConnection)?;
                Ok(self.reply_v4(buf, p, id, seg, now))
            }
        }
    }

    /// A client packet of connection `id`: IPv4 TCP/UDP, not a SYN, destination available,
    /// forwarded without TTL or MTU trouble. `None` (nothing changed) for anything else.
    #[inline(always)]
    pub(crate) fn established_v4(
        &mut self,
        buf: &mut [u8],
        p: &Parsed,
        id: ConnId,
        seg: Segment,
        now: Instant,
    ) -> Option<Verdict> {
        if seg.is_new_conn() {
            return None;
        }
        let c = self.conns.get(id)?;
        let (method, dest_id, dport) = (c.method(), c.dest_id(), c.dport());
        let rip = c.dest_v4()?;
        let plan = self.plan_v4_to(buf, p, method, rip, dport)?;
        let d = self.st.dests.get_mut(dest_id)?;
        if !d.available {
            return None;
        }
        // Committed: from here on this is the general path's work, in its order.
        // `ip_vs_in_stats`.
        let bytes = p.ip_len() as u64;
        d.stats.count_in(bytes);
        if let Some(s) = d.slot.and_then(|(s, _)| self.st.services.get_mut(s)) {
            s.stats.count_in(bytes);
        }
        self.st.global.count_in(bytes);
        let st = &mut self.st;
        self.conns
            .packet(id, Direction::Input, seg, now, &mut |d| st.apply(d));
        Some(self.send_v4(buf, p, plan))
    }

    /// The checks of [`xmit_in`](Director::xmit_in) for an IPv4 TCP/UDP client packet
    /// towards `rip`: `Some` when it goes out without a TTL, MTU, source or headroom
    /// problem, and then [`send_v4`](Director::send_v4) does what `xmit_in` would.
    /// Changes nothing.
    #[inline(always)]
    pub(crate) fn plan_v4(
        &self,
        buf: &[u8],
        p: &Parsed,
        method: ForwardMethod,
        rip: IpAddr,
        dport: u16,
    ) -> Option<TxPlan> {
        let IpAddr::V4(rip) = rip else {
            return None;
        };
        self.plan_v4_to(buf, p, method, rip, dport)
    }

    /// [`plan_v4`](Director::plan_v4) towards an IPv4 real server.
    #[inline(always)]
    fn plan_v4_to(
        &self,
        buf: &[u8],
        p: &Parsed,
        method: ForwardMethod,
        rip: Ipv4Addr,
        dport: u16,
    ) -> Option<TxPlan> {
        // SCTP needs its CRC recomputed: the general path does that.
        if !self.fast_path || p.v6 || !matches!(p.proto, ip_proto::TCP | ip_proto::UDP) {
            return None;
        }
        if buf.get(p.l3 + 8).is_none_or(|&ttl| ttl <= 1) {
            return None;
        }
        let path = self.path(IpAddr::V4(rip));
        let len = p.ip_len();
        let mut tun_src = Ipv4Addr::UNSPECIFIED;
        match method {
            ForwardMethod::Masq | ForwardMethod::Route => {
                if len > usize::from(path.mtu) {
                    return None;
                }
            }
            ForwardMethod::Tunnel => {
                let inner = path.mtu.saturating_sub(TUN_V4_HEADER);
                if inner < MIN_MTU_V4 || len > usize::from(inner) || p.start < 20 {
                    return None;
                }
                match path.source.or(self.local_v4)? {
                    IpAddr::V4(src) => tun_src = src,
                    IpAddr::V6(_) => return None,
                }
            }
        }
        Some(TxPlan {
            method,
            rip,
            dport,
            tun_src,
        })
    }

    /// Transmit a client packet as planned by [`plan_v4`](Director::plan_v4).
    #[inline(always)]
    pub(crate) fn send_v4(&mut self, buf: &mut [u8], p: &Parsed, plan: TxPlan) -> Verdict {
        decrement_ttl_v4(buf, p.l3);
        let next_hop = IpAddr::V4(plan.rip);
        match plan.method {
            ForwardMethod::Tunnel => {
                self.ip_ident = self.ip_ident.wrapping_add(1);
                let df = self.opts.sysctls.pmtu_disc && p.df;
                let (src, rip) = (plan.tun_src.octets(), plan.rip.octets());
                match tun_encapsulate_v4(buf, p, src, rip, df, self.ip_ident) {
                    Ok((start, len)) => Verdict::Forward {
                        next_hop,
                        start,
                        len,
                    },
                    Err(r) => Verdict::Drop(r),
                }
            }
            ForwardMethod::Masq => {
                match nat_rewrite_v4(buf, p, Side::Dst, plan.rip.octets(), plan.dport) {
                    Ok(()) => forward(p, next_hop),
                    Err(r) => Verdict::Drop(r),
                }
            }
            ForwardMethod::Route => forward(p, next_hop),
        }
    }

    /// A NAT reply of connection `id`: IPv4 TCP/UDP forwarded without TTL or MTU trouble.
    /// `None` (nothing changed) for anything else.
    #[inline(always)]
    pub(crate) fn reply_v4(
        &mut self,
        buf: &mut [u8],
        p: &Parsed,
        id: ConnId,
        seg: Segment,
        now: Instant,
    ) -> Option<Verdict> {
        if !self.fast_path || p.v6 {
            return None;
        }
        if !matches!(p.proto, ip_proto::TCP | ip_proto::UDP) {
            return None;
        }
        let c = self.conns.get(id)?;
        let vip: [u8; 4] = *c.virtual_bytes().first_chunk()?;
        let vport = c.vport();
        let dest_id = c.dest_id();
        if c.is_v6()
            || buf.get(p.l3 + 8).is_none_or(|&ttl| ttl <= 1)
            || p.ip_len() > usize::from(self.default_mtu)
        {
            return None;
        }
        decrement_ttl_v4(buf, p.l3);
        if let Err(r) = nat_rewrite_v4(buf, p, Side::Src, vip, vport) {
            return Some(Verdict::Drop(r));
        }
        self.count_out(dest_id, p.ip_len() as u64);
        let st = &mut self.st;
        self.conns
            .packet(id, Direction::Output, seg, now, &mut |d| st.apply(d));
        Some(forward(p, p.dst()))
    }
}

/// The frame as received (after in-place rewrites), towards `next_hop`.
#[inline]
fn forward(p: &Parsed, next_hop: IpAddr) -> Verdict {
    Verdict::Forward {
        next_hop,
        start: p.start,
        len: p.end - p.start,
    }
}

/// [`decrement_ttl`](crate::forward::decrement_ttl) for an IPv4 header whose TTL was
/// checked to be above 1.
#[inline]
fn decrement_ttl_v4(buf: &mut [u8], l3: usize) {
    if let Some(h) = buf.get_mut(l3..).and_then(|h| h.first_chunk_mut::<12>()) {
        h[8] = h[8].wrapping_sub(1);
        // RFC 1624 for the TTL (high byte of its word) going down by one, as the kernel's
        // `ip_decrease_ttl`: add 0x0100 with end-around carry.
        let c = u32::from(u16::from_be_bytes([h[10], h[11]])) + 0x0100;
        let c = (c + u32::from(c >= 0xffff)) as u16;
        h[10..12].copy_from_slice(&c.to_be_bytes());
    }
}
