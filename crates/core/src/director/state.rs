//! Per-worker service and destination state: schedulers, destination views, connection
//! counts with the OVERLOAD rules of `-x` / `-y`, and the traffic counters.

use core::net::IpAddr;
use std::collections::{HashMap, HashSet};

use crate::config::{Service, Snapshot};
use crate::conn::{CounterDelta, DeltaReason};
use crate::model::{DestConfig, ForwardMethod, Protocol, ServiceKey};
use crate::sched::{self, DestView, Scheduler};
use crate::stats::Stats;

use super::DestConns;
use super::dests::DestTable;
use super::rip_filter::RipFilter;
use super::svc_index::SvcIndex;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// (protocol, address, port) packed for hashing: the address in the 16-byte form of the
/// connection table (IPv4 in the first four bytes), then protocol, family and port.
pub(crate) type AddrKey = (u128, u32);

/// The [`AddrKey`] of raw packet fields.
#[inline]
pub(crate) fn addr_key(proto: u8, v6: bool, addr: &[u8; 16], port: u16) -> AddrKey {
    (
        u128::from_ne_bytes(*addr),
        u32::from(proto) << 24 | u32::from(v6) << 16 | u32::from(port),
    )
}

/// An address in the 16-byte form of the connection table.
fn raw(addr: IpAddr) -> [u8; 16] {
    let mut r = [0u8; 16];
    match addr {
        IpAddr::V4(a) => r[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => r = a.octets(),
    }
    r
}

/// The [`AddrKey`] of a configured address.
fn ip_key(protocol: Protocol, addr: IpAddr, port: u16) -> AddrKey {
    addr_key(protocol.number(), addr.is_ipv6(), &raw(addr), port)
}

/// One destination as this worker sees it.
#[derive(Debug)]
pub(crate) struct DestState {
    /// Stable id.
    pub id: u32,
    /// Service id.
    pub service: u32,
    /// Settings in force (the last ones, if deleted).
    pub config: DestConfig,
    /// Still configured (IPVS's AVAILABLE flag).
    pub available: bool,
    /// `-x` reached (IPVS's OVERLOAD flag).
    pub overloaded: bool,
    /// Connections bound to it on this worker.
    pub conns: DestConns,
    /// Traffic counters.
    pub stats: Stats,
    /// Slot of its service in `DirState::services` and its index in the service's list.
    pub slot: Option<(usize, usize)>,
}

impl DestState {
    fn total(&self) -> u64 {
        u64::from(self.conns.active) + u64::from(self.conns.inactive)
    }

    /// `ip_vs_bind_dest`: the upper threshold sets OVERLOAD.
    fn on_bind(&mut self) {
        let u = self.config.u_threshold;
        if u != 0 && self.total() >= u64::from(u) {
            self.overloaded = true;
        }
    }

    /// `ip_vs_unbind_dest`: below the lower threshold (or 3/4 of the upper one without a
    /// lower threshold) OVERLOAD is cleared.
    fn on_unbind(&mut self) {
        let (l, u) = (self.config.l_threshold, self.config.u_threshold);
        if l != 0 {
            if self.total() < u64::from(l) {
                self.overloaded = false;
            }
        } else if u != 0 {
            if self.total() * 4 < u64::from(u) * 3 {
                self.overloaded = false;
            }
        } else {
            self.overloaded = false;
        }
    }
}

/// One service as this worker sees it.
#[derive(Debug)]
pub(crate) struct SvcState {
    /// Stable id.
    pub id: u32,
    /// Settings (from the snapshot).
    pub svc: Service,
    /// Its scheduler instance.
    pub sched: Box<dyn Scheduler>,
    /// Destinations as the scheduler sees them, in list order.
    pub views: Vec<DestView>,
    /// Traffic counters.
    pub stats: Stats,
}

/// Everything except the connection table (so the table's counter sink can borrow it).
#[derive(Debug, Default)]
pub(crate) struct DirState {
    pub services: Vec<SvcState>,
    pub svc_slot: FastMap<u32, usize>,
    /// Services by (protocol, VIP, port), as `ip_vs_service_find` looks them up.
    pub svc_by_addr: SvcIndex,
    pub dests: DestTable,
    pub global: Stats,
    /// NAT real servers (protocol, RIP, port; port 0 = any): a packet from one that matches
    /// no connection is a stray reply, not a client.
    pub nat_servers: FastSet<AddrKey>,
    /// Addresses of every destination a connection may name (see [`RipFilter`]).
    pub rips: RipFilter,
    /// Old addresses of destinations whose address changed under the same id (never
    /// forgotten: connections may still name them).
    moved_rips: Vec<[u8; 16]>,
}

impl DirState {
    /// Apply one change of a destination's connection counts.
    pub fn apply(&mut self, d: CounterDelta) {
        let Some(dest) = self.dests.get_mut(d.dest) else {
            return;
        };
        let add = |v: &mut u32, by: i32| *v = v.saturating_add_signed(by);
        add(&mut dest.conns.active, d.active);
        add(&mut dest.conns.inactive, d.inactive);
        add(&mut dest.conns.persistent, d.persistent);
        match d.reason {
            DeltaReason::Created => dest.on_bind(),
            DeltaReason::StateChange => {}
            DeltaReason::Expired | DeltaReason::Evicted | DeltaReason::Removed => dest.on_unbind(),
        }
        if let Some((s, i)) = dest.slot
            && let Some(v) = self.services.get_mut(s).and_then(|s| s.views.get_mut(i))
        {
            v.active = dest.conns.active;
            v.inactive = dest.conns.inactive;
            v.persistent = dest.conns.persistent;
            v.overloaded = dest.overloaded;
        }
    }

    /// Take over a new snapshot: keep scheduler state of services whose scheduler and
    /// destination list did not change, keep counters by id, mark vanished destinations
    /// unavailable. Returns the ids of destinations deleted by this snapshot.
    pub fn apply_snapshot(&mut self, snap: &Snapshot, seed: u64) -> Vec<u32> {
        let mut old: FastMap<u32, SvcState> = self.services.drain(..).map(|s| (s.id, s)).collect();
        self.svc_slot.clear();
        self.svc_by_addr.clear();
        let mut seen = HashSet::new();
        for (slot, svc) in snap.services().iter().enumerate() {
            let mut views = Vec::with_capacity(svc.dests.len());
            for (i, d) in svc.dests.iter().enumerate() {
                seen.insert(d.id);
                let st = self.dests.get_or_insert_with(d.id, || DestState {
                    id: d.id,
                    service: svc.id,
                    config: d.config.clone(),
                    available: true,
                    overloaded: false,
                    conns: DestConns::default(),
                    stats: Stats::with_epoch(d.zero_epoch),
                    slot: None,
                });
                // `__ip_vs_update_dest`: raising or removing the upper threshold clears OVERLOAD.
                if d.config.u_threshold == 0 || d.config.u_threshold > st.config.u_threshold {
                    st.overloaded = false;
                }
                if st.config.addr != d.config.addr {
                    self.moved_rips.push(raw(st.config.addr));
                }
                st.config = d.config.clone();
                st.service = svc.id;
                st.available = true;
                st.slot = Some((slot, i));
                st.stats.apply_zero_epoch(d.zero_epoch);
                views.push(DestView {
                    id: d.id,
                    addr: d.config.addr,
                    port: d.config.port,
                    weight: d.config.weight,
                    overloaded: st.overloaded,
                    active: st.conns.active,
                    inactive: st.conns.inactive,
                    persistent: st.conns.persistent,
                });
            }
            let state = match old.remove(&svc.id) {
                Some(mut s) => {
                    let same_sched = s.svc.config.scheduler == svc.config.scheduler
                        && s.svc.config.sched_flags == svc.config.sched_flags;
                    let same_dests = same_list(&s.views, &views);
                    if !same_sched {
                        s.sched = new_sched(svc, seed);
                        s.sched.update(&views);
                    } else if !same_dests {
                        s.sched.update(&views);
                    }
                    s.svc = svc.clone();
                    s.views = views;
                    s.stats.apply_zero_epoch(svc.zero_epoch);
                    s
                }
                None => {
                    let mut sched = new_sched(svc, seed);
                    sched.update(&views);
                    SvcState {
                        id: svc.id,
                        svc: svc.clone(),
                        sched,
                        views,
                        stats: Stats::with_epoch(svc.zero_epoch),
                    }
                }
            };
            self.svc_slot.insert(svc.id, slot);
            if let ServiceKey::Addr {
                protocol,
                addr,
                port,
            } = svc.config.key
            {
                self.svc_by_addr.insert(ip_key(protocol, addr, port), slot);
            }
            self.services.push(state);
        }
        let mut deleted = Vec::new();
        for d in self.dests.values_mut() {
            if !seen.contains(&d.id) {
                if d.available {
                    deleted.push(d.id);
                }
                d.available = false;
                d.slot = None;
            }
        }
        self.global.apply_zero_epoch(snap.zero_epoch);
        self.nat_servers.clear();
        for s in snap.services() {
            if let ServiceKey::Addr { protocol, .. } = s.config.key {
                for d in &s.dests {
                    if d.config.method == ForwardMethod::Masq {
                        self.nat_servers
                            .insert(ip_key(protocol, d.config.addr, d.config.port));
                    }
                }
            }
        }
        self.rebuild_rips();
        deleted
    }

    /// Forget destinations that are deleted and no longer referenced by any connection.
    pub fn reap_dests(&mut self) {
        let before = self.dests.len();
        self.dests
            .retain(|d| d.available || d.conns.active + d.conns.inactive + d.conns.persistent > 0);
        if self.dests.len() != before {
            self.rebuild_rips();
        }
    }

    fn rebuild_rips(&mut self) {
        self.rips.clear();
        for d in self.dests.values_mut() {
            self.rips.insert(&raw(d.config.addr));
        }
        for r in &self.moved_rips {
            self.rips.insert(r);
        }
    }

    /// Whether `addr:port` (raw form, family `v6`) is a NAT real server of a `proto`
    /// service.
    pub fn is_nat_server(&self, proto: u8, v6: bool, addr: &[u8; 16], port: u16) -> bool {
        !self.nat_servers.is_empty()
            && (self.nat_servers.contains(&addr_key(proto, v6, addr, port))
                || self.nat_servers.contains(&addr_key(proto, v6, addr, 0)))
    }

    /// The service a `proto` packet to `addr:port` (raw form) belongs to: the exact port
    /// first, then a port-0 (all ports) service of the VIP.
    #[inline]
    pub fn service_for(&self, proto: u8, v6: bool, addr: &[u8; 16], port: u16) -> Option<usize> {
        if let Some(s) = self.svc_by_addr.get(&addr_key(proto, v6, addr, port)) {
            return Some(s);
        }
        self.svc_by_addr.get(&addr_key(proto, v6, addr, 0))
    }
}

/// Same destinations with the same settings the scheduler reads (counters aside).
fn same_list(a: &[DestView], b: &[DestView]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.id == y.id && x.addr == y.addr && x.port == y.port && x.weight == y.weight
        })
}

/// A scheduler for the service; the name was validated by the configuration, so failure
/// falls back to wlc (the ipvsadm default) rather than leaving the service unusable.
fn new_sched(svc: &Service, seed: u64) -> Box<dyn Scheduler> {
    let seed = seed ^ u64::from(svc.id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    sched::new(&svc.config.scheduler, svc.config.sched_flags, seed)
        .or_else(|_| sched::new("wlc", svc.config.sched_flags, seed))
        .unwrap_or_else(|_| Box::new(sched::WeightedLeastConnection))
}
