//! ICMP errors about tracked connections (`ip_vs_in_icmp`, `ip_vs_out_icmp`).
//!
//! * From the client side, about a reply the real server sent (quoted VIP:VPORT →
//!   CIP:CPORT): NAT rewrites it towards the real server; DR and TUN forward it with the
//!   connection's method.
//! * From a NAT real server, about a client packet (quoted CIP:CPORT → RIP:RPORT): rewritten
//!   to come from the VIP and sent to the client.
//! * About an IP-in-IP packet this director sent to a TUN real server (IPv4): a new error of
//!   the same type goes to the client, quoting the client's own packet.

use crate::Instant;
use crate::conn::{InKey, OutKey};
use crate::forward::{
    IcmpError, Side, check_mtu, decrement_ttl, icmp_nat_rewrite, parse_icmp_error,
    relay_tunnel_error, tunnel_quote,
};
use crate::model::{ForwardMethod, Protocol};
use crate::verdict::{DropReason, Verdict};

use super::Director;
use super::packet::Parsed;
use super::xmit::Target;

impl Director {
    /// Process a parsed ICMP / ICMPv6 message.
    pub(crate) fn icmp(&mut self, buf: &mut [u8], p: &Parsed, now: Instant) -> Verdict {
        let _ = now;
        let e = match parse_icmp_error(buf, p) {
            Ok(e) => e,
            Err(r) => return Verdict::Drop(r),
        };
        let Some(proto) = Protocol::from_number(e.emb_proto) else {
            return self.icmp_tunnel(buf, p, &e);
        };
        let bytes = p.ip_len() as u64;
        // The quoted packet went server → client: find its connection as if it came in.
        if let Some(id) = self.conns.lookup_in(&InKey::new(
            proto,
            e.emb_dst,
            e.emb_dport,
            e.emb_src,
            e.emb_sport,
        )) && let Some(c) = self.conns.get(id)
        {
            let dest_id = c.dest_id();
            let t = Target {
                method: c.method(),
                daddr: c.dest_addr().ip(),
                dport: c.dport(),
            };
            self.count_in(dest_id, bytes);
            if t.method != ForwardMethod::Masq {
                return self.xmit_in(buf, p, t, true);
            }
            // An expiring ICMP error is dropped unanswered (`icmp_send` never answers one).
            if let Err(r) = decrement_ttl(buf, p) {
                return Verdict::Drop(r);
            }
            if check_mtu(p, self.path(t.daddr).mtu, true).is_err() {
                return Verdict::Drop(DropReason::TooBig);
            }
            return match icmp_nat_rewrite(buf, p, &e, Side::Dst, t.daddr, t.dport) {
                Ok(()) => Verdict::Forward {
                    next_hop: t.daddr,
                    start: p.start,
                    len: p.end - p.start,
                },
                Err(r) => Verdict::Drop(r),
            };
        }
        // A NAT real server's error about a client packet it received from us.
        if let Some(id) = self.conns.lookup_out(&OutKey::new(
            proto,
            e.emb_dst,
            e.emb_dport,
            e.emb_src,
            e.emb_sport,
        )) && let Some(c) = self.conns.get(id)
        {
            let dest_id = c.dest_id();
            let vaddr = c.virtual_addr();
            if let Err(r) = decrement_ttl(buf, p) {
                return Verdict::Drop(r);
            }
            if check_mtu(p, self.default_mtu, true).is_err() {
                return Verdict::Drop(DropReason::TooBig);
            }
            return match icmp_nat_rewrite(buf, p, &e, Side::Src, vaddr.ip(), vaddr.port()) {
                Ok(()) => {
                    self.count_out(dest_id, bytes);
                    Verdict::Forward {
                        next_hop: p.dst(),
                        start: p.start,
                        len: p.end - p.start,
                    }
                }
                Err(r) => Verdict::Drop(r),
            };
        }
        Verdict::Drop(DropReason::IcmpUnrelated)
    }

    /// An error about an IP-in-IP packet: relay it to the client of the tunnelled connection.
    fn icmp_tunnel(&mut self, buf: &mut [u8], p: &Parsed, e: &IcmpError) -> Verdict {
        let Some(q) = tunnel_quote(buf, p, e) else {
            return Verdict::Drop(DropReason::IcmpUnrelated);
        };
        let Some(proto) = Protocol::from_number(q.proto) else {
            return Verdict::Drop(DropReason::IcmpUnrelated);
        };
        let Some(id) = self
            .conns
            .lookup_in(&InKey::new(proto, q.src, q.sport, q.dst, q.dport))
        else {
            return Verdict::Drop(DropReason::IcmpUnrelated);
        };
        let Some(c) = self.conns.get(id) else {
            return Verdict::Drop(DropReason::IcmpUnrelated);
        };
        if c.method() != ForwardMethod::Tunnel || c.dest_addr().ip() != e.emb_dst {
            return Verdict::Drop(DropReason::IcmpUnrelated);
        }
        let dest_id = c.dest_id();
        match relay_tunnel_error(buf, p, e, &q) {
            Ok((start, len)) => {
                self.count_out(dest_id, (len - p.l2_len()) as u64);
                self.icmp_sent += 1;
                Verdict::Forward {
                    next_hop: q.src,
                    start,
                    len,
                }
            }
            Err(r) => Verdict::Drop(r),
        }
    }
}
