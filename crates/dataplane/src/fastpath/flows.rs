//! One worker's share of the flow map: the entries it installed, their counters as last
//! harvested, and the rules for installing and removing them.
//!
//! - Install: after the core forwarded a packet and the next hop resolved, if the core
//!   offers an offload (TCP ESTABLISHED, UDP), the connection has carried
//!   [`MIN_CLIENT_PACKETS`] client packets (a short connection — a DNS query, an HTTP
//!   request with `Connection: close` — would cost more in map updates than the fast path
//!   saves) and the egress is not disabled. `BPF_NOEXIST`: an entry another worker holds is
//!   left alone.
//! - Harvest (every tick, before the core's tick): new packets and bytes per entry go to
//!   the core's statistics and re-arm the connection's timer from the entry's last-seen
//!   time, so a connection whose packets all take the fast path does not expire.
//! - Sweep (after the core's tick): entries whose connection expired, was evicted or
//!   flushed, or left ESTABLISHED, and entries whose next hop changed, are removed.
//! - Immediately removed: both directions of a connection when a SYN/FIN/RST of it reaches
//!   the core; every entry when the core's offload generation changes (configuration);
//!   entries towards an egress whose redirects failed (that egress is then disabled for
//!   [`EGRESS_BACKOFF_MS`]); every entry when the worker stops.

use std::collections::HashMap;
use std::net::IpAddr;

use aya::maps::{HashMap as BpfHashMap, Map, MapData};
use rvs_core::Instant;
use rvs_core::conn::ConnId;
use rvs_core::director::Offload;

use crate::error::{Error, Result};
use crate::fastpath::map::{FlowAction, FlowKey};
use crate::fastpath::tuple::Tuple;
use crate::nexthop::{Egress, NextHopCache};
use crate::processor::PacketProcessor;
use crate::stats::WorkerStats;

/// Client packets a connection carries through the core before its flows are offloaded.
pub const MIN_CLIENT_PACKETS: u32 = 8;

/// How long an egress stays off the fast path after redirect errors.
pub const EGRESS_BACKOFF_MS: u64 = 10_000;

/// BPF_NOEXIST.
const BPF_NOEXIST: u64 = 1;

#[derive(Debug, Clone, Copy)]
struct Installed {
    offload: Offload,
    egress: Egress,
    /// Counters as last harvested.
    packets: u64,
    bytes: u64,
}

/// The fast-path entries of one worker.
pub(crate) struct FastPath {
    map: BpfHashMap<MapData, FlowKey, FlowAction>,
    xmit_drops: Option<BpfHashMap<MapData, u64, u64>>,
    /// Our network namespace's inode: the high half of the redirect-error keys.
    netns: u64,
    /// slot → ifindex of the served interfaces.
    ifindexes: Vec<u32>,
    installed: HashMap<FlowKey, Installed, foldhash::fast::RandomState>,
    by_conn: HashMap<ConnId, Vec<FlowKey>, foldhash::fast::RandomState>,
    capacity: usize,
    generation: Option<u64>,
    /// Per slot: redirect drops seen so far, and until when the egress is disabled.
    drops_seen: Vec<u64>,
    disabled_until: Vec<u64>,
}

fn bpf_err(e: impl std::fmt::Display) -> Error {
    Error::Bpf(e.to_string())
}

/// CLOCK_MONOTONIC in nanoseconds, the clock of bpf_ktime_get_ns().
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid, exclusively borrowed `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl FastPath {
    /// Open the worker's handles on the maps (by id, so each worker has its own fds).
    pub(crate) fn open(
        flow_map_id: u32,
        xmit_drops_id: Option<u32>,
        ifindexes: Vec<u32>,
        capacity: usize,
    ) -> Result<FastPath> {
        let open = |id: u32| MapData::from_id(id).map(Map::HashMap).map_err(bpf_err);
        let map = BpfHashMap::try_from(open(flow_map_id)?).map_err(bpf_err)?;
        let xmit_drops = match xmit_drops_id {
            Some(id) => Some(BpfHashMap::try_from(open(id)?).map_err(bpf_err)?),
            None => None,
        };
        let n = ifindexes.len();
        Ok(FastPath {
            map,
            xmit_drops,
            netns: crate::steer::netns_inode(),
            ifindexes,
            installed: HashMap::default(),
            by_conn: HashMap::default(),
            capacity,
            generation: None,
            drops_seen: vec![0; n],
            disabled_until: vec![0; n],
        })
    }

    /// After the core forwarded the packet `t` (received on `slot`) to `next_hop` via `eg`:
    /// install its flow, or remove the connection's entries when the packet changes state.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn after_forward<P: PacketProcessor>(
        &mut self,
        p: &mut P,
        slot: usize,
        t: &Tuple,
        next_hop: IpAddr,
        eg: &Egress,
        now_ms: u64,
        stats: &mut WorkerStats,
    ) {
        let Some(&ifindex) = self.ifindexes.get(slot) else {
            return;
        };
        let Some(key) = FlowKey::new(ifindex, t.proto, t.src, t.sport, t.dst, t.dport) else {
            return;
        };
        if let Some(inst) = self.installed.get(&key) {
            if t.changes_state() {
                let conn = inst.offload.conn;
                self.remove_conn(p, conn, now_ms, stats);
            }
            return;
        }
        if t.changes_state() || self.disabled_until.get(eg.slot).is_none_or(|&u| u > now_ms) {
            return;
        }
        let Some(o) = p.offload(t.proto, t.src, t.sport, t.dst, t.dport) else {
            return;
        };
        if o.next_hop != next_hop || o.in_packets < MIN_CLIENT_PACKETS {
            return;
        }
        let Some(action) = FlowAction::new(&o, eg) else {
            return;
        };
        if self.installed.len() >= self.capacity {
            stats.fast_install_failed += 1;
            return;
        }
        if self.map.insert(key, action, BPF_NOEXIST).is_err() {
            stats.fast_install_failed += 1;
            return;
        }
        self.installed.insert(
            key,
            Installed {
                offload: o,
                egress: *eg,
                packets: 0,
                bytes: 0,
            },
        );
        self.by_conn.entry(o.conn).or_default().push(key);
        stats.fast_installs += 1;
        stats.fast_flows = self.installed.len() as u64;
    }

    /// Before the core's tick: hand the new packets of every entry to the core (counters,
    /// timer re-armed from the last packet); entries the core gave up are removed.
    pub(crate) fn harvest<P: PacketProcessor>(
        &mut self,
        p: &mut P,
        now_ms: u64,
        stats: &mut WorkerStats,
    ) {
        let mono = monotonic_ns();
        let now = Instant::from_millis(now_ms);
        let mut gone = Vec::new();
        for (key, inst) in &mut self.installed {
            let Ok(v) = self.map.get(key, 0) else {
                gone.push(*key);
                continue;
            };
            let packets = v.packets.wrapping_sub(inst.packets);
            let bytes = v.bytes.wrapping_sub(inst.bytes);
            inst.packets = v.packets;
            inst.bytes = v.bytes;
            stats.fast_packets += packets;
            stats.fast_bytes += bytes;
            let ago_ms = mono.saturating_sub(v.last_seen_ns) / 1_000_000;
            let last_seen = Instant::from_millis(now_ms.saturating_sub(ago_ms));
            if !p.offload_refresh(&inst.offload, packets, bytes, last_seen, now) {
                gone.push(*key);
            }
        }
        for key in gone {
            self.remove(p, &key, now_ms, stats);
        }
    }

    /// After the core's tick (and after control jobs): remove entries whose connection is
    /// gone or changed, whose next hop moved, and everything when the configuration changed.
    pub(crate) fn sweep<P: PacketProcessor>(
        &mut self,
        p: &mut P,
        cache: &mut NextHopCache,
        now_ms: u64,
        stats: &mut WorkerStats,
    ) {
        let generation = p.offload_generation();
        if self.generation != Some(generation) {
            self.generation = Some(generation);
            self.flush(p, now_ms, stats);
            return;
        }
        self.check_redirect_errors(p, now_ms, stats);
        let now = Instant::from_millis(now_ms);
        let mut gone = Vec::new();
        for (key, inst) in &self.installed {
            let same_hop = cache.lookup(inst.offload.next_hop, now_ms) == Ok(inst.egress);
            if !same_hop || !p.offload_refresh(&inst.offload, 0, 0, now, now) {
                gone.push(*key);
            }
        }
        for key in gone {
            self.remove(p, &key, now_ms, stats);
        }
    }

    /// Disable egresses whose redirects failed since the last look, and remove their entries.
    fn check_redirect_errors<P: PacketProcessor>(
        &mut self,
        p: &mut P,
        now_ms: u64,
        stats: &mut WorkerStats,
    ) {
        let Some(drops) = &self.xmit_drops else {
            return;
        };
        let mut disabled = Vec::new();
        for (slot, &ifindex) in self.ifindexes.iter().enumerate() {
            let n = drops
                .get(&(self.netns << 32 | u64::from(ifindex)), 0)
                .unwrap_or(0);
            if n > self.drops_seen[slot] {
                self.drops_seen[slot] = n;
                self.disabled_until[slot] = now_ms + EGRESS_BACKOFF_MS;
                stats.fast_egress_disabled += 1;
                disabled.push(slot);
                tracing::warn!(
                    ifindex,
                    drops = n,
                    "XDP redirects to this interface fail (a veth needs GRO or an XDP \
                     program on its peer); its flows go through AF_XDP for a while"
                );
            }
        }
        if disabled.is_empty() {
            return;
        }
        let keys: Vec<FlowKey> = self
            .installed
            .iter()
            .filter(|(_, i)| disabled.contains(&i.egress.slot))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            self.remove(p, &key, now_ms, stats);
        }
    }

    /// Remove every entry of connection `conn` (both directions of a NAT flow).
    fn remove_conn<P: PacketProcessor>(
        &mut self,
        p: &mut P,
        conn: ConnId,
        now_ms: u64,
        stats: &mut WorkerStats,
    ) {
        for key in self.by_conn.get(&conn).cloned().unwrap_or_default() {
            self.remove(p, &key, now_ms, stats);
        }
    }

    /// Remove one entry, crediting its last packets to the core.
    fn remove<P: PacketProcessor>(
        &mut self,
        p: &mut P,
        key: &FlowKey,
        now_ms: u64,
        stats: &mut WorkerStats,
    ) {
        let Some(inst) = self.installed.remove(key) else {
            return;
        };
        let last = self.map.get(key, 0).ok();
        let _ = self.map.remove(key);
        if let Some(v) = last {
            let packets = v.packets.wrapping_sub(inst.packets);
            if packets > 0 {
                let bytes = v.bytes.wrapping_sub(inst.bytes);
                let now = Instant::from_millis(now_ms);
                stats.fast_packets += packets;
                stats.fast_bytes += bytes;
                p.offload_refresh(&inst.offload, packets, bytes, now, now);
            }
        }
        if let Some(keys) = self.by_conn.get_mut(&inst.offload.conn) {
            keys.retain(|k| k != key);
            if keys.is_empty() {
                self.by_conn.remove(&inst.offload.conn);
            }
        }
        stats.fast_removals += 1;
        stats.fast_flows = self.installed.len() as u64;
    }

    /// Remove every entry (configuration change, worker stop).
    pub(crate) fn flush<P: PacketProcessor>(
        &mut self,
        p: &mut P,
        now_ms: u64,
        stats: &mut WorkerStats,
    ) {
        let keys: Vec<FlowKey> = self.installed.keys().copied().collect();
        for key in keys {
            self.remove(p, &key, now_ms, stats);
        }
    }
}
