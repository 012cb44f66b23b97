//! The input path for TCP, UDP and SCTP, in `ip_vs_in` order: connection lookup (client
//! side, then NAT reply side), port reuse and dead-destination rules, then scheduling of a
//! new connection (persistence templates, thresholds, one-packet scheduling), counters,
//! state transition, and the forwarding method.

use crate::Instant;
use crate::conn::{
    ConnId, Direction, InKey, InsertError, NewConn, NewTemplate, OutKey, ReusePolicy, SctpEvent,
    Segment, TcpFlags, TemplateKey, conn_dport, template_dport,
};
use crate::forward::IcmpKind;
use crate::model::{ForwardMethod, Protocol};
use crate::sched::SchedInput;
use crate::verdict::{DropReason, Verdict};

use super::Director;
use super::packet::{Parsed, get16};
use super::xmit::Target;

/// What the state machine needs from the packet.
#[inline]
pub(crate) fn segment(buf: &[u8], p: &Parsed, proto: Protocol) -> Segment {
    match proto {
        Protocol::Tcp => Segment::Tcp(TcpFlags(p.tcp_flags)),
        Protocol::Udp => Segment::Udp,
        Protocol::Sctp => {
            // The chunk after a COOKIE ECHO / ACK matters (an ABORT bundled there wins).
            let first = p.l4 + 12;
            let second = (first + 4 <= p.end)
                .then(|| usize::from(get16(buf, first + 2)))
                .filter(|&l| l >= 4)
                .map(|l| first + ((l + 3) & !3))
                .filter(|&at| at < p.end)
                .map(|at| buf[at]);
            Segment::Sctp(SctpEvent::from_chunks(p.sctp_chunk, second))
        }
    }
}

impl Director {
    /// Process a parsed TCP / UDP / SCTP packet.
    #[inline(never)]
    pub(crate) fn input(
        &mut self,
        buf: &mut [u8],
        p: &Parsed,
        proto: Protocol,
        now: Instant,
    ) -> Verdict {
        let seg = segment(buf, p, proto);
        let key = InKey::from_raw(p.proto, p.v6, p.src_raw, p.sport, p.dst_raw, p.dport);
        let hash = self.conns.hash_in(&key);
        let mut dest_gone = false;
        if let Some(id) = self.conns.lookup_in_hashed(&key, hash) {
            if let Some(v) = self.established_v4(buf, p, id, seg, now) {
                #[cfg(test)]
                {
                    self.fast_hits += 1;
                }
                return v;
            }
            match self.existing(buf, p, id, seg, now) {
                Ok(v) => return v,
                Err(gone) => dest_gone = gone,
            }
        } else if !self.st.nat_servers.is_empty()
            && self.st.rips.may_contain(&p.src_raw)
            // A reply's key hashes as the client-side key just missed: no second hash.
            && let Some(id) = self.conns.lookup_out_hashed(&OutKey::of_packet(&key), hash)
        {
            if let Some(v) = self.reply_v4(buf, p, id, seg, now) {
                #[cfg(test)]
                {
                    self.fast_hits += 1;
                }
                return v;
            }
            return self.reply(buf, p, id, seg, now);
        }
        self.new_conn(buf, p, proto, key, seg, now, dest_gone)
    }

    /// A packet the established-flow shortcut found no connection for (either side):
    /// [`input`](Director::input) after both lookups missed.
    #[inline(never)]
    pub(crate) fn input_new(
        &mut self,
        buf: &mut [u8],
        p: &Parsed,
        proto: Protocol,
        now: Instant,
    ) -> Verdict {
        let seg = segment(buf, p, proto);
        let key = InKey::from_raw(p.proto, p.v6, p.src_raw, p.sport, p.dst_raw, p.dport);
        self.new_conn(buf, p, proto, key, seg, now, false)
    }

    /// A client packet of a known connection. `Err(dest_gone)` when the packet must be
    /// scheduled afresh instead (port reuse, or a deleted destination with
    /// expire_nodest_conn).
    #[inline(never)]
    fn existing(
        &mut self,
        buf: &mut [u8],
        p: &Parsed,
        id: ConnId,
        seg: Segment,
        now: Instant,
    ) -> Result<Verdict, bool> {
        let Some(c) = self.conns.get(id) else {
            return Err(false);
        };
        let dest_id = c.dest_id();
        let target = Target {
            method: c.method(),
            daddr: c.dest_addr().ip(),
            dport: c.dport(),
        };
        let sys = self.opts.sysctls;
        // One lookup of the destination serves the checks and the counters.
        let Some(d) = self.st.dests.get_mut(dest_id) else {
            return Err(false);
        };
        let (available, weight_zero) = (d.available, d.config.weight == 0);
        if seg.is_new_conn() || !available {
            let policy = ReusePolicy {
                conn_reuse_mode: sys.conn_reuse_mode,
                expire_nodest_conn: sys.expire_nodest_conn,
            };
            let st = &mut self.st;
            if self.conns.should_reschedule(id, seg, policy, weight_zero) {
                self.conns.expire_now(id, now, &mut |d| st.apply(d));
                return Err(false);
            }
            if !available {
                if sys.expire_nodest_conn {
                    self.conns.expire_now(id, now, &mut |d| st.apply(d));
                    return Err(true);
                }
                return Ok(Verdict::Drop(DropReason::DestinationGone));
            }
            self.count_in(dest_id, p.ip_len() as u64);
        } else {
            // `ip_vs_in_stats` (the destination is available here).
            let bytes = p.ip_len() as u64;
            d.stats.count_in(bytes);
            let slot = d.slot;
            if let Some((s, _)) = slot {
                self.st.services[s].stats.count_in(bytes);
            }
            self.st.global.count_in(bytes);
        }
        // Entries found by lookup are never one-packet ones (those are not hashed).
        Ok(self.forward_in(buf, p, id, target, seg, now, false))
    }

    /// Run the state machine and transmit a (counted) client packet of connection `id`.
    #[allow(clippy::too_many_arguments)]
    fn forward_in(
        &mut self,
        buf: &mut [u8],
        p: &Parsed,
        id: ConnId,
        target: Target,
        seg: Segment,
        now: Instant,
        one_packet: bool,
    ) -> Verdict {
        // The fast transmit's checks change nothing, so they may come before the state
        // machine, which changes nothing they read.
        let plan = self.plan_v4(buf, p, target.method, target.daddr, target.dport);
        let st = &mut self.st;
        self.conns
            .packet(id, Direction::Input, seg, now, &mut |d| st.apply(d));
        let v = match plan {
            Some(plan) => self.send_v4(buf, p, plan),
            None => self.xmit_in(buf, p, target, false),
        };
        if one_packet {
            let st = &mut self.st;
            self.conns.release(id, &mut |d| st.apply(d));
        }
        v
    }

    /// A NAT reply (real server → client) of connection `id`.
    #[inline(never)]
    fn reply(
        &mut self,
        buf: &mut [u8],
        p: &Parsed,
        id: ConnId,
        seg: Segment,
        now: Instant,
    ) -> Verdict {
        let Some(c) = self.conns.get(id) else {
            return Verdict::Drop(DropReason::NoConnection);
        };
        let vaddr = c.virtual_addr();
        let dest_id = c.dest_id();
        match self.xmit_out(buf, p, vaddr.ip(), vaddr.port()) {
            Ok(v) => {
                self.count_out(dest_id, p.ip_len() as u64);
                let st = &mut self.st;
                self.conns
                    .packet(id, Direction::Output, seg, now, &mut |d| st.apply(d));
                v
            }
            Err(v) => v,
        }
    }

    /// No connection: schedule one if the packet may create one (`*_conn_schedule`).
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn new_conn(
        &mut self,
        buf: &mut [u8],
        p: &Parsed,
        proto: Protocol,
        key: InKey,
        seg: Segment,
        now: Instant,
        dest_gone: bool,
    ) -> Verdict {
        let sys = self.opts.sysctls;
        let may_create = match seg {
            Segment::Tcp(f) => (f.syn() || sys.sloppy_tcp) && !f.rst(),
            Segment::Sctp(ev) => {
                ev != SctpEvent::Abort && (ev == SctpEvent::Init || sys.sloppy_sctp)
            }
            Segment::Udp => true,
        };
        let none = if dest_gone {
            DropReason::DestinationGone
        } else {
            DropReason::NoConnection
        };
        if !may_create {
            return Verdict::Drop(none);
        }
        let Some(slot) = self.st.service_for(p.proto, p.v6, &p.dst_raw, p.dport) else {
            if dest_gone || self.st.is_nat_server(p.proto, p.v6, &p.src_raw, p.sport) {
                return Verdict::Drop(none);
            }
            return Verdict::Drop(DropReason::NoService);
        };
        let (dest_id, control) = match self.pick_dest(slot, proto, p, now) {
            Ok(x) => x,
            Err(v) => return v.unwrap_or_else(|| self.leave(buf, p)),
        };
        let svc = &self.st.services[slot];
        let svc_key = svc.svc.config.key;
        let svc_id = svc.id;
        let one_packet = svc.svc.config.one_packet && proto == Protocol::Udp;
        let persistent = svc.svc.config.persistence.is_some();
        let Some(dest) = self.st.dests.get(dest_id) else {
            return Verdict::Drop(DropReason::NoDestination);
        };
        let dport = if persistent {
            conn_dport(&svc_key, p.dport, dest.config.port)
        } else if dest.config.port != 0 {
            dest.config.port
        } else {
            p.dport
        };
        let target = Target {
            method: dest.config.method,
            daddr: dest.config.addr,
            dport,
        };
        let nc = NewConn {
            key,
            daddr: target.daddr,
            dport,
            method: target.method,
            service: svc_id,
            dest: dest_id,
            control,
            one_packet,
            no_cport: false,
        };
        let st = &mut self.st;
        let id = match self.conns.insert(&nc, now, &mut |d| st.apply(d)) {
            Ok(id) | Err(InsertError::Exists(id)) => id,
            Err(_) => return Verdict::Drop(DropReason::TableFull),
        };
        self.count_new(dest_id, p.ip_len() as u64);
        self.forward_in(buf, p, id, target, seg, now, one_packet)
    }

    /// Choose the destination for a new connection: through a persistence template when the
    /// service is persistent, else the scheduler. `Err(None)`: no destination available.
    fn pick_dest(
        &mut self,
        slot: usize,
        proto: Protocol,
        p: &Parsed,
        now: Instant,
    ) -> Result<(u32, Option<ConnId>), Option<Verdict>> {
        let input = SchedInput {
            protocol: proto,
            src: p.src(),
            sport: p.sport,
            dst: p.dst(),
            dport: p.dport,
        };
        let svc = &mut self.st.services[slot];
        let Some(pers) = svc.svc.config.persistence else {
            let i = svc.sched.schedule(&svc.views, &input, now).ok_or(None)?;
            return Ok((svc.views.get(i).ok_or(None)?.id, None));
        };
        let svc_key = svc.svc.config.key;
        let tk = TemplateKey::new(&svc_key, pers.netmask, proto, p.src(), p.dport);
        let quiescent_invalid = self.opts.sysctls.expire_quiescent_template;
        let dests = &self.st.dests;
        let valid = |id: u32| {
            dests
                .get(id)
                .is_some_and(|d| d.available && !(quiescent_invalid && d.config.weight == 0))
        };
        if let Some(t) = self.conns.template_lookup(&tk, now, valid)
            && let Some(c) = self.conns.get(t)
        {
            return Ok((c.dest_id(), Some(t)));
        }
        let svc = &mut self.st.services[slot];
        let i = svc.sched.schedule(&svc.views, &input, now).ok_or(None)?;
        let view = *svc.views.get(i).ok_or(None)?;
        let svc_id = svc.id;
        let method = self
            .st
            .dests
            .get(view.id)
            .map_or(ForwardMethod::Route, |d| d.config.method);
        let nt = NewTemplate {
            key: tk,
            daddr: view.addr,
            dport: template_dport(&svc_key, p.dport, view.port),
            method,
            service: svc_id,
            dest: view.id,
            timeout_secs: pers.timeout,
        };
        let st = &mut self.st;
        match self.conns.insert_template(&nt, now, &mut |d| st.apply(d)) {
            Ok(t) => Ok((view.id, Some(t))),
            Err(_) => Err(Some(Verdict::Drop(DropReason::TableFull))),
        }
    }

    /// `ip_vs_leave`: the service has no usable destination. The client gets an ICMP port
    /// unreachable (for TCP too), and the packet is dropped.
    fn leave(&mut self, buf: &mut [u8], p: &Parsed) -> Verdict {
        let kind = Some(IcmpKind::PortUnreachable);
        self.refuse(buf, p, kind, DropReason::NoDestination, p.dst(), p.src())
    }

    /// `ip_vs_conn_stats` then `ip_vs_in_stats` for the first packet of a new connection:
    /// one more connection for the destination, its service and the total, and the packet
    /// (counted only while the destination is available).
    fn count_new(&mut self, dest_id: u32, bytes: u64) {
        if let Some(d) = self.st.dests.get_mut(dest_id) {
            let available = d.available;
            d.stats.count_conn();
            if available {
                d.stats.count_in(bytes);
            }
            if let Some(s) = d.slot.and_then(|(s, _)| self.st.services.get_mut(s)) {
                s.stats.count_conn();
                if available {
                    s.stats.count_in(bytes);
                }
            }
            self.st.global.count_conn();
            if available {
                self.st.global.count_in(bytes);
            }
        }
    }

    /// `ip_vs_in_stats`: counted only while the destination is available.
    #[inline]
    pub(crate) fn count_in(&mut self, dest_id: u32, bytes: u64) {
        if let Some(d) = self.st.dests.get_mut(dest_id)
            && d.available
        {
            d.stats.count_in(bytes);
            if let Some((s, _)) = d.slot {
                self.st.services[s].stats.count_in(bytes);
            }
            self.st.global.count_in(bytes);
        }
    }

    /// `ip_vs_out_stats`.
    #[inline]
    pub(crate) fn count_out(&mut self, dest_id: u32, bytes: u64) {
        if let Some(d) = self.st.dests.get_mut(dest_id)
            && d.available
        {
            d.stats.count_out(bytes);
            if let Some((s, _)) = d.slot {
                self.st.services[s].stats.count_out(bytes);
            }
            self.st.global.count_out(bytes);
        }
    }
}
