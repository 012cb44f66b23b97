//! lblcr — locality-based least connection with replication (`ip_vs_lblcr.c`).
//!
//! Like lblc, but each address maps to a *set* of servers. The least loaded (wlc) member
//! serves; when it is missing or overloaded by the 2× rule, wlc over the whole service picks
//! a server that joins the set. A set with more than one member that has not changed for the
//! expiration (24 h) loses its most loaded member. Sets are lists with the newest member
//! first, as in the kernel, so ties go to the member added last.

use core::net::IpAddr;
use std::collections::HashMap;

use foldhash::fast::FixedState;

use super::locality::{
    DEFAULT_EXPIRATION_MS, GcClock, MAX_ENTRIES, Sweep, idle_for, lblc_overloaded,
};
use super::{DestIndex, DestView, SchedInput, Scheduler, lighter, weight_of, weighted_least};
use crate::Instant;

/// Initial capacity of the cache and of the member pool, reserved on the first update.
const INITIAL_ENTRIES: usize = 1024;
/// End of a member list.
const NIL: u32 = u32::MAX;

/// One cache entry (`struct ip_vs_lblcr_entry` with its `ip_vs_dest_set`).
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// First member in the pool (NIL when empty).
    head: u32,
    /// Number of members.
    size: u32,
    /// Last change of the member set.
    lastmod: Instant,
    /// Last lookup by a new connection.
    lastuse: Instant,
}

/// A set member: a destination id, linked to the next member.
#[derive(Debug, Clone, Copy)]
struct Member {
    dest: u32,
    next: u32,
}

/// Pool of set members, so that sets grow without an allocation each.
#[derive(Debug, Clone)]
struct Pool {
    slots: Vec<Member>,
    free: u32,
}

impl Pool {
    fn alloc(&mut self, dest: u32, next: u32) -> u32 {
        let m = Member { dest, next };
        if self.free != NIL {
            let k = self.free;
            self.free = self.slots[k as usize].next;
            self.slots[k as usize] = m;
            k
        } else {
            self.slots.push(m);
            (self.slots.len() - 1) as u32
        }
    }

    fn release(&mut self, k: u32) {
        self.slots[k as usize].next = self.free;
        self.free = k;
    }

    /// Free every member of the list starting at `head`.
    fn release_list(&mut self, mut head: u32) {
        while head != NIL {
            let next = self.slots[head as usize].next;
            self.release(head);
            head = next;
        }
    }

    fn iter(&self, head: u32) -> impl Iterator<Item = u32> + '_ {
        let mut k = head;
        core::iter::from_fn(move || {
            let m = self.slots.get(k as usize)?;
            k = m.next;
            Some(m.dest)
        })
    }

    /// Unlink the first member naming `dest`; true if one was found.
    fn unlink(&mut self, e: &mut Entry, dest: u32) -> bool {
        let mut prev = NIL;
        let mut k = e.head;
        while k != NIL {
            let m = self.slots[k as usize];
            if m.dest == dest {
                if prev == NIL {
                    e.head = m.next;
                } else {
                    self.slots[prev as usize].next = m.next;
                }
                self.release(k);
                e.size -= 1;
                return true;
            }
            prev = k;
            k = m.next;
        }
        false
    }

    /// The weighted least-loaded usable member (`ip_vs_dest_set_min`).
    fn set_min(&self, head: u32, index: &DestIndex, dests: &[DestView]) -> Option<usize> {
        let mut best: Option<(usize, u64, u64)> = None;
        for id in self.iter(head) {
            let Some(i) = index.find(dests, id).filter(|&i| dests[i].usable()) else {
                continue;
            };
            let (oh, w) = (dests[i].overhead(), weight_of(&dests[i]));
            match best {
                Some((_, b_oh, b_w)) if !lighter(oh, w, b_oh, b_w) => {}
                _ => best = Some((i, oh, w)),
            }
        }
        best.map(|(i, _, _)| i)
    }

    /// The weighted most-loaded member with weight (`ip_vs_dest_set_max`); flags ignored.
    fn set_max(&self, head: u32, index: &DestIndex, dests: &[DestView]) -> Option<u32> {
        let mut most: Option<(u32, u64, u64)> = None;
        for id in self.iter(head) {
            let Some(d) = index.find(dests, id).map(|i| &dests[i]) else {
                continue;
            };
            if d.weight <= 0 {
                continue;
            }
            let (oh, w) = (d.overhead(), weight_of(d));
            match most {
                // moh/mw < doh/dw ⇔ moh * dw < doh * mw, strict: ties keep the earlier.
                Some((_, m_oh, m_w)) if !lighter(m_oh, m_w, oh, w) => {}
                _ => most = Some((id, oh, w)),
            }
        }
        most.map(|(id, _, _)| id)
    }
}

/// The cache with its member pool.
#[derive(Debug, Clone)]
struct Table {
    map: HashMap<IpAddr, Entry, FixedState>,
    pool: Pool,
}

impl Sweep for Table {
    fn entries(&self) -> usize {
        self.map.len()
    }

    fn sweep(&mut self, at: Instant, idle_ms: u64, budget: Option<usize>) {
        let mut left = budget.unwrap_or(usize::MAX);
        let pool = &mut self.pool;
        self.map.retain(|_, e| {
            let drop = left > 0 && idle_for(e.lastuse, at, idle_ms);
            if drop {
                left -= 1;
                pool.release_list(e.head);
            }
            !drop
        });
    }
}

/// Locality-based least-connection-with-replication state.
#[derive(Debug, Clone)]
pub struct LocalityLeastConnectionReplicated {
    table: Table,
    gc: GcClock,
    index: DestIndex,
    expiration_ms: u64,
}

impl LocalityLeastConnectionReplicated {
    /// A scheduler with the default expiration (24 h); `seed` keys the cache's hasher.
    pub fn new(seed: u64) -> Self {
        Self::with_expiration(
            seed,
            core::time::Duration::from_millis(DEFAULT_EXPIRATION_MS),
        )
    }

    /// A scheduler with the `lblcr_expiration` sysctl set to `expiration`.
    pub fn with_expiration(seed: u64, expiration: core::time::Duration) -> Self {
        LocalityLeastConnectionReplicated {
            table: Table {
                map: HashMap::with_hasher(FixedState::with_seed(seed)),
                pool: Pool {
                    slots: Vec::new(),
                    free: NIL,
                },
            },
            gc: GcClock::default(),
            index: DestIndex::default(),
            expiration_ms: expiration.as_millis().try_into().unwrap_or(u64::MAX),
        }
    }

    /// Number of cached addresses.
    pub fn cached(&self) -> usize {
        self.table.map.len()
    }

    /// The destination ids in the set cached for `addr`, newest first.
    pub fn cached_set(&self, addr: &IpAddr) -> Vec<u32> {
        self.table
            .map
            .get(addr)
            .map(|e| self.table.pool.iter(e.head).collect())
            .unwrap_or_default()
    }
}

impl Scheduler for LocalityLeastConnectionReplicated {
    fn name(&self) -> &'static str {
        "lblcr"
    }

    fn update(&mut self, dests: &[DestView]) {
        self.index.rebuild(dests);
        if self.table.map.capacity() == 0 {
            self.table.map.reserve(INITIAL_ENTRIES);
            self.table.pool.slots.reserve(INITIAL_ENTRIES);
        }
        // Deleted servers leave every set (the kernel keeps them, unavailable, until the
        // set shrinks; dropping them now keeps `size` meaning "servers that can serve").
        let Table { map, pool } = &mut self.table;
        for e in map.values_mut() {
            let gone: Vec<u32> = pool
                .iter(e.head)
                .filter(|id| !self.index.contains(*id))
                .collect();
            for id in gone {
                pool.unlink(e, id);
            }
        }
    }

    fn schedule(&mut self, dests: &[DestView], input: &SchedInput, now: Instant) -> Option<usize> {
        self.gc.run(now, &mut self.table, self.expiration_ms);
        let Table { map, pool } = &mut self.table;
        let index = &self.index;
        let entries = map.len();
        let Some(e) = map.get_mut(&input.dst) else {
            let i = weighted_least(dests, DestView::overhead)?;
            if entries <= MAX_ENTRIES {
                let head = pool.alloc(dests[i].id, NIL);
                let e = Entry {
                    head,
                    size: 1,
                    lastmod: now,
                    lastuse: now,
                };
                map.insert(input.dst, e);
            }
            return Some(i);
        };
        e.lastuse = now;
        let min = pool.set_min(e.head, index, dests);
        // A set unchanged for the expiration sheds its most loaded member.
        let stale = e.size > 1 && now.0 > e.lastmod.0.saturating_add(self.expiration_ms);
        if stale && let Some(m) = pool.set_max(e.head, index, dests) {
            pool.unlink(e, m);
            e.lastmod = now;
        }
        if let Some(i) = min.filter(|&i| !lblc_overloaded(dests, i)) {
            return Some(i);
        }
        let i = weighted_least(dests, DestView::overhead)?;
        let id = dests[i].id;
        if !pool.iter(e.head).any(|m| m == id) {
            e.head = pool.alloc(id, e.head);
            e.size += 1;
            e.lastmod = now;
        }
        Some(i)
    }
}

#[cfg(test)]
mod tests;
