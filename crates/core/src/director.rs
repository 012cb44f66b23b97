//! The per-worker director: one entry point turning a frame and `now` into a verdict.
//!
//! One [`Director`] per worker thread. The driver:
//!
//! 1. creates it with [`Director::new`] and gives it the configuration with
//!    [`Director::set_snapshot`] (again after every change: schedulers of unchanged services
//!    keep their state, live connections keep their destinations by id);
//! 2. tells it its own addresses and paths: [`Director::set_local_address`] (source of tunnel
//!    headers and of ICMP errors sent to real servers), [`Director::set_path`] (per real
//!    server: route source and egress MTU), [`Director::set_default_mtu`];
//! 3. calls [`Director::process`] for every received frame and acts on the [`Verdict`];
//! 4. calls [`Director::tick`] regularly (every 100 ms or so): connection expiry and the
//!    2-second rate estimator;
//! 5. reads statistics ([`Director::service_stats`], [`Director::dest_stats`],
//!    [`Director::dest_conns`], [`Director::global_stats`], [`Director::drops`]) and merges
//!    them across workers.
//!
//! Per-worker semantics: connection counts, the OVERLOAD flag of `-x`/`-y` thresholds and
//! scheduler state are each worker's own (as with one IPVS instance per queue); with one
//! queue per link one worker sees a whole NAT flow. Counters are merged on read.
//!
//! `process` follows `ip_vs_in`: parse (fragments dropped), connection lookup (client
//! direction, then reply direction for NAT), else service lookup and scheduling (only for
//! packets that may start a connection), persistence templates, thresholds, state
//! transition, counters, then the forwarding method's rewrite.
//!
//! Cost: the common frame (untagged IPv4, TCP or UDP, no options) is parsed at fixed
//! offsets, and a packet of an established connection takes a fast path (`fast.rs`) that
//! does the general path's work without its generality; everything else, and every packet
//! the fast path has any doubt about, goes the general way with the same result (a
//! differential test holds the two together). Destinations are found by id through a
//! vector, services through an open-addressing index, and a bitmap of real-server
//! addresses spares new connections the NAT reply lookup.

mod dests;
mod fast;
#[cfg(test)]
mod fast_tests;
mod icmp;
mod input;
mod offload;
pub(crate) mod packet;
mod rip_filter;
pub mod sample;
mod state;
mod svc_index;
mod xmit;

use core::net::IpAddr;
use std::collections::HashMap;
use std::sync::Arc;

use crate::Instant;
use crate::config::Snapshot;
use crate::conn::{Conn, ConnTable, ConnTableConfig, TableStats};
use crate::forward::{DEFAULT_MTU, PathInfo};
use crate::model::{Family, Protocol};
use crate::stats::{DropCounters, EstimatorClock, StatsReading};
use crate::verdict::Verdict;

use fast::Shortcut;
use state::DirState;

pub use offload::{Offload, OffloadRewrite};

/// IPVS sysctls that change the director's behaviour (reference §3.11); defaults as the
/// kernel's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sysctls {
    /// Expire a connection whose destination was deleted when its next packet arrives
    /// (`expire_nodest_conn`, default 0).
    pub expire_nodest_conn: bool,
    /// Treat persistence templates of weight-0 destinations as invalid
    /// (`expire_quiescent_template`, default 0).
    pub expire_quiescent_template: bool,
    /// Create TCP connections from any packet, not only SYN (`sloppy_tcp`, default 0).
    pub sloppy_tcp: bool,
    /// Create SCTP associations from any packet, not only INIT (`sloppy_sctp`, default 0).
    pub sloppy_sctp: bool,
    /// Honour DF for tunnelled packets (`pmtu_disc`, default 1).
    pub pmtu_disc: bool,
    /// Reschedule a SYN that hits an old connection in TIME_WAIT (bit 0) or FIN_WAIT without
    /// output (bit 1) (`conn_reuse_mode`, default 1).
    pub conn_reuse_mode: u8,
}

impl Default for Sysctls {
    fn default() -> Self {
        Sysctls {
            expire_nodest_conn: false,
            expire_quiescent_template: false,
            sloppy_tcp: false,
            sloppy_sctp: false,
            pmtu_disc: true,
            conn_reuse_mode: 1,
        }
    }
}

/// How to build a [`Director`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectorOptions {
    /// Seed for schedulers that draw random numbers (make it differ per worker).
    pub seed: u64,
    /// Most connection entries (connections and templates) this worker holds.
    pub max_conns: usize,
    /// Behaviour switches.
    pub sysctls: Sysctls,
}

impl Default for DirectorOptions {
    fn default() -> Self {
        DirectorOptions {
            seed: 0,
            max_conns: 1 << 20,
            sysctls: Sysctls::default(),
        }
    }
}

/// Active, inactive and persistent (template) connections of one destination on one worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DestConns {
    /// ActiveConn.
    pub active: u32,
    /// InActConn.
    pub inactive: u32,
    /// PersistConn (templates bound to the destination).
    pub persistent: u32,
}

impl DestConns {
    /// Add another worker's numbers.
    pub fn merge(&mut self, other: &DestConns) {
        self.active += other.active;
        self.inactive += other.inactive;
        self.persistent += other.persistent;
    }
}

/// The per-worker director.
#[derive(Debug)]
pub struct Director {
    opts: DirectorOptions,
    snapshot: Arc<Snapshot>,
    conns: ConnTable,
    st: DirState,
    local_v4: Option<IpAddr>,
    local_v6: Option<IpAddr>,
    default_mtu: u16,
    paths: HashMap<IpAddr, PathInfo, foldhash::fast::RandomState>,
    drops: DropCounters,
    est_clock: EstimatorClock,
    ip_ident: u16,
    icmp_sent: u64,
    /// Bumped whenever offloads handed out may be stale (see [`Director::offload`]).
    offload_gen: u64,
    /// Take the fast path for established IPv4 flows (off only in the differential tests).
    fast_path: bool,
    /// Packets the fast path handled.
    #[cfg(test)]
    fast_hits: u64,
}

impl Director {
    /// A director with no services (every packet is dropped with `NoService` until a
    /// snapshot is set).
    pub fn new(opts: DirectorOptions) -> Self {
        let table = ConnTableConfig {
            max_conns: u32::try_from(opts.max_conns).unwrap_or(u32::MAX),
            seed: opts.seed,
            ..ConnTableConfig::default()
        };
        Director {
            opts,
            snapshot: Arc::new(Snapshot::default()),
            conns: ConnTable::new(table),
            st: DirState::default(),
            local_v4: None,
            local_v6: None,
            default_mtu: DEFAULT_MTU,
            paths: HashMap::default(),
            drops: DropCounters::default(),
            est_clock: EstimatorClock::default(),
            ip_ident: (opts.seed as u16) ^ 0x5a5a,
            icmp_sent: 0,
            offload_gen: 0,
            fast_path: true,
            #[cfg(test)]
            fast_hits: 0,
        }
    }

    /// The options the director was built with.
    pub fn options(&self) -> &DirectorOptions {
        &self.opts
    }

    /// Change the sysctls.
    pub fn set_sysctls(&mut self, s: Sysctls) {
        self.offload_gen += 1;
        self.opts.sysctls = s;
    }

    /// Apply a new configuration snapshot: schedulers of services whose scheduler and
    /// destinations did not change keep their state; counters and connections follow
    /// services and destinations by id; a deleted destination's connections are flushed
    /// when `expire_nodest_conn` is set, else they live on and their packets are dropped.
    pub fn set_snapshot(&mut self, snapshot: Arc<Snapshot>) {
        self.offload_gen += 1;
        if snapshot.timeouts != self.snapshot.timeouts {
            self.conns.set_timeouts(snapshot.timeouts);
        }
        let deleted = self.st.apply_snapshot(&snapshot, self.opts.seed);
        if self.opts.sysctls.expire_nodest_conn {
            let st = &mut self.st;
            for id in deleted {
                self.conns.expire_dest(id, &mut |d| st.apply(d));
            }
        }
        self.st.reap_dests();
        self.snapshot = snapshot;
    }

    /// The snapshot in force.
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
    }

    /// The director's own address of `addr`'s family: source of tunnel headers when no
    /// per-real-server source is known, and of ICMP errors sent towards real servers.
    pub fn set_local_address(&mut self, addr: IpAddr) {
        self.offload_gen += 1;
        match addr {
            IpAddr::V4(_) => self.local_v4 = Some(addr),
            IpAddr::V6(_) => self.local_v6 = Some(addr),
        }
    }

    /// The director's own address of a family, if set.
    pub fn local_address(&self, family: Family) -> Option<IpAddr> {
        match family {
            Family::Inet => self.local_v4,
            Family::Inet6 => self.local_v6,
        }
    }

    /// What the driver learnt about the route to real server `rip` (source, MTU).
    pub fn set_path(&mut self, rip: IpAddr, path: PathInfo) {
        self.offload_gen += 1;
        self.paths.insert(rip, path);
    }

    /// Forget the route information of `rip`.
    pub fn clear_path(&mut self, rip: IpAddr) {
        self.offload_gen += 1;
        self.paths.remove(&rip);
    }

    /// The MTU of paths without [`PathInfo`] (default 1500); also the MTU towards clients.
    pub fn set_default_mtu(&mut self, mtu: u16) {
        self.offload_gen += 1;
        self.default_mtu = mtu;
    }

    /// Process one received frame `buf[start..start + len]` (Ethernet, at most two VLAN
    /// tags); `buf[..start]` is headroom the director may use to prepend headers (TUN needs
    /// 40 bytes; ICMP errors up to 48). Never panics, whatever the bytes.
    ///
    /// On `Forward` the frame at `start..start + len` keeps the received layer-2 header
    /// (MACs for the driver to set; ethertype adjusted when a tunnel header of another
    /// family was added). Every `Drop` is counted in [`Director::drops`]; so is the packet
    /// behind a locally generated ICMP error (`TooBig`, `NoDestination`, `TtlExceeded`),
    /// although a frame then goes out.
    pub fn process(&mut self, buf: &mut [u8], start: usize, len: usize, now: Instant) -> Verdict {
        // The common frame (untagged IPv4 TCP/UDP) goes straight in; the rest through the
        // general parser.
        let v = match packet::parse_common(buf, start, len) {
            Some(p) => match self.shortcut_v4(buf, &p, now) {
                Shortcut::Done(v) => v,
                Shortcut::NoConnection => self.process_common(buf, start, len, now, true),
                Shortcut::Declined => self.process_common(buf, start, len, now, false),
            },
            None => self.process_any(buf, start, len, now),
        };
        if let Verdict::Drop(r) = v {
            self.drops.count(r);
        }
        v
    }

    /// [`Director::process`] of a common frame the established-flow shortcut declined (it
    /// changed nothing; `no_connection`: it found that no connection matches either side).
    /// The frame is parsed again: that costs the rare packets that get
    /// here (new connections, state changes) a few instructions, and spares every other
    /// packet keeping its parse in memory for this call.
    #[inline(never)]
    fn process_common(
        &mut self,
        buf: &mut [u8],
        start: usize,
        len: usize,
        now: Instant,
        no_connection: bool,
    ) -> Verdict {
        let Some(p) = packet::parse_common(buf, start, len) else {
            return self.process_any(buf, start, len, now);
        };
        let proto = if p.proto == 6 {
            Protocol::Tcp
        } else {
            Protocol::Udp
        };
        if no_connection {
            self.input_new(buf, &p, proto, now)
        } else {
            self.input(buf, &p, proto, now)
        }
    }

    /// [`Director::process`] of a frame the common-case parser left to the general one.
    #[inline(never)]
    fn process_any(&mut self, buf: &mut [u8], start: usize, len: usize, now: Instant) -> Verdict {
        match packet::parse_any(buf, start, len) {
            Ok(p) => match Protocol::from_number(p.proto) {
                Some(proto) => self.input(buf, &p, proto, now),
                None => self.icmp(buf, &p, now),
            },
            Err(r) => Verdict::Drop(r),
        }
    }

    /// Expire connections whose time has come and run the rate estimator (one step per
    /// 2 s of `now`). Call it every 100 ms or so.
    pub fn tick(&mut self, now: Instant) {
        let st = &mut self.st;
        self.conns.expire(now, &mut |d| st.apply(d));
        for _ in 0..self.est_clock.due(now) {
            for s in &mut self.st.services {
                s.stats.estimate();
            }
            for d in self.st.dests.values_mut() {
                d.stats.estimate();
            }
            self.st.global.estimate();
        }
        self.st.reap_dests();
    }

    /// When [`Director::tick`] next has connections to expire (`None`: no connections).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.conns.next_deadline()
    }

    /// Counters and rate averages of a service on this worker.
    pub fn service_stats(&self, service_id: u32) -> Option<StatsReading> {
        let slot = *self.st.svc_slot.get(&service_id)?;
        Some(self.st.services[slot].stats.reading())
    }

    /// Counters and rate averages of a destination on this worker.
    pub fn dest_stats(&self, dest_id: u32) -> Option<StatsReading> {
        Some(self.st.dests.get(dest_id)?.stats.reading())
    }

    /// Connections of a destination on this worker.
    pub fn dest_conns(&self, dest_id: u32) -> Option<DestConns> {
        Some(self.st.dests.get(dest_id)?.conns)
    }

    /// Whether a destination has the OVERLOAD flag on this worker (`-x` reached).
    pub fn dest_overloaded(&self, dest_id: u32) -> Option<bool> {
        Some(self.st.dests.get(dest_id)?.overloaded)
    }

    /// Counters and rate averages of the whole worker.
    pub fn global_stats(&self) -> StatsReading {
        self.st.global.reading()
    }

    /// Drops per reason on this worker.
    pub fn drops(&self) -> &DropCounters {
        &self.drops
    }

    /// ICMP errors this worker generated (frag needed, packet too big, port unreachable,
    /// time exceeded, relayed tunnel errors).
    pub fn icmp_sent(&self) -> u64 {
        self.icmp_sent
    }

    /// Live connection entries (connections and templates), for `ipvsadm -L -c`.
    pub fn connections(&self) -> impl Iterator<Item = Conn<'_>> {
        self.conns.iter()
    }

    /// Number of live entries (connections and templates).
    pub fn conn_count(&self) -> usize {
        self.conns.len()
    }

    /// Counters of the connection table (created, expired, evicted, refused).
    pub fn table_stats(&self) -> &TableStats {
        self.conns.stats()
    }
}
