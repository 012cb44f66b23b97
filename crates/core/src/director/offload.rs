//! Offload descriptions for an XDP fast path: what the director would do with the next
//! packets of a flow it has just forwarded, as a fixed rewrite a BPF program can apply.
//!
//! The driver asks [`Director::offload`] after a packet was forwarded, with the packet's
//! tuple as received. The answer says how to forward further packets of the same direction
//! (MACs aside, which the driver knows from its next-hop cache) while the connection stays
//! in a state where the core's state machine has nothing to learn from them: TCP
//! ESTABLISHED without SYN/FIN/RST, or a UDP flow. Anything else (templates, one-packet
//! entries, SCTP, tunnels, a deleted destination, other states) gets `None`.
//!
//! The driver then reports what the fast path forwarded with [`Director::offload_refresh`]
//! (every tick): the packets are counted as the core would have counted them, the
//! connection's timer is re-armed from the last packet seen, and `false` tells the driver
//! to remove the entry (the connection expired, was evicted or flushed, or left the
//! offloadable states). [`Director::offload_generation`] changes whenever the rules behind
//! an offload may have changed (configuration, sysctls, paths, MTU, local addresses); the
//! driver then drops every entry and lets the next packets through the core again.

use core::net::IpAddr;

use crate::Instant;
use crate::conn::{
    Conn, ConnId, ConnState, Direction, FlowRecord, InKey, OutKey, Segment, TcpFlags, TcpState,
};
use crate::model::{ForwardMethod, Protocol};

use super::Director;

/// The rewrite the fast path applies besides the TTL / hop limit and the MACs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffloadRewrite {
    /// Direct routing: no change.
    None,
    /// NAT, client → real server: destination address and port.
    Dst {
        /// The real server's address.
        addr: IpAddr,
        /// The real server's port.
        port: u16,
    },
    /// NAT, real server → client: source address and port.
    Src {
        /// The virtual address.
        addr: IpAddr,
        /// The virtual port.
        port: u16,
    },
}

/// How further packets of one direction of a connection may be forwarded without the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offload {
    /// The connection (valid while [`Director::offload_refresh`] returns true).
    pub conn: ConnId,
    /// The direction of the packets this covers.
    pub direction: Direction,
    /// The connection as a fixed record (ids, addresses, method).
    pub record: FlowRecord,
    /// The rewrite.
    pub rewrite: OffloadRewrite,
    /// Where the packets go (the driver resolves its MAC).
    pub next_hop: IpAddr,
    /// Largest IP packet the fast path may send; bigger ones need the core (ICMP errors).
    pub mtu: u16,
    /// Client packets the connection has carried so far (a driver may wait for a few before
    /// offloading, so that short connections do not pay for installing and removing).
    pub in_packets: u32,
    /// The client key of the connection, to find it again.
    key: InKey,
    /// The reply key (NAT replies).
    out_key: Option<OutKey>,
}

impl Director {
    /// How further packets like the one just forwarded (`proto`, `src:sport` →
    /// `dst:dport` as received) may be forwarded by a fast path; `None` when they must keep
    /// going through [`Director::process`].
    pub fn offload(
        &self,
        proto: u8,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
    ) -> Option<Offload> {
        let protocol = match Protocol::from_number(proto)? {
            p @ (Protocol::Tcp | Protocol::Udp) => p,
            Protocol::Sctp => return None,
        };
        if src.is_ipv6() != dst.is_ipv6() {
            return None;
        }
        let key = InKey::new(protocol, src, sport, dst, dport);
        if let Some(id) = self.conns.lookup_in(&key) {
            let c = self.conns.get(id)?;
            if !offloadable(&c) {
                return None;
            }
            let d = self.st.dests.get(c.dest_id())?;
            if !d.available {
                return None;
            }
            let rip = c.dest_addr().ip();
            let rewrite = match c.method() {
                ForwardMethod::Route => OffloadRewrite::None,
                ForwardMethod::Masq if rip.is_ipv6() == src.is_ipv6() => OffloadRewrite::Dst {
                    addr: rip,
                    port: c.dport(),
                },
                _ => return None,
            };
            return Some(Offload {
                conn: id,
                direction: Direction::Input,
                record: FlowRecord::of(&c),
                rewrite,
                next_hop: rip,
                mtu: self.path(rip).mtu,
                in_packets: c.in_pkts(),
                key,
                out_key: None,
            });
        }
        if self.st.nat_servers.is_empty() {
            return None;
        }
        let out_key = OutKey::new(protocol, src, sport, dst, dport);
        let id = self.conns.lookup_out(&out_key)?;
        let c = self.conns.get(id)?;
        if !offloadable(&c) || c.method() != ForwardMethod::Masq || c.is_v6() != src.is_ipv6() {
            return None;
        }
        let v = c.virtual_addr();
        Some(Offload {
            conn: id,
            direction: Direction::Output,
            record: FlowRecord::of(&c),
            rewrite: OffloadRewrite::Src {
                addr: v.ip(),
                port: v.port(),
            },
            next_hop: dst,
            mtu: self.default_mtu,
            in_packets: c.in_pkts(),
            key: InKey::new(protocol, c.client().ip(), c.cport(), v.ip(), v.port()),
            out_key: Some(out_key),
        })
    }

    /// Account for `packets` packets of `bytes` IP bytes the fast path forwarded for `o`
    /// (the last at `last_seen`), as [`Director::process`] would have: per-destination,
    /// per-service and global counters, and the connection's timer re-armed from the last
    /// packet. Returns whether the offload still holds; `false`: remove it (the packets are
    /// counted all the same).
    pub fn offload_refresh(
        &mut self,
        o: &Offload,
        packets: u64,
        bytes: u64,
        last_seen: Instant,
        now: Instant,
    ) -> bool {
        if packets > 0 {
            self.credit(o.record.dest, o.direction, packets, bytes);
        }
        let found = match o.out_key {
            None => self.conns.lookup_in(&o.key),
            Some(k) => self.conns.lookup_out(&k),
        };
        if found != Some(o.conn) {
            return false;
        }
        let Some(c) = self.conns.get(o.conn) else {
            return false;
        };
        if !offloadable(&c) || c.dest_id() != o.record.dest {
            return false;
        }
        if o.direction == Direction::Input
            && !self
                .st
                .dests
                .get(o.record.dest)
                .is_some_and(|d| d.available)
        {
            return false;
        }
        if packets > 0 {
            // Re-arm as a packet at `last_seen` would, unless a packet the core saw later
            // already armed the timer further.
            let armed = now.as_millis() + c.expires_in_ms(now);
            let wanted = last_seen.as_millis() + u64::from(c.timeout_ms());
            if wanted > armed {
                let seg = match c.state() {
                    ConnState::Tcp(_) => Segment::Tcp(TcpFlags(TCP_ACK)),
                    _ => Segment::Udp,
                };
                let st = &mut self.st;
                self.conns
                    .on_packet(o.conn, o.direction, seg, last_seen, &mut |d| st.apply(d));
            }
        }
        true
    }

    /// Changes whenever an offload handed out earlier may no longer be what
    /// [`Director::process`] would do (configuration, sysctls, paths, MTU, addresses).
    pub fn offload_generation(&self) -> u64 {
        self.offload_gen
    }

    /// `ip_vs_in_stats` / `ip_vs_out_stats` for many packets at once.
    fn credit(&mut self, dest_id: u32, dir: Direction, packets: u64, bytes: u64) {
        let Some(d) = self.st.dests.get_mut(dest_id) else {
            return;
        };
        if !d.available {
            return;
        }
        let add = |s: &mut crate::stats::Stats| match dir {
            Direction::Input => {
                s.raw.inpkts += packets;
                s.raw.inbytes += bytes;
            }
            Direction::Output => {
                s.raw.outpkts += packets;
                s.raw.outbytes += bytes;
            }
        };
        add(&mut d.stats);
        if let Some((s, _)) = d.slot
            && let Some(svc) = self.st.services.get_mut(s)
        {
            add(&mut svc.stats);
        }
        add(&mut self.st.global);
    }
}

/// The TCP ACK bit.
const TCP_ACK: u8 = 0x10;

/// Whether the core has nothing to learn from the connection's next SYN/FIN/RST-free packets.
fn offloadable(c: &Conn<'_>) -> bool {
    if c.is_template() || c.is_one_packet() {
        return false;
    }
    matches!(
        c.state(),
        ConnState::Tcp(TcpState::Established) | ConnState::Udp
    )
}
