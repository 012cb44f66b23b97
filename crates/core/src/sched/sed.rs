//! sed — shortest expected delay (`ip_vs_sed.c`).
//!
//! As wlc, but the overhead is `active + 1`: the expected delay of the new connection if it
//! joins that queue. Inactive connections are ignored.

use super::{DestView, SchedInput, Scheduler, weighted_least};
use crate::Instant;

/// The overhead sed and nq compare: active connections plus the one being placed.
pub(crate) fn expected_delay(d: &DestView) -> u64 {
    u64::from(d.active) + 1
}

/// Shortest-expected-delay scheduler (stateless).
#[derive(Debug, Default, Clone, Copy)]
pub struct ShortestExpectedDelay;

impl Scheduler for ShortestExpectedDelay {
    fn name(&self) -> &'static str {
        "sed"
    }

    fn update(&mut self, _: &[DestView]) {}

    fn schedule(&mut self, dests: &[DestView], _: &SchedInput, _: Instant) -> Option<usize> {
        weighted_least(dests, expected_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::tests::{conns, dests, input};

    fn pick(d: &[DestView]) -> Option<usize> {
        ShortestExpectedDelay.schedule(d, &input(), Instant(0))
    }

    #[test]
    fn minimises_active_plus_one_over_weight() {
        let mut d = dests(&[1, 2]);
        // (0+1)/1 vs (1+1)/2: a tie, so the first is kept.
        conns(&mut d[1], 1, 0);
        assert_eq!(pick(&d), Some(0));
        // (0+1)/1 vs (0+1)/2: the heavier idle destination wins.
        conns(&mut d[1], 0, 0);
        assert_eq!(pick(&d), Some(1));
    }

    #[test]
    fn ignores_inactive_connections() {
        let mut d = dests(&[1, 1]);
        conns(&mut d[0], 0, 10_000);
        conns(&mut d[1], 1, 0);
        assert_eq!(pick(&d), Some(0));
    }
}
