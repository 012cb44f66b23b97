//! A hashed timing wheel over entry indices, with lazy re-arming.
//!
//! Every live entry sits in exactly one slot: the one for the tick at (or after) its due time
//! when it was last scheduled. Packets do NOT move an entry in the wheel; they only push the
//! entry's expiry forward. When a slot's tick passes, the table looks at each entry in it:
//! expired ones are removed, the others are put back at their current due time. So a packet
//! costs one store, and draining due slots (`pop_due`) costs O(ticks passed + entries visited); an entry is
//! visited at most once per timeout period (or once per wheel span for longer timeouts).
//!
//! Slots are intrusive doubly-linked lists stored in a `Vec<Links>` parallel to the entries,
//! so unlinking an entry (eviction, forced expiry) is O(1) and nothing allocates per entry.

/// "No entry".
pub(crate) const NIL: u32 = u32::MAX;
/// `prev` of a slot's first entry: this bit plus the slot number.
const HEAD: u32 = 0x8000_0000;

/// Links of one entry in an intrusive doubly-linked list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Links {
    pub(crate) prev: u32,
    pub(crate) next: u32,
}

impl Links {
    /// Links of an entry in no list.
    pub(crate) const UNLINKED: Links = Links {
        prev: NIL,
        next: NIL,
    };
}

/// The wheel.
#[derive(Debug, Clone)]
pub(crate) struct Wheel {
    links: Vec<Links>,
    heads: Box<[u32]>,
    mask: u64,
    tick_ms: u64,
    /// The next tick to process; slot lists hold ticks `next_tick .. next_tick + slots`.
    next_tick: u64,
    len: usize,
}

impl Wheel {
    /// A wheel of `slots` (rounded up to a power of two, at least 2) ticks of `tick_ms`.
    pub(crate) fn new(slots: usize, tick_ms: u32) -> Wheel {
        let slots = slots.max(2).next_power_of_two();
        Wheel {
            links: Vec::new(),
            heads: vec![NIL; slots + 1].into_boxed_slice(),
            mask: slots as u64 - 1,
            tick_ms: u64::from(tick_ms.max(1)),
            next_tick: 0,
            len: 0,
        }
    }

    /// Bytes allocated by the wheel.
    pub(crate) fn allocation_size(&self) -> usize {
        self.links.capacity() * size_of::<Links>() + self.heads.len() * size_of::<u32>()
    }

    /// Number of entries scheduled.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Make room for index `idx` (indices are handed out densely by the slab).
    pub(crate) fn grow_to(&mut self, idx: u32, cap: usize) {
        let need = idx as usize + 1;
        if self.links.len() < need {
            if self.links.capacity() < need {
                let target = (self.links.capacity() * 2).clamp(need, cap.max(need));
                self.links.reserve_exact(target - self.links.len());
            }
            self.links.resize(need, Links::UNLINKED);
        }
    }

    /// Put `idx` in the slot for absolute time `due_ms` (clamped to the wheel's window);
    /// `now_ms` is the present.
    pub(crate) fn schedule(&mut self, idx: u32, due_ms: u64, now_ms: u64) {
        let window = self.mask; // slots - 1
        if self.len == 0 {
            // An empty wheel jumps to the present instead of sweeping idle ticks later.
            self.next_tick = self.next_tick.max(now_ms / self.tick_ms);
        }
        let tick = due_ms.div_ceil(self.tick_ms);
        let tick = tick.clamp(self.next_tick, self.next_tick + window);
        let slot = (tick & self.mask) as u32;
        let head = self.heads[slot as usize];
        self.links[idx as usize] = Links {
            prev: HEAD | slot,
            next: head,
        };
        if head != NIL {
            self.links[head as usize].prev = idx;
        }
        self.heads[slot as usize] = idx;
        self.len += 1;
    }

    /// Take `idx` out of its slot.
    pub(crate) fn unlink(&mut self, idx: u32) {
        let Links { prev, next } = self.links[idx as usize];
        if prev == NIL {
            return;
        }
        if prev & HEAD != 0 {
            self.heads[(prev & !HEAD) as usize] = next;
        } else {
            self.links[prev as usize].next = next;
        }
        if next != NIL {
            self.links[next as usize].prev = prev;
        }
        self.links[idx as usize] = Links::UNLINKED;
        self.len -= 1;
    }

    /// The next entry whose slot's tick has passed by `now_ms`, taken out of the wheel; `None`
    /// when no due slot holds entries. The caller must drop the entry or `schedule` it again.
    ///
    /// Due slots are moved whole onto a drain list (an extra slot), so entries taken or
    /// re-scheduled while draining never confuse the walk, and `unlink` works on drained
    /// entries too. A gap longer than the wheel sweeps each slot once.
    pub(crate) fn pop_due(&mut self, now_ms: u64) -> Option<u32> {
        let drain = self.heads.len() - 1;
        let target = now_ms / self.tick_ms;
        loop {
            let head = self.heads[drain];
            if head != NIL {
                self.unlink(head);
                return Some(head);
            }
            if self.len == 0 || self.next_tick > target {
                return None;
            }
            let slots = self.mask + 1;
            if target - self.next_tick >= slots {
                self.next_tick = target + 1 - slots;
            }
            let slot = (self.next_tick & self.mask) as usize;
            self.next_tick += 1;
            let first = std::mem::replace(&mut self.heads[slot], NIL);
            if first != NIL {
                self.links[first as usize].prev = HEAD | drain as u32;
                self.heads[drain] = first;
            }
        }
    }

    /// The earliest time at which `pop_due` may find work: the start of the first non-empty
    /// slot's tick, or `None` when the wheel is empty.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        if self.heads[self.heads.len() - 1] != NIL {
            return Some(self.next_tick.saturating_sub(1) * self.tick_ms);
        }
        (0..=self.mask)
            .map(|i| self.next_tick + i)
            .find(|t| self.heads[(t & self.mask) as usize] != NIL)
            .map(|t| t * self.tick_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drain everything due at `now`, handing each entry to `f`; returns the count.
    fn advance(w: &mut Wheel, now: u64, mut f: impl FnMut(&mut Wheel, u32)) -> usize {
        let mut n = 0;
        while let Some(i) = w.pop_due(now) {
            f(w, i);
            n += 1;
        }
        n
    }

    fn wheel_with(n: u32, slots: usize, tick: u32) -> Wheel {
        let mut w = Wheel::new(slots, tick);
        for i in 0..n {
            w.grow_to(i, n as usize);
        }
        w
    }

    #[test]
    fn fires_at_or_after_due_never_before() {
        let mut w = wheel_with(3, 16, 100);
        w.schedule(0, 250, 0);
        w.schedule(1, 300, 0);
        w.schedule(2, 1000, 0);
        let mut fired = Vec::new();
        advance(&mut w, 299, |_, i| fired.push(i));
        assert!(fired.is_empty(), "{fired:?}");
        advance(&mut w, 300, |_, i| fired.push(i));
        fired.sort();
        assert_eq!(fired, [0, 1]);
        advance(&mut w, 999, |_, i| fired.push(i));
        assert_eq!(fired.len(), 2);
        advance(&mut w, 1000, |_, i| fired.push(i));
        assert_eq!(fired, [0, 1, 2]);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn unlink_removes_from_any_position() {
        let mut w = wheel_with(4, 8, 10);
        for i in 0..4 {
            w.schedule(i, 50, 0);
        }
        w.unlink(2);
        w.unlink(3); // the head
        w.unlink(3); // twice is harmless
        let mut fired = Vec::new();
        advance(&mut w, 50, |_, i| fired.push(i));
        fired.sort();
        assert_eq!(fired, [0, 1]);
    }

    #[test]
    fn far_due_is_revisited_and_rescheduled() {
        // 8 slots of 10 ms = 80 ms window; a 500 ms due is visited early, put back, and
        // fires only once its time has come.
        let mut w = wheel_with(1, 8, 10);
        w.schedule(0, 500, 0);
        let mut visits = 0;
        let mut fired_at = None;
        let mut now = 0;
        while fired_at.is_none() && now < 1000 {
            now += 10;
            advance(&mut w, now, |w, i| {
                visits += 1;
                if now >= 500 {
                    fired_at = Some(now);
                } else {
                    w.schedule(i, 500, now);
                }
            });
        }
        assert_eq!(fired_at, Some(500));
        assert!(visits <= 8, "visits {visits}");
    }

    #[test]
    fn long_gap_sweeps_everything_once() {
        let mut w = wheel_with(3, 8, 10);
        w.schedule(0, 20, 0);
        w.schedule(1, 40, 0);
        w.schedule(2, 60, 0);
        let mut fired = Vec::new();
        let n = advance(&mut w, 1_000_000, |_, i| fired.push(i));
        assert_eq!(n, 3);
        assert_eq!(w.len(), 0);
        assert_eq!(w.next_deadline(), None);
    }

    #[test]
    fn empty_wheel_jumps_to_present() {
        let mut w = wheel_with(2, 8, 10);
        w.schedule(0, 10_000_050, 10_000_000);
        assert_eq!(w.next_deadline(), Some(10_000_050));
        let mut n = 0;
        assert_eq!(advance(&mut w, 10_000_040, |_, _| n += 1), 0);
        // A due time in the past lands in the next tick to process.
        w.schedule(1, 5, 10_000_040);
        assert_eq!(advance(&mut w, 10_000_050, |_, _| n += 1), 2);
        assert_eq!(n, 2);
    }
}
