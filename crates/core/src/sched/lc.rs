//! lc — least connection (`ip_vs_lc.c`).
//!
//! The usable destination with the smallest overhead `active * 256 + inactive`; weights
//! other than 0 do not matter. Ties keep the first (newest) destination.

use super::{DestView, SchedInput, Scheduler};
use crate::Instant;

/// Least-connection scheduler (stateless).
#[derive(Debug, Default, Clone, Copy)]
pub struct LeastConnection;

impl Scheduler for LeastConnection {
    fn name(&self) -> &'static str {
        "lc"
    }

    fn update(&mut self, _: &[DestView]) {}

    fn schedule(&mut self, dests: &[DestView], _: &SchedInput, _: Instant) -> Option<usize> {
        // Overheads are below 2^41, so u64::MAX is beaten by the first usable destination.
        let (mut best, mut least) = (None, u64::MAX);
        for (i, d) in dests.iter().enumerate() {
            let oh = d.overhead();
            if oh < least && d.usable() {
                // Rare after the first few: a predicted branch beats a dependent cmov chain.
                core::hint::cold_path();
                (best, least) = (Some(i), oh);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::tests::{conns, dests, input};

    fn pick(d: &[DestView]) -> Option<usize> {
        LeastConnection.schedule(d, &input(), Instant(0))
    }

    #[test]
    fn one_active_outweighs_255_inactive() {
        // overhead = active * 256 + inactive: 1 active (256) > 255 inactive.
        let mut d = dests(&[1, 1]);
        conns(&mut d[0], 1, 0);
        conns(&mut d[1], 0, 255);
        assert_eq!(pick(&d), Some(1));
        conns(&mut d[1], 0, 256); // equal overhead: the first wins
        assert_eq!(pick(&d), Some(0));
        conns(&mut d[1], 0, 257);
        assert_eq!(pick(&d), Some(0));
    }

    #[test]
    fn ignores_weight_magnitude_and_skips_unusable() {
        let mut d = dests(&[100, 1, 0, 1]);
        conns(&mut d[0], 5, 0);
        conns(&mut d[1], 4, 0);
        conns(&mut d[3], 4, 0);
        assert_eq!(pick(&d), Some(1), "tie between 1 and 3 keeps the first");
        d[1].overloaded = true;
        assert_eq!(pick(&d), Some(3));
        assert_eq!(pick(&dests(&[0, 0])), None);
    }
}
