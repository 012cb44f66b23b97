//! The connection table: a slab of entries, two hash indices, a timing wheel and the
//! eviction FIFO, with IPVS's create / packet / expire semantics.

use core::fmt;
use core::net::IpAddr;

use hashbrown::HashTable;

use crate::Instant;
use crate::model::{ForwardMethod, Timeouts};

use super::entry::{
    CTPL_ASSURED, Conn, ConnId, ConnState, Entry, PROTO_SCTP, PROTO_TCP, flag, method_bits, pack,
    state_of,
};
use super::key::{InKey, KeyHasher, OutKey};
use super::lru::EvictList;
use super::sctp::{self, SCTP_STATES, SctpEvent, SctpState};
use super::tcp::{self, Direction, TCP_STATES, Table, TcpFlags, TcpState};
use super::timer::{NIL, Wheel};

/// Longest timeout an entry can hold (about 12.4 days); longer ones are clamped. Times are
/// stored as wrapping 32-bit milliseconds, so `expire` must run at least this often.
pub const MAX_TIMEOUT_MS: u32 = 1 << 30;

/// Timeout of a fresh entry before its first packet is classified (`ip_vs_conn_new`).
const NEW_CONN_TIMEOUT_MS: u32 = 3_000;

/// How long an expiring entry that still controls others is postponed (`ip_vs_conn_expire`).
pub(crate) const CONTROL_POSTPONE_MS: u32 = 60_000;

/// Table construction parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnTableConfig {
    /// Hard cap on entries (connections + templates); memory never grows beyond it.
    pub max_conns: u32,
    /// Hash seed; pass a random value (the core reads no entropy itself).
    pub seed: u64,
    /// Timing-wheel tick in milliseconds: entries are removed at most one tick late.
    pub tick_ms: u32,
    /// Timing-wheel slots (rounded up to a power of two); longer timeouts are revisited.
    pub wheel_slots: u32,
    /// `--set tcp tcpfin udp` timeouts (seconds; 0 keeps the default).
    pub timeouts: Timeouts,
    /// Use the strict `secure_tcp` state table.
    pub secure_tcp: bool,
}

impl Default for ConnTableConfig {
    fn default() -> Self {
        ConnTableConfig {
            max_conns: 1 << 20,
            seed: 0,
            tick_ms: 100,
            wheel_slots: 16_384,
            timeouts: Timeouts::default(),
            secure_tcp: false,
        }
    }
}

/// What the state machine needs from a packet's transport header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// A TCP segment with its flags byte.
    Tcp(TcpFlags),
    /// A UDP datagram.
    Udp,
    /// An SCTP packet classified by its chunks.
    Sctp(SctpEvent),
}

impl Segment {
    /// Whether this packet opens a new connection for conn_reuse_mode: TCP SYN, SCTP INIT.
    pub const fn is_new_conn(self) -> bool {
        match self {
            Segment::Tcp(f) => f.syn(),
            Segment::Sctp(e) => matches!(e, SctpEvent::Init),
            Segment::Udp => false,
        }
    }
}

/// A connection to create (after scheduling chose `dest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewConn {
    /// The client-side key of the packet that opened it.
    pub key: InKey,
    /// Destination (RIP).
    pub daddr: IpAddr,
    /// Destination port.
    pub dport: u16,
    /// Forwarding method of the destination.
    pub method: ForwardMethod,
    /// Stable id of the service.
    pub service: u32,
    /// Stable id of the destination.
    pub dest: u32,
    /// Controlling persistence template, if the service is persistent.
    pub control: Option<ConnId>,
    /// `-o` one-packet scheduling: not hashed; call [`ConnTable::release`] after forwarding.
    pub one_packet: bool,
    /// Client port unknown yet (IP_VS_CONN_F_NO_CPORT); fill it with `fill_cport`.
    pub no_cport: bool,
}

/// Why an insert failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InsertError {
    /// The table is at `max_conns` and nothing expired or evictable was found (counted).
    TableFull,
    /// An entry with this key exists already (look up before inserting).
    Exists(ConnId),
    /// `control` does not name a live template.
    InvalidControl,
}

impl fmt::Display for InsertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InsertError::TableFull => f.write_str("connection table full"),
            InsertError::Exists(id) => write!(f, "connection exists (slot {})", id.0),
            InsertError::InvalidControl => f.write_str("control handle is not a live template"),
        }
    }
}

impl std::error::Error for InsertError {}

/// Why a destination's counters change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeltaReason {
    /// An entry was created (always inactive first, or a template).
    Created,
    /// A state change moved a connection between active and inactive.
    StateChange,
    /// The entry's timer ran out.
    Expired,
    /// Removed to make room in a full table.
    Evicted,
    /// Removed on request (`expire_now`, `release`, `expire_dest`).
    Removed,
}

/// A change to one destination's ActiveConn / InActConn / PersistConn counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterDelta {
    /// Service id of the entry.
    pub service: u32,
    /// Destination id of the entry.
    pub dest: u32,
    /// Change of activeconns.
    pub active: i32,
    /// Change of inactconns.
    pub inactive: i32,
    /// Change of persistconns (templates).
    pub persistent: i32,
    /// Why.
    pub reason: DeltaReason,
}

/// Table counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableStats {
    /// Entries created (connections and templates).
    pub inserted: u64,
    /// Entries removed by their timer.
    pub expired: u64,
    /// Entries evicted from a full table.
    pub evicted: u64,
    /// Inserts refused because the table was full (counted as drops `TableFull`).
    pub refused_full: u64,
    /// Entries removed on request.
    pub removed: u64,
}

/// Per-state timeouts in milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct StateTimeouts {
    pub(crate) tcp: [u32; TCP_STATES],
    pub(crate) sctp: [u32; SCTP_STATES],
    pub(crate) udp: u32,
}

pub(crate) fn secs_to_ms(secs: u32) -> u32 {
    (u64::from(secs) * 1000).min(u64::from(MAX_TIMEOUT_MS)) as u32
}

impl StateTimeouts {
    fn new(t: Timeouts) -> StateTimeouts {
        let mut s = StateTimeouts {
            tcp: TcpState::ALL.map(|s| secs_to_ms(s.default_timeout_secs())),
            sctp: SctpState::ALL.map(|s| secs_to_ms(s.default_timeout_secs())),
            udp: secs_to_ms(sctp::UDP_DEFAULT_TIMEOUT_SECS),
        };
        s.apply(t);
        s
    }

    fn apply(&mut self, t: Timeouts) {
        if t.tcp != 0 {
            self.tcp[TcpState::Established as usize] = secs_to_ms(t.tcp);
        }
        if t.tcp_fin != 0 {
            self.tcp[TcpState::FinWait as usize] = secs_to_ms(t.tcp_fin);
        }
        if t.udp != 0 {
            self.udp = secs_to_ms(t.udp);
        }
    }
}

/// The connection table of one worker. See the [module docs](super) for the contract.
#[derive(Debug, Clone)]
pub struct ConnTable {
    pub(crate) entries: Vec<Entry>,
    free_head: u32,
    live: usize,
    max: usize,
    by_client: HashTable<u32>,
    by_dest: HashTable<u32>,
    pub(crate) hasher: KeyHasher,
    pub(crate) wheel: Wheel,
    evict: EvictList,
    timeouts: StateTimeouts,
    secure_tcp: bool,
    no_cport: u32,
    pub(crate) stats: TableStats,
}

#[inline]
fn at(now: Instant, ms: u32) -> u32 {
    (now.as_millis() as u32).wrapping_add(ms)
}

impl ConnTable {
    /// An empty table; memory is allocated as entries arrive, never beyond `max_conns`.
    pub fn new(cfg: ConnTableConfig) -> ConnTable {
        ConnTable {
            entries: Vec::new(),
            free_head: NIL,
            live: 0,
            max: (cfg.max_conns as usize).min(NIL as usize >> 1),
            by_client: HashTable::new(),
            by_dest: HashTable::new(),
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

    /// Heap bytes held by the table (entries, both indices, wheel, eviction links), computed
    /// from the allocated capacities.
    pub fn memory_bytes(&self) -> usize {
        self.entries.capacity() * size_of::<Entry>()
            + self.by_client.allocation_size()
            + self.by_dest.allocation_size()
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
    #[inline]
    pub fn lookup_in_hashed(&self, key: &InKey, hash: u64) -> Option<ConnId> {
        let entries = &self.entries;
        if let Some(&i) = self
            .by_client
            .find(hash, |&i| key.matches(&entries[i as usize]))
        {
            return Some(ConnId(i));
        }
        if self.no_cport == 0 || key.cport == 0 {
            return None;
        }
        // Entries created without a client port match any client port until filled.
        let mut wild = *key;
        wild.cport = 0;
        let h = self.hasher.hash_in(&wild);
        self.by_client
            .find(h, |&i| {
                let e = &entries[i as usize];
                e.has(flag::NO_CPORT) && wild.matches(e)
            })
            .map(|&i| ConnId(i))
    }

    /// Find the NAT connection of a real server → client reply.
    #[inline]
    pub fn lookup_out(&self, key: &OutKey) -> Option<ConnId> {
        self.lookup_out_hashed(key, self.hasher.hash_out(key))
    }

    /// [`lookup_out`](Self::lookup_out) with the hash from [`hash_out`](Self::hash_out).
    #[inline]
    pub fn lookup_out_hashed(&self, key: &OutKey, hash: u64) -> Option<ConnId> {
        let entries = &self.entries;
        self.by_dest
            .find(hash, |&i| key.matches(&entries[i as usize]))
            .map(|&i| ConnId(i))
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
        let e = &self.entries[idx as usize];
        let (hs, entries) = (&self.hasher, &self.entries);
        if !e.has(flag::UNHASHED) {
            let h = hs.hash_in_entry(e);
            self.by_client
                .insert_unique(h, idx, |&i| hs.hash_in_entry(&entries[i as usize]));
        }
        if e.has(flag::OUT_HASHED) {
            let h = hs.hash_out_entry(e);
            self.by_dest
                .insert_unique(h, idx, |&i| hs.hash_out_entry(&entries[i as usize]));
        }
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
        let idx = id.0 as usize;
        let e = self.entries.get_mut(idx).filter(|e| e.has(flag::LIVE))?;
        if e.has(flag::TEMPLATE) {
            e.expires = at(now, e.timeout);
            return Some(state_of(e));
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
        Some(state_of(&self.entries[idx]))
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
        let e = &self.entries[idx as usize];
        let (hs, entries) = (&self.hasher, &self.entries);
        self.by_client
            .insert_unique(hs.hash_in_entry(e), idx, |&i| {
                hs.hash_in_entry(&entries[i as usize])
            });
        if e.has(flag::OUT_HASHED) {
            self.by_dest.insert_unique(hs.hash_out_entry(e), idx, |&i| {
                hs.hash_out_entry(&entries[i as usize])
            });
        }
    }

    /// Take an entry out of both indices (it stays in the slab).
    pub(crate) fn unhash(&mut self, idx: u32) {
        let e = &self.entries[idx as usize];
        if !e.has(flag::UNHASHED) {
            let h = self.hasher.hash_in_entry(e);
            if let Ok(o) = self.by_client.find_entry(h, |&i| i == idx) {
                o.remove();
            }
        }
        if e.has(flag::OUT_HASHED) {
            let h = self.hasher.hash_out_entry(e);
            if let Ok(o) = self.by_dest.find_entry(h, |&i| i == idx) {
                o.remove();
            }
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
