//! twos — weighted power of two choices (`ip_vs_twos.c`, Linux ≥ 5.12).
//!
//! Two destinations are drawn at random with probability proportional to weight; the one
//! with the lower `overhead / weight` wins (the first draw on ties). The random numbers come
//! from a small deterministic generator seeded per service, so runs are reproducible.

use super::{DestView, SchedInput, Scheduler, lighter, weight_of};
use crate::Instant;

/// SplitMix64: tiny, fast, and good enough to spread choices; not for secrets.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0), by Lemire's multiply-and-reject; the division
    /// for the rejection threshold is only needed in the rare low-product case.
    fn below(&mut self, bound: u64) -> u64 {
        let mut m = u128::from(self.next_u64()) * u128::from(bound);
        if (m as u64) < bound {
            let threshold = bound.wrapping_neg() % bound;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(bound);
            }
        }
        (m >> 64) as u64
    }
}

/// Power-of-two-choices scheduler state: its random generator.
#[derive(Debug, Clone)]
pub struct PowerOfTwoChoices {
    rng: SplitMix64,
}

impl PowerOfTwoChoices {
    /// A scheduler whose draws are fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        PowerOfTwoChoices {
            rng: SplitMix64(seed),
        }
    }
}

impl Scheduler for PowerOfTwoChoices {
    fn name(&self) -> &'static str {
        "twos"
    }

    fn update(&mut self, _: &[DestView]) {}

    fn schedule(&mut self, dests: &[DestView], _: &SchedInput, _: Instant) -> Option<usize> {
        let total: u64 = dests
            .iter()
            .filter(|d| d.usable())
            .map(|d| d.weight as u64)
            .sum();
        if total == 0 {
            return None;
        }
        // Both draws are inclusive of `total`, as in the kernel (get_random_u32_below(total+1)),
        // so 0 lands on the first usable destination. A draw picks the first usable
        // destination at which the running weight sum reaches it (the kernel subtracts
        // weights until the draw is <= 0).
        let r1 = self.rng.below(total + 1);
        let r2 = self.rng.below(total + 1);
        // Both draws in one walk: up to the smaller, then on to the larger.
        let (lo, hi) = (r1.min(r2), r1.max(r2));
        let mut walk = dests.iter().enumerate().filter(|(_, d)| d.usable());
        let mut sum = 0u64;
        let mut at_lo = None;
        for (i, d) in walk.by_ref() {
            sum += d.weight as u64;
            if sum >= lo {
                at_lo = Some(i);
                break;
            }
        }
        let mut at_hi = at_lo.filter(|_| sum >= hi);
        if at_hi.is_none() {
            for (i, d) in walk {
                sum += d.weight as u64;
                if sum >= hi {
                    at_hi = Some(i);
                    break;
                }
            }
        }
        let (c1, c2) = if r1 <= r2 {
            (at_lo, at_hi)
        } else {
            (at_hi, at_lo)
        };
        // Draws never exceed the total, so both are found; c2 replaces c1 only if lighter.
        let (a, b) = (c1?, c2?);
        let (da, db) = (&dests[a], &dests[b]);
        Some(
            if lighter(db.overhead(), weight_of(db), da.overhead(), weight_of(da)) {
                b
            } else {
                a
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::tests::{conns, dests, input, run};

    /// The draws as the kernel makes them, one list walk per draw.
    fn reference(rng: &mut SplitMix64, dests: &[DestView]) -> Option<usize> {
        let total: u64 = dests
            .iter()
            .filter(|d| d.usable())
            .map(|d| d.weight as u64)
            .sum();
        if total == 0 {
            return None;
        }
        let pick = |r: u64| {
            let mut sum = 0u64;
            dests.iter().position(|d| {
                sum += if d.usable() { d.weight as u64 } else { 0 };
                d.usable() && sum >= r
            })
        };
        let (r1, r2) = (rng.below(total + 1), rng.below(total + 1));
        let (a, b) = (pick(r1)?, pick(r2)?);
        let (da, db) = (&dests[a], &dests[b]);
        Some(
            if lighter(db.overhead(), weight_of(db), da.overhead(), weight_of(da)) {
                b
            } else {
                a
            },
        )
    }

    proptest::proptest! {
        #[test]
        fn one_pass_draws_match_the_kernels_walks(
            seed in proptest::prelude::any::<u64>(),
            spec in proptest::collection::vec((0i32..6, 0u32..4, proptest::prelude::any::<bool>()), 1..20),
        ) {
            let mut d = dests(&spec.iter().map(|s| s.0).collect::<Vec<_>>());
            for (v, &(_, active, overloaded)) in d.iter_mut().zip(&spec) {
                conns(v, active, 0);
                v.overloaded = overloaded;
            }
            let mut s = PowerOfTwoChoices::new(seed);
            let mut r = SplitMix64(seed);
            for _ in 0..8 {
                proptest::prop_assert_eq!(s.schedule(&d, &input(), Instant(0)), reference(&mut r, &d));
            }
        }
    }

    #[test]
    fn same_seed_same_choices() {
        let d = dests(&[1, 2, 3, 4, 5]);
        let mut a = PowerOfTwoChoices::new(42);
        let mut b = PowerOfTwoChoices::new(42);
        let mut c = PowerOfTwoChoices::new(43);
        let (ra, rb, rc) = (
            run(&mut a, &d, 64),
            run(&mut b, &d, 64),
            run(&mut c, &d, 64),
        );
        assert_eq!(ra, rb);
        assert_ne!(ra, rc);
    }

    #[test]
    fn idle_destinations_share_by_weight() {
        // With no connections every comparison ties, so the first draw decides: frequency
        // follows weight (the +1 of the inclusive draw adds one share to the first).
        let d = dests(&[1, 3]);
        let mut s = PowerOfTwoChoices::new(7);
        let picks = run(&mut s, &d, 5000);
        let ones = picks.iter().filter(|&&i| i == 1).count();
        // Expected 3/5 of the draws land on index 1 (draws 2..=4 of 0..=4).
        assert!((2700..3300).contains(&ones), "{ones}");
    }

    #[test]
    fn the_lighter_of_the_two_wins() {
        let mut d = dests(&[1, 1]);
        conns(&mut d[0], 100, 0);
        let mut s = PowerOfTwoChoices::new(1);
        let picks = run(&mut s, &d, 1000);
        // Index 0 only wins when both draws pick it: about (2/3)^2 of the time.
        let zeros = picks.iter().filter(|&&i| i == 0).count();
        assert!(zeros < 600, "{zeros}");
        let mut none = dests(&[0, 3]);
        none[1].overloaded = true;
        assert_eq!(s.schedule(&none, &input(), Instant(0)), None);
    }
}
