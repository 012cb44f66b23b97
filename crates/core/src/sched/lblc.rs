//! lblc — locality-based least connection (`ip_vs_lblc.c`).
//!
//! A cache maps each packet destination address (the VIP, or the origin server's address
//! in transparent cache clusters) to one real server. A cached server is reused while it
//! has weight and is not "overloaded" by lblc's 2× rule; otherwise wlc picks a server and
//! the cache entry is replaced. Entries expire by the periodic collection (see
//! [`locality`](super::locality)).
//!
//! One deliberate difference from the kernel: a cached server carrying the OVERLOAD flag
//! (`-x` upper threshold) is not reused. The kernel's cache hit forgets to check the flag;
//! every other path, and every other scheduler, honours it.

use core::net::IpAddr;
use std::collections::HashMap;

use foldhash::fast::FixedState;

use super::locality::{
    DEFAULT_EXPIRATION_MS, GcClock, MAX_ENTRIES, Sweep, idle_for, lblc_overloaded,
};
use super::{DestIndex, DestView, SchedInput, Scheduler, weighted_least};
use crate::Instant;

/// Initial capacity of the cache, reserved on the first update.
const INITIAL_ENTRIES: usize = 1024;

/// One cache entry (`struct ip_vs_lblc_entry`).
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Stable id of the cached destination.
    dest: u32,
    /// Last time a new connection looked this address up.
    lastuse: Instant,
}

/// The cache, keyed by packet destination address, with a seeded hasher so that clients
/// cannot aim many addresses at one bucket.
#[derive(Debug, Clone)]
struct Table(HashMap<IpAddr, Entry, FixedState>);

impl Sweep for Table {
    fn entries(&self) -> usize {
        self.0.len()
    }

    fn sweep(&mut self, at: Instant, idle_ms: u64, budget: Option<usize>) {
        let mut left = budget.unwrap_or(usize::MAX);
        self.0.retain(|_, e| {
            let drop = left > 0 && idle_for(e.lastuse, at, idle_ms);
            left -= usize::from(drop);
            !drop
        });
    }
}

/// Locality-based least-connection state: the cache and its collector.
#[derive(Debug, Clone)]
pub struct LocalityLeastConnection {
    table: Table,
    gc: GcClock,
    index: DestIndex,
    expiration_ms: u64,
}

impl LocalityLeastConnection {
    /// A scheduler with the default expiration (24 h); `seed` keys the cache's hasher.
    pub fn new(seed: u64) -> Self {
        Self::with_expiration(
            seed,
            core::time::Duration::from_millis(DEFAULT_EXPIRATION_MS),
        )
    }

    /// A scheduler with the `lblc_expiration` sysctl set to `expiration`.
    pub fn with_expiration(seed: u64, expiration: core::time::Duration) -> Self {
        LocalityLeastConnection {
            table: Table(HashMap::with_hasher(FixedState::with_seed(seed))),
            gc: GcClock::default(),
            index: DestIndex::default(),
            expiration_ms: expiration.as_millis().try_into().unwrap_or(u64::MAX),
        }
    }

    /// Number of cached addresses.
    pub fn cached(&self) -> usize {
        self.table.0.len()
    }

    /// The destination id cached for `addr`, if any.
    pub fn cached_dest(&self, addr: &IpAddr) -> Option<u32> {
        self.table.0.get(addr).map(|e| e.dest)
    }
}

impl Scheduler for LocalityLeastConnection {
    fn name(&self) -> &'static str {
        "lblc"
    }

    fn update(&mut self, dests: &[DestView]) {
        self.index.rebuild(dests);
        if self.table.0.capacity() == 0 {
            self.table.0.reserve(INITIAL_ENTRIES);
        }
    }

    fn schedule(&mut self, dests: &[DestView], input: &SchedInput, now: Instant) -> Option<usize> {
        self.gc.run(now, &mut self.table, self.expiration_ms);
        if let Some(e) = self.table.0.get_mut(&input.dst) {
            e.lastuse = now;
            let cached = self.index.find(dests, e.dest);
            if let Some(i) = cached.filter(|&i| dests[i].usable() && !lblc_overloaded(dests, i)) {
                return Some(i);
            }
        }
        let i = weighted_least(dests, DestView::overhead)?;
        let id = dests[i].id;
        let len = self.table.0.len();
        match self.table.0.get_mut(&input.dst) {
            // Replacing keeps the count; the kernel deletes and re-creates with lastuse now.
            Some(e) if e.dest != id => {
                *e = Entry {
                    dest: id,
                    lastuse: now,
                };
            }
            // The same server again: the lookup already refreshed lastuse.
            Some(_) => {}
            // The kernel refuses a new entry only when already above the limit.
            None if len <= MAX_ENTRIES => {
                self.table.0.insert(
                    input.dst,
                    Entry {
                        dest: id,
                        lastuse: now,
                    },
                );
            }
            None => {}
        }
        Some(i)
    }
}

#[cfg(test)]
mod tests;
