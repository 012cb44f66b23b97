//! What lblc and lblcr share: the "overloaded" 2× rule, the table limits and the periodic
//! garbage collection of their caches, run lazily from `schedule` with the `now` given.
//!
//! The kernel arms a 60 s timer per service. Every 30th run sweeps the whole table for
//! entries idle at least the expiration (24 h by default); other runs act only when the
//! table holds more than 16384 entries, removing entries idle 6 min or more, about
//! `min((entries − 16384) * 4/3, 8192)` of them. Here the ticks happen at the same instants
//! (every 60 s from the first `schedule`) but are processed when the next `schedule` comes.

use super::DestView;
use crate::Instant;

/// Time between collection runs (`CHECK_EXPIRE_INTERVAL`).
pub(crate) const CHECK_INTERVAL_MS: u64 = 60_000;
/// Idle time after which a partial collection may remove an entry (`ENTRY_TIMEOUT`).
pub(crate) const ENTRY_TIMEOUT_MS: u64 = 6 * 60_000;
/// Default `lblc_expiration` / `lblcr_expiration`: 24 hours.
pub(crate) const DEFAULT_EXPIRATION_MS: u64 = 24 * 3_600_000;
/// Every this many runs, a full expiration sweep (`COUNT_FOR_FULL_EXPIRATION`).
const FULL_EVERY: u64 = 30;
/// Entries beyond which partial collection starts and new entries are refused
/// (1024 buckets × 16).
pub(crate) const MAX_ENTRIES: usize = 1024 * 16;

/// lblc's own notion of overload: the destination has more active connections than its
/// weight while some destination of the service is below half of its weight.
pub(crate) fn lblc_overloaded(dests: &[DestView], i: usize) -> bool {
    let active = |d: &DestView| i64::from(d.active);
    let d = &dests[i];
    active(d) > i64::from(d.weight) && dests.iter().any(|o| active(o) * 2 < i64::from(o.weight))
}

/// Whether an entry last used at `lastuse` is at least `idle_ms` old at `at`
/// (the kernel's `!time_before(at, lastuse + idle)`).
pub(crate) fn idle_for(lastuse: Instant, at: Instant, idle_ms: u64) -> bool {
    at.0 >= lastuse.0.saturating_add(idle_ms)
}

/// A cache the collector can sweep.
pub(crate) trait Sweep {
    /// Number of entries.
    fn entries(&self) -> usize;
    /// Remove entries idle at least `idle_ms` at `at`; stop after `budget` removals if given.
    fn sweep(&mut self, at: Instant, idle_ms: u64, budget: Option<usize>);
}

/// The collector's timer state.
#[derive(Debug, Clone, Default)]
pub(crate) struct GcClock {
    /// Instant of the next timer run; None until the first `schedule`.
    next: Option<Instant>,
    /// The kernel's `counter` (starts at 1; a full sweep when it is a multiple of 30).
    counter: u64,
}

impl GcClock {
    /// Run every collection due at or before `now`, at its own instant.
    pub(crate) fn run(&mut self, now: Instant, table: &mut impl Sweep, expiration_ms: u64) {
        let Some(mut tick) = self.next else {
            self.next = Some(Instant(now.0.saturating_add(CHECK_INTERVAL_MS)));
            self.counter = 1;
            return;
        };
        while tick <= now {
            let pending = (now.0 - tick.0) / CHECK_INTERVAL_MS + 1;
            if pending > FULL_EVERY && table.entries() <= MAX_ENTRIES {
                // A long quiet spell: nothing was used in between, so the last full sweep in
                // the spell removes everything the earlier ones would have, and the table
                // only shrinks, so no partial run can happen. Jump to the end.
                let first_full = FULL_EVERY - self.counter % FULL_EVERY;
                let first_full = if first_full == FULL_EVERY {
                    0
                } else {
                    first_full
                };
                if pending > first_full {
                    let last_full =
                        first_full + (pending - 1 - first_full) / FULL_EVERY * FULL_EVERY;
                    let at = Instant(tick.0 + last_full * CHECK_INTERVAL_MS);
                    table.sweep(at, expiration_ms, None);
                    self.counter = 1 + (pending - 1 - last_full);
                } else {
                    self.counter += pending;
                }
                tick = Instant(tick.0.saturating_add(pending * CHECK_INTERVAL_MS));
                break;
            }
            self.tick(tick, table, expiration_ms);
            tick = Instant(tick.0.saturating_add(CHECK_INTERVAL_MS));
        }
        self.next = Some(tick);
    }

    /// One timer run (`ip_vs_lblc_check_expire`).
    fn tick(&mut self, at: Instant, table: &mut impl Sweep, expiration_ms: u64) {
        if self.counter.is_multiple_of(FULL_EVERY) {
            table.sweep(at, expiration_ms, None);
            self.counter = 1;
            return;
        }
        let n = table.entries();
        if n <= MAX_ENTRIES {
            self.counter += 1;
            return;
        }
        let goal = ((n - MAX_ENTRIES) * 4 / 3).min(MAX_ENTRIES / 2);
        table.sweep(at, ENTRY_TIMEOUT_MS, Some(goal));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of entries given by their last-use instants.
    struct Uses(Vec<u64>);

    impl Sweep for Uses {
        fn entries(&self) -> usize {
            self.0.len()
        }
        fn sweep(&mut self, at: Instant, idle_ms: u64, budget: Option<usize>) {
            let mut left = budget.unwrap_or(usize::MAX);
            self.0.retain(|&u| {
                let drop = left > 0 && idle_for(Instant(u), at, idle_ms);
                left -= usize::from(drop);
                !drop
            });
        }
    }

    const MIN: u64 = 60_000;

    #[test]
    fn full_sweep_every_thirtieth_tick() {
        let mut c = GcClock::default();
        let mut t = Uses(vec![0, 15 * MIN]);
        let exp = 20 * MIN;
        c.run(Instant(0), &mut t, exp); // arms the timer: ticks at 1, 2, ... minutes
        // Ticks 1..=29 only count; tick 30 (counter 30) sweeps entries idle ≥ 20 min.
        c.run(Instant(29 * MIN), &mut t, exp);
        assert_eq!(t.0.len(), 2);
        c.run(Instant(30 * MIN), &mut t, exp);
        assert_eq!(t.0, vec![15 * MIN]);
        // The next full sweep is 30 ticks later, at 60 min.
        c.run(Instant(59 * MIN + 59_999), &mut t, exp);
        assert_eq!(t.0.len(), 1);
        c.run(Instant(60 * MIN), &mut t, exp);
        assert!(t.0.is_empty());
    }

    #[test]
    fn catching_up_equals_ticking_one_by_one() {
        for gap in [1, 29, 30, 31, 59, 60, 61, 95, 1000] {
            let uses: Vec<u64> = (0..50).map(|k| k * 7 * MIN).collect();
            let exp = 90 * MIN;
            let (mut a, mut b) = (GcClock::default(), GcClock::default());
            let (mut ta, mut tb) = (Uses(uses.clone()), Uses(uses));
            a.run(Instant(5), &mut ta, exp);
            b.run(Instant(5), &mut tb, exp);
            let end = 5 + gap * MIN + 17;
            a.run(Instant(end), &mut ta, exp);
            for m in 1..=gap {
                b.run(Instant(5 + m * MIN), &mut tb, exp);
            }
            b.run(Instant(end), &mut tb, exp);
            assert_eq!(ta.0, tb.0, "gap {gap}");
            assert_eq!((a.counter, a.next), (b.counter, b.next), "gap {gap}");
        }
    }

    #[test]
    fn partial_collection_only_above_the_limit() {
        let mut c = GcClock::default();
        let mut t = Uses(vec![0; MAX_ENTRIES + 1]);
        c.run(Instant(0), &mut t, DEFAULT_EXPIRATION_MS);
        // At 1 min nothing is 6 min idle; at 6 min the goal is (1 * 4 / 3) = 1 entry.
        c.run(Instant(MIN), &mut t, DEFAULT_EXPIRATION_MS);
        assert_eq!(t.0.len(), MAX_ENTRIES + 1);
        c.run(Instant(6 * MIN), &mut t, DEFAULT_EXPIRATION_MS);
        assert_eq!(t.0.len(), MAX_ENTRIES);
    }

    #[test]
    fn two_times_weight_rule() {
        let mut d = crate::sched::tests::dests(&[2, 4]);
        d[0].active = 3; // more active than weight
        d[1].active = 2; // 2 * 2 == 4: not below half
        assert!(!lblc_overloaded(&d, 0));
        d[1].active = 1; // 1 * 2 < 4: someone is below half its weight
        assert!(lblc_overloaded(&d, 0));
        d[0].active = 2; // active == weight: not overloaded
        assert!(!lblc_overloaded(&d, 0));
    }
}
