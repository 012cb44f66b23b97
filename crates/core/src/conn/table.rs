//! The connection table: a slab of entries, a hash index of both sides, a timing wheel
//! and the eviction FIFO, with IPVS's create / packet / expire semantics.

use crate::Instant;
use crate::model::{ForwardMethod, Timeouts};

use super::delta::{CounterDelta, DeltaReason, TableStats};
use super::entry::{
    CTPL_ASSURED, Conn, ConnId, ConnState, Entry, PROTO_SCTP, PROTO_TCP, flag, method_bits, pack,
    state_of,
};
use super::index::Index;
use super::key::{InKey, KeyHasher, OutKey};
use super::lru::EvictList;
use super::params::{ConnTableConfig, InsertError, NewConn, Segment};
use super::sctp::{self, SCTP_STATES, SctpState};
use super::tcp::{self, Direction, TCP_STATES, Table, TcpState};
use super::timeouts::StateTimeouts;
use super::timer::{NIL, Wheel};

/// Timeout of a fresh entry before its first packet is classified (`ip_vs_conn_new`).
const NEW_CONN_TIMEOUT_MS: u32 = 3_000;

/// Marks an index slot as an entry's reply side (entry numbers stay below 2^31).
pub(super) const OUT_SIDE: u32 = 0x8000_0000;

/// How long an expiring entry that still controls others is postponed (`ip_vs_conn_expire`).
pub(crate) const CONTROL_POSTPONE_MS: u32 = 60_000;

/// The connection table of one worker. See the [module docs](super) for the contract.
#[derive(Debug, Clone)]
pub struct ConnTable {
    pub(crate) entries: Vec<Entry>,
    free_head: u32,
    live: usize,
    max: usize,
    /// Both sides in one index: a reply hashes alike as either side (packet order), so the
    /// director's client-side miss on a reply warms the reply lookup's index line.
    pub(super) index: Index,
    pub(crate) hasher: KeyHasher,
    pub(crate) wheel: Wheel,
    evict: EvictList,
    timeouts: StateTimeouts,
    secure_tcp: bool,
    pub(super) no_cport: u32,
    pub(crate) stats: TableStats,
}

#[inline]
fn at(now: Instant, ms: u32) -> u32 {
    (now.as_millis() as u32).wrapping_add(ms)
}

impl ConnTable {
    /// An empty table; memory is allocated as entries arrive, never beyond `max_conns`.
    pub fn new(cfg: ConnTableConfig) -> ConnTable {
        let max = (cfg.max_conns as usize).min(NIL as usize >> 1);
        ConnTable {
            entries: Vec::new(),
            free_head: NIL,
            live: 0,
            max,
            index: Index::new(),
            hasher: KeyHasher::new(cfg.seed),
            wheel: Wheel::new(cfg.wheel_slots as usize, cfg.tick_ms),
            evict: EvictList::new(),
            timeouts: StateTimeouts::new(cfg.timeouts),
            secure_tcp: cfg.secure_tcp,
            no_cport: 0,
            stats: TableStats::default(),
        }
    }

    /// Live entries (connections and templates).
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether the table holds no entry.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The cap on entries.
    pub fn max_conns(&self) -> usize {
        self.max
    }

    /// Table counters.
    pub fn stats(&self) -> &TableStats {
        &self.stats
    }

    /// Heap bytes held by the table (entries, index, wheel, eviction links), from capacities.
    pub fn memory_bytes(&self) -> usize {
        self.entries.capacity() * size_of::<Entry>()
            + self.index.allocation_size()
            + self.wheel.allocation_size()
            + self.evict.allocation_size()
    }

    /// The `--set` timeouts in force (seconds).
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            tcp: self.timeouts.tcp[TcpState::Established as usize] / 1000,
            tcp_fin: self.timeouts.tcp[TcpState::FinWait as usize] / 1000,
            udp: self.timeouts.udp / 1000,
        }
    }

    /// Apply `--set tcp tcpfin udp` (0 = unchanged); entries pick it up on their next packet.
    pub fn set_timeouts(&mut self, t: Timeouts) {
        self.timeouts.apply(t);
    }

    /// Switch the strict `secure_tcp` state table on or off.
    pub fn set_secure_tcp(&mut self, on: bool) {
        self.secure_tcp = on;
    }

    /// Hash of a client-side key (compute once per packet, reuse for lookup).
    #[inline]
    pub fn hash_in(&self, key: &InKey) -> u64 {
        self.hasher.hash_in(key)
    }

    /// Hash of a reply key.
    #[inline]
    pub fn hash_out(&self, key: &OutKey) -> u64 {
        self.hasher.hash_out(key)
    }

    /// Find the connection of a client → VIP packet.
    #[inline]
    pub fn lookup_in(&self, key: &InKey) -> Option<ConnId> {
        self.lookup_in_hashed(key, self.hasher.hash_in(key))
    }

    /// [`lookup_in`](Self::lookup_in) with the hash from [`hash_in`](Self::hash_in).
    #[inline(always)]
    pub fn lookup_in_hashed(&self, key: &InKey, hash: u64) -> Option<ConnId> {
        let entries = &self.entries;
        if let Some(i) = self
            .index
            .find(hash, |v| v < OUT_SIDE && key.matches(&entries[v as usize]))
        {
            return Some(ConnId(i));
        }
        if self.no_cport == 0 || key.cport == 0 {
            return None;
        }
        self.lookup_no_cport(key)
    }

    /// Entries created without a client port match any client port until filled.
    #[cold]
    #[inline(never)]
    fn lookup_no_cport(&self, key: &InKey) -> Option<ConnId> {
        let entries = &self.entries;
        let mut wild = *key;
        wild.cport = 0;
        let h = self.hasher.hash_in(&wild);
        self.index
            .find(h, |v| {
                v < OUT_SIDE && {
                    let e = &entries[v as usize];
                    e.has(flag::NO_CPORT) && wild.matches(e)
                }
            })
            .map(ConnId)
    }

    /// Find the NAT connection of a real server → client reply.
    #[inline]
    pub fn lookup_out(&self, key: &OutKey) -> Option<ConnId> {
        self.lookup_out_hashed(key, self.hasher.hash_out(key))
    }

    /// [`lookup_out`](Self::lookup_out) with the hash from [`hash_out`](Self::hash_out).
    #[inline(always)]
    pub fn lookup_out_hashed(&self, key: &OutKey, hash: u64) -> Option<ConnId> {
        let entries = &self.entries;
        self.index
            .find(hash, |v| {
                v >= OUT_SIDE && key.matches(&entries[(v & !OUT_SIDE) as usize])
            })
            .map(|v| ConnId(v & !OUT_SIDE))
    }

    /// Read an entry.
    #[inline]
    pub fn get(&self, id: ConnId) -> Option<Conn<'_>> {
        match self.entries.get(id.0 as usize) {
            Some(e) if e.has(flag::LIVE) => Some(Conn { e, id }),
            _ => None,
        }
    }

    /// Every live entry (connections and templates), in slot order.
    pub fn iter(&self) -> impl Iterator<Item = Conn<'_>> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.has(flag::LIVE))
            .map(|(i, e)| Conn {
                e,
                id: ConnId(i as u32),
            })
    }

    /// When `expire` may next have work (`None`: the table is empty).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.wheel.next_deadline().map(Instant::from_millis)
    }

    /// Create a connection, INACTIVE with a 3 s timeout as IPVS does; then run its first
    /// packet through [`on_packet`](Self::on_packet). Reports `inactive +1` to `sink` (and
    /// the deltas of anything expired or evicted to make room).
    pub fn insert<S: FnMut(CounterDelta)>(
        &mut self,
        new: &NewConn,
        now: Instant,
        sink: &mut S,
    ) -> Result<ConnId, InsertError> {
        let hash = self.hasher.hash_in(&new.key);
        if !new.one_packet
            && let Some(id) = self.lookup_in_hashed(&new.key, hash)
            && self.entries[id.0 as usize].cport == new.key.cport
        {
            return Err(InsertError::Exists(id));
        }
        let control = match new.control {
            None => NIL,
            Some(t) if self.get(t).is_some_and(|c| c.is_template()) => t.0,
            Some(_) => return Err(InsertError::InvalidControl),
        };
        // Count the new connection in the template first: that pins it while room is made.
        if control != NIL {
            self.entries[control as usize].link += 1;
        }
        let idx = match self.alloc(now, sink) {
            Ok(i) => i,
            Err(e) => {
                if control != NIL {
                    self.entries[control as usize].link -= 1;
                }
                return Err(e);
            }
        };
        let (daddr, dest_v6) = pack(new.daddr);
        let mut flags =
            flag::LIVE | flag::INACTIVE | (new.key.kind & flag::V6) | method_bits(new.method);
        if dest_v6 {
            flags |= flag::DEST_V6;
        }
        if new.method != ForwardMethod::Masq {
            flags |= flag::NOOUTPUT;
        }
        if new.one_packet {
            flags |= flag::ONE_PACKET | flag::UNHASHED;
        } else if new.method == ForwardMethod::Masq {
            flags |= flag::OUT_HASHED;
        }
        if new.no_cport && !new.one_packet {
            flags |= flag::NO_CPORT;
            self.no_cport += 1;
        }
        let e = Entry {
            caddr: new.key.caddr,
            vaddr: new.key.vaddr,
            daddr,
            timeout: NEW_CONN_TIMEOUT_MS,
            expires: at(now, NEW_CONN_TIMEOUT_MS),
            service: new.service,
            dest: new.dest,
            link: control,
            in_pkts: 0,
            cport: if new.no_cport { 0 } else { new.key.cport },
            vport: new.key.vport,
            dport: new.dport,
            flags,
            proto: new.key.proto,
            state: 0,
        };
        self.link_new(idx, e, now);
        sink(CounterDelta {
            service: new.service,
            dest: new.dest,
            active: 0,
            inactive: 1,
            persistent: 0,
            reason: DeltaReason::Created,
        });
        Ok(ConnId(idx))
    }

    /// Store a filled entry in slot `idx` and link it everywhere it belongs.
    pub(crate) fn link_new(&mut self, idx: u32, mut e: Entry, now: Instant) {
        if e.evictable() {
            e.flags |= flag::EVICTABLE;
            self.evict.push_back(idx);
        }
        let due = now.as_millis() + u64::from(e.timeout);
        self.entries[idx as usize] = e;
        self.hash_entry(idx);
        self.wheel.schedule(idx, due, now.as_millis());
        self.live += 1;
        self.stats.inserted += 1;
    }

    /// A free slot, making room if the table is full: first reap what has expired, then
    /// evict the oldest non-ESTABLISHED connection, else refuse.
    pub(crate) fn alloc<S: FnMut(CounterDelta)>(
        &mut self,
        now: Instant,
        sink: &mut S,
    ) -> Result<u32, InsertError> {
        if self.live >= self.max {
            self.expire(now, sink);
        }
        if self.live >= self.max {
            match self.evict.front() {
                Some(victim) => self.remove(victim, DeltaReason::Evicted, true, sink),
                None => {
                    self.stats.refused_full += 1;
                    return Err(InsertError::TableFull);
                }
            }
        }
        if self.free_head != NIL {
            let idx = self.free_head;
            self.free_head = self.entries[idx as usize].link;
            return Ok(idx);
        }
        let idx = self.entries.len() as u32;
        if self.entries.len() == self.entries.capacity() {
            let target = (self.entries.capacity() * 2).max(16).min(self.max);
            self.entries.reserve_exact(target - self.entries.len());
        }
        self.entries.push(Entry::VACANT);
        self.wheel.grow_to(idx, self.max);
        self.evict.grow_to(idx, self.max);
        Ok(idx)
    }

    /// Run one packet through the entry's state machine and re-arm its timer (every packet
    /// does, as in IPVS). Reports active/inactive changes to `sink`; entering ESTABLISHED
    /// marks the controlling template ASSURED. `None` if `id` is not live.
    #[inline]
    pub fn on_packet<S: FnMut(CounterDelta)>(
        &mut self,
        id: ConnId,
        dir: Direction,
        seg: Segment,
        now: Instant,
        sink: &mut S,
    ) -> Option<ConnState> {
        if !self.packet(id, dir, seg, now, sink) {
            return None;
        }
        Some(state_of(&self.entries[id.0 as usize]))
    }

    /// [`on_packet`](Self::on_packet) without building the new state for the caller (the
    /// forwarding path does not read it); false if `id` is not live.
    #[inline(always)]
    pub(crate) fn packet<S: FnMut(CounterDelta)>(
        &mut self,
        id: ConnId,
        dir: Direction,
        seg: Segment,
        now: Instant,
        sink: &mut S,
    ) -> bool {
        let idx = id.0 as usize;
        let Some(e) = self.entries.get_mut(idx).filter(|e| e.has(flag::LIVE)) else {
            return false;
        };
        if e.has(flag::TEMPLATE) {
            e.expires = at(now, e.timeout);
            return true;
        }
        let table = match (dir, e.has(flag::NOOUTPUT)) {
            (Direction::Output, true) => {
                e.flags &= !flag::NOOUTPUT;
                Table::Output
            }
            (Direction::Input, true) => Table::InputOnly,
            (Direction::Output, false) => Table::Output,
            (Direction::Input, false) => Table::Input,
        };
        let old = e.state;
        let (new, timeout) = match (e.proto, seg) {
            (PROTO_TCP, Segment::Tcp(f)) => {
                let n = tcp::next_state(old, table, f, self.secure_tcp);
                (n, self.timeouts.tcp[n as usize])
            }
            (PROTO_TCP, _) => (old, self.timeouts.tcp[(old as usize).min(TCP_STATES - 1)]),
            (PROTO_SCTP, Segment::Sctp(ev)) => {
                let n = sctp::next_state(old, table as usize, ev);
                (n, self.timeouts.sctp[n as usize])
            }
            (PROTO_SCTP, _) => (old, self.timeouts.sctp[(old as usize).min(SCTP_STATES - 1)]),
            _ => (0, self.timeouts.udp),
        };
        e.state = new;
        e.timeout = timeout;
        e.expires = at(now, timeout);
        if dir == Direction::Input {
            e.in_pkts = e.in_pkts.saturating_add(1);
        }
        if new != old {
            self.state_changed(idx, sink);
        }
        true
    }

    /// Bookkeeping after a state change: activity flag, eviction order, template ASSURED.
    #[cold]
    fn state_changed<S: FnMut(CounterDelta)>(&mut self, idx: usize, sink: &mut S) {
        let e = &mut self.entries[idx];
        let (active, established) = match e.proto {
            PROTO_TCP => (tcp::active(e.state), e.state == TcpState::Established as u8),
            PROTO_SCTP => (
                sctp::active(e.state),
                e.state == SctpState::Established as u8,
            ),
            _ => (false, false),
        };
        if active == e.has(flag::INACTIVE) {
            e.flags ^= flag::INACTIVE;
            let d = if active { 1 } else { -1 };
            sink(CounterDelta {
                service: e.service,
                dest: e.dest,
                active: d,
                inactive: -d,
                persistent: 0,
                reason: DeltaReason::StateChange,
            });
        }
        let evictable = e.evictable();
        if evictable != e.has(flag::EVICTABLE) {
            e.flags ^= flag::EVICTABLE;
            if evictable {
                self.evict.push_back(idx as u32);
            } else {
                self.evict.unlink(idx as u32);
            }
        }
        let control = e.link;
        if established && control != NIL {
            let t = &mut self.entries[control as usize];
            if t.has(flag::TEMPLATE) {
                t.state = CTPL_ASSURED;
            }
        }
    }

    /// Remove every entry whose time has come; an entry that still controls others is
    /// postponed by 60 s instead. Costs O(ticks passed + entries visited). Returns the
    /// number removed; each removal's counter change goes to `sink`.
    pub fn expire<S: FnMut(CounterDelta)>(&mut self, now: Instant, sink: &mut S) -> usize {
        let mut removed = 0;
        while let Some(idx) = self.wheel.pop_due(now.as_millis()) {
            let e = &mut self.entries[idx as usize];
            let left = e.remaining(now);
            if left > 0 {
                self.wheel
                    .schedule(idx, now.as_millis() + left as u64, now.as_millis());
            } else if e.has(flag::TEMPLATE) && e.link > 0 {
                // Postpone from the due time, not from `now`, so the outcome does not
                // depend on how often `expire` runs.
                e.timeout = CONTROL_POSTPONE_MS;
                e.expires = e.expires.wrapping_add(CONTROL_POSTPONE_MS);
                let due = now.as_millis() as i64 + left + i64::from(CONTROL_POSTPONE_MS);
                self.wheel.schedule(idx, due.max(0) as u64, now.as_millis());
            } else {
                self.remove(idx, DeltaReason::Expired, false, sink);
                removed += 1;
            }
        }
        removed
    }

    /// Expire an entry now (conn_reuse_mode, expire_nodest_conn). A template that still
    /// controls connections is only postponed, as in IPVS. When the entry was the last one
    /// of a template that never saw ESTABLISHED, the template goes too.
    pub fn expire_now<S: FnMut(CounterDelta)>(&mut self, id: ConnId, now: Instant, sink: &mut S) {
        let Some(c) = self.get(id) else { return };
        if c.is_template() && c.n_control() > 0 {
            let e = &mut self.entries[id.0 as usize];
            e.timeout = CONTROL_POSTPONE_MS;
            e.expires = at(now, CONTROL_POSTPONE_MS);
            return;
        }
        self.remove(id.0, DeltaReason::Removed, true, sink);
    }

    /// Free a one-packet entry after its packet was forwarded (no-op for other entries).
    pub fn release<S: FnMut(CounterDelta)>(&mut self, id: ConnId, sink: &mut S) {
        if self.get(id).is_some_and(|c| c.is_one_packet()) {
            self.remove(id.0, DeltaReason::Removed, false, sink);
        }
    }

    /// Remove every entry bound to destination `dest` (a deleted server with
    /// expire_nodest_conn): connections first, then its templates that no longer control
    /// anything. O(table). Returns the number removed.
    pub fn expire_dest<S: FnMut(CounterDelta)>(&mut self, dest: u32, sink: &mut S) -> usize {
        let before = self.live;
        for pass_templates in [false, true] {
            for idx in 0..self.entries.len() as u32 {
                let e = &self.entries[idx as usize];
                if !e.has(flag::LIVE) || e.dest != dest || e.has(flag::TEMPLATE) != pass_templates {
                    continue;
                }
                if pass_templates && e.link > 0 {
                    continue;
                }
                self.remove(idx, DeltaReason::Removed, true, sink);
            }
        }
        before - self.live
    }

    /// Set the client port of a NO_CPORT entry and rehash it.
    pub fn fill_cport(&mut self, id: ConnId, cport: u16) {
        let idx = id.0;
        if !self.get(id).is_some_and(|c| c.e.has(flag::NO_CPORT)) {
            return;
        }
        self.unhash(idx);
        let e = &mut self.entries[idx as usize];
        e.cport = cport;
        e.flags &= !flag::NO_CPORT;
        self.no_cport -= 1;
        self.hash_entry(idx);
    }

    /// Index an entry: its client side unless UNHASHED, its reply side when OUT_HASHED.
    fn hash_entry(&mut self, idx: u32) {
        let e = &self.entries[idx as usize];
        let (hs, entries) = (&self.hasher, &self.entries);
        let rehash = |v: u32| {
            let e = &entries[(v & !OUT_SIDE) as usize];
            if v & OUT_SIDE != 0 {
                hs.hash_out_entry(e)
            } else {
                hs.hash_in_entry(e)
            }
        };
        if !e.has(flag::UNHASHED) {
            self.index.insert(hs.hash_in_entry(e), idx, rehash);
        }
        if e.has(flag::OUT_HASHED) {
            self.index
                .insert(hs.hash_out_entry(e), idx | OUT_SIDE, rehash);
        }
    }

    /// Take an entry out of the index (it stays in the slab).
    pub(crate) fn unhash(&mut self, idx: u32) {
        let e = &self.entries[idx as usize];
        if !e.has(flag::UNHASHED) {
            self.index.remove(self.hasher.hash_in_entry(e), idx);
        }
        if e.has(flag::OUT_HASHED) {
            self.index
                .remove(self.hasher.hash_out_entry(e), idx | OUT_SIDE);
        }
    }

    /// Unlink and free an entry, report its counters, release its template. `forced`
    /// applies IPVS's rule for timeout-0 expiry: a template left with no controlled entry
    /// and never ASSURED is dropped with it.
    pub(crate) fn remove<S: FnMut(CounterDelta)>(
        &mut self,
        idx: u32,
        reason: DeltaReason,
        forced: bool,
        sink: &mut S,
    ) {
        self.unhash(idx);
        let e = std::mem::replace(&mut self.entries[idx as usize], Entry::VACANT);
        if e.has(flag::NO_CPORT) {
            self.no_cport -= 1;
        }
        self.wheel.unlink(idx);
        if e.has(flag::EVICTABLE) {
            self.evict.unlink(idx);
        }
        self.entries[idx as usize].link = self.free_head;
        self.free_head = idx;
        self.live -= 1;
        match reason {
            DeltaReason::Expired => self.stats.expired += 1,
            DeltaReason::Evicted => self.stats.evicted += 1,
            _ => self.stats.removed += 1,
        }
        let template = e.has(flag::TEMPLATE);
        let inactive = e.has(flag::INACTIVE);
        sink(CounterDelta {
            service: e.service,
            dest: e.dest,
            active: -i32::from(!template && !inactive),
            inactive: -i32::from(!template && inactive),
            persistent: -i32::from(template),
            reason,
        });
        if !template && e.link != NIL {
            let t = &mut self.entries[e.link as usize];
            t.link = t.link.saturating_sub(1);
            if forced && t.link == 0 && t.state != CTPL_ASSURED {
                self.remove(e.link, reason, false, sink);
            }
        }
    }
}
