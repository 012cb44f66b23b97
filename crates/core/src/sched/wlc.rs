//! wlc — weighted least connection (`ip_vs_wlc.c`), the default scheduler.
//!
//! Minimises `overhead / weight` without dividing: a later destination wins only when
//! `overhead(best) * weight(d) > overhead(d) * weight(best)`, so ties keep the first.

use super::{DestView, SchedInput, Scheduler, weighted_least};
use crate::Instant;

/// Weighted least-connection scheduler (stateless).
#[derive(Debug, Default, Clone, Copy)]
pub struct WeightedLeastConnection;

impl Scheduler for WeightedLeastConnection {
    fn name(&self) -> &'static str {
        "wlc"
    }

    fn update(&mut self, _: &[DestView]) {}

    fn schedule(&mut self, dests: &[DestView], _: &SchedInput, _: Instant) -> Option<usize> {
        weighted_least(dests, DestView::overhead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::tests::{conns, dests, input};

    fn pick(d: &[DestView]) -> Option<usize> {
        WeightedLeastConnection.schedule(d, &input(), Instant(0))
    }

    #[test]
    fn compares_overhead_per_weight() {
        let mut d = dests(&[1, 3]);
        conns(&mut d[0], 1, 0); // 256 / 1
        conns(&mut d[1], 2, 0); // 512 / 3: lighter
        assert_eq!(pick(&d), Some(1));
        conns(&mut d[1], 3, 0); // 768 / 3 == 256 / 1: tie keeps the first
        assert_eq!(pick(&d), Some(0));
        conns(&mut d[1], 3, 1); // 769 / 3 > 256 / 1
        assert_eq!(pick(&d), Some(0));
    }

    #[test]
    fn quiesced_never_wins_even_when_idle() {
        let mut d = dests(&[0, 1]);
        conns(&mut d[1], 1000, 1000);
        assert_eq!(pick(&d), Some(1));
        d[1].overloaded = true;
        assert_eq!(pick(&d), None);
    }

    #[test]
    fn no_overflow_with_huge_counters_and_weights() {
        let mut d = dests(&[i32::MAX, 1]);
        conns(&mut d[0], u32::MAX, u32::MAX);
        conns(&mut d[1], u32::MAX - 1, 0);
        assert_eq!(pick(&d), Some(0));
    }
}
