//! fo — weighted failover (`ip_vs_fo.c`).
//!
//! All new connections go to the not-overloaded destination with the highest weight; ties
//! keep the first (newest). Counters are not consulted.

use super::{DestView, SchedInput, Scheduler};
use crate::Instant;

/// Weighted-failover scheduler (stateless).
#[derive(Debug, Default, Clone, Copy)]
pub struct WeightedFailover;

impl Scheduler for WeightedFailover {
    fn name(&self) -> &'static str {
        "fo"
    }

    fn update(&mut self, _: &[DestView]) {}

    fn schedule(&mut self, dests: &[DestView], _: &SchedInput, _: Instant) -> Option<usize> {
        let mut best = None;
        let mut hw = 0;
        for (i, d) in dests.iter().enumerate() {
            if d.weight > hw && !d.overloaded {
                // Rare after the first few: a predicted branch beats a dependent cmov chain.
                core::hint::cold_path();
                best = Some(i);
                hw = d.weight;
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
        WeightedFailover.schedule(d, &input(), Instant(0))
    }

    #[test]
    fn highest_weight_first_on_ties_regardless_of_load() {
        let mut d = dests(&[2, 5, 5, 1]);
        conns(&mut d[1], 10_000, 0);
        assert_eq!(pick(&d), Some(1));
        d[1].overloaded = true;
        assert_eq!(pick(&d), Some(2));
        d[2].weight = 0;
        assert_eq!(pick(&d), Some(0));
        assert_eq!(pick(&dests(&[0, 0])), None);
    }
}
