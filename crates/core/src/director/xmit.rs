//! Sending a packet of a connection with its forwarding method: the routing step (TTL,
//! path MTU) then the NAT / DR / TUN rewrite, as `ip_vs_xmit.c` does.
//!
//! A packet refused by the routing step may be answered with an ICMP error, as the kernel
//! does: time exceeded when its TTL / hop limit would expire here (`decrement_ttl` for the
//! three methods, `ip_forward` / `ip6_forward` for NAT replies), fragmentation needed /
//! packet too big when it does not fit its path. The packet itself is dropped and counted
//! under its reason either way; an ICMP error is never answered with another.

use core::net::IpAddr;

use crate::forward::{
    self, IcmpKind, MtuAction, Side, TunParams, build_error, check_mtu, decrement_ttl, dr_forward,
    nat_rewrite, tun_encapsulate, tun_outer_len,
};
use crate::model::ForwardMethod;
use crate::verdict::{DropReason, Verdict};

use super::Director;
use super::packet::Parsed;

/// Where a client packet goes: the connection's destination.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    /// Forwarding method.
    pub method: ForwardMethod,
    /// RIP.
    pub daddr: IpAddr,
    /// Real server port (NAT).
    pub dport: u16,
}

impl Director {
    /// Transmit a client → real server packet (`is_icmp_error`: an ICMP error about the
    /// connection, which never triggers another ICMP error).
    pub(crate) fn xmit_in(
        &mut self,
        buf: &mut [u8],
        p: &Parsed,
        t: Target,
        is_icmp_error: bool,
    ) -> Verdict {
        if let Err(r) = decrement_ttl(buf, p) {
            // `decrement_ttl` answers from the address the packet was sent to (the VIP: the
            // input route is local, so `icmp_send` takes the destination as source).
            if is_icmp_error {
                return Verdict::Drop(r);
            }
            return self.refuse(buf, p, Some(IcmpKind::TimeExceeded), r, p.dst(), p.src());
        }
        let path = self.path(t.daddr);
        match t.method {
            ForwardMethod::Masq | ForwardMethod::Route => {
                if let Err(a) = check_mtu(p, path.mtu, is_icmp_error) {
                    return self.too_big(buf, p, a);
                }
                if t.method == ForwardMethod::Route {
                    return dr_forward(p, t.daddr);
                }
                match nat_rewrite(buf, p, Side::Dst, t.daddr, t.dport) {
                    Ok(()) => Verdict::Forward {
                        next_hop: t.daddr,
                        start: p.start,
                        len: p.end - p.start,
                    },
                    Err(r) => Verdict::Drop(r),
                }
            }
            ForwardMethod::Tunnel => {
                let olen = tun_outer_len(t.daddr) as u16;
                let min = if t.daddr.is_ipv6() { 1280 } else { 68 };
                let mtu = path.mtu.saturating_sub(olen);
                if mtu < min {
                    return Verdict::Drop(DropReason::TooBig);
                }
                let pmtu_disc = self.opts.sysctls.pmtu_disc;
                if let Err(a) = check_mtu(p, mtu, is_icmp_error) {
                    // Without pmtu_disc IPVS lets the outer packet be fragmented; we cannot.
                    let a = if !pmtu_disc && !p.v6 {
                        MtuAction::Drop
                    } else {
                        a
                    };
                    return self.too_big(buf, p, a);
                }
                let Some(src) = path.source.or_else(|| self.local_for(t.daddr)) else {
                    return Verdict::Drop(DropReason::NoSourceAddress);
                };
                self.ip_ident = self.ip_ident.wrapping_add(1);
                let params = TunParams {
                    src,
                    rip: t.daddr,
                    df: pmtu_disc && p.df,
                    ident: self.ip_ident,
                };
                match tun_encapsulate(buf, p, &params) {
                    Ok((start, len)) => Verdict::Forward {
                        next_hop: t.daddr,
                        start,
                        len,
                    },
                    Err(r) => Verdict::Drop(r),
                }
            }
        }
    }

    /// Transmit a NAT reply (real server → client) after the source rewrite to `vip:vport`.
    /// The routing step comes first, as `ip_forward` runs before IPVS's FORWARD hook: a
    /// reply it refuses (`Err`: dropped, perhaps answered with an ICMP error) never reaches
    /// IPVS, so the caller neither counts it nor runs the state machine.
    pub(crate) fn xmit_out(
        &mut self,
        buf: &mut [u8],
        p: &Parsed,
        vip: IpAddr,
        vport: u16,
    ) -> Result<Verdict, Verdict> {
        // `ip_forward` answers the real server from the director's own address (the reply
        // is not addressed to the director), quoting the reply as received.
        if let Err(r) = decrement_ttl(buf, p) {
            let Some(src) = self.local_for(p.src()) else {
                return Err(Verdict::Drop(r));
            };
            return Err(self.refuse(buf, p, Some(IcmpKind::TimeExceeded), r, src, p.src()));
        }
        if let Err(a) = check_mtu(p, self.default_mtu, false) {
            let Some(src) = self.local_for(p.src()) else {
                return Err(Verdict::Drop(DropReason::TooBig));
            };
            return Err(self.refuse(buf, p, a.icmp(), DropReason::TooBig, src, p.src()));
        }
        match nat_rewrite(buf, p, Side::Src, vip, vport) {
            Ok(()) => Ok(Verdict::Forward {
                next_hop: p.dst(),
                start: p.start,
                len: p.end - p.start,
            }),
            Err(r) => Err(Verdict::Drop(r)),
        }
    }

    /// A packet too big for its path: an ICMP error to the client from the VIP (the address
    /// the client sent to, as `icmp_send` picks it), or a drop.
    fn too_big(&mut self, buf: &mut [u8], p: &Parsed, a: MtuAction) -> Verdict {
        self.refuse(buf, p, a.icmp(), DropReason::TooBig, p.dst(), p.src())
    }

    /// Drop packet `p` for `reason`, answering its sender with `kind` from `src` to `dst`
    /// when there is one and room to build it. The offending packet is counted as dropped
    /// here when a frame goes out instead (`process` counts the plain drops).
    pub(crate) fn refuse(
        &mut self,
        buf: &mut [u8],
        p: &Parsed,
        kind: Option<IcmpKind>,
        reason: DropReason,
        src: IpAddr,
        dst: IpAddr,
    ) -> Verdict {
        if let Some(kind) = kind
            && let Some(v) = self.send_icmp(buf, p, kind, src, dst)
        {
            self.drops.count(reason);
            return v;
        }
        Verdict::Drop(reason)
    }

    /// Build an ICMP error quoting `p` in front of it; `None` without headroom. The caller
    /// counts the drop of the original packet.
    pub(crate) fn send_icmp(
        &mut self,
        buf: &mut [u8],
        p: &Parsed,
        kind: IcmpKind,
        src: IpAddr,
        dst: IpAddr,
    ) -> Option<Verdict> {
        let (start, len) = build_error(buf, p.start, p.l3, p.l3, p.end, src, dst, kind).ok()?;
        self.icmp_sent += 1;
        Some(Verdict::Forward {
            next_hop: dst,
            start,
            len,
        })
    }

    /// Route information towards `rip`.
    #[inline]
    pub(crate) fn path(&self, rip: IpAddr) -> forward::PathInfo {
        let default = forward::PathInfo {
            source: None,
            mtu: self.default_mtu,
        };
        if self.paths.is_empty() {
            return default;
        }
        self.paths.get(&rip).copied().unwrap_or(default)
    }

    /// The director's address of `peer`'s family.
    pub(crate) fn local_for(&self, peer: IpAddr) -> Option<IpAddr> {
        if peer.is_ipv6() {
            self.local_v6
        } else {
            self.local_v4
        }
    }
}
