//! Counter changes reported to the caller, and the table's own counters.

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
