//! nq — never queue (`ip_vs_nq.c`).
//!
//! The first usable destination with no active connection is taken at once; otherwise the
//! choice is sed's (`(active + 1) / weight`, ties to the first).

use super::sed::expected_delay;
use super::{DestView, SchedInput, Scheduler, lighter};
use crate::Instant;

/// Never-queue scheduler (stateless).
#[derive(Debug, Default, Clone, Copy)]
pub struct NeverQueue;

impl Scheduler for NeverQueue {
    fn name(&self) -> &'static str {
        "nq"
    }

    fn update(&mut self, _: &[DestView]) {}

    fn schedule(&mut self, dests: &[DestView], _: &SchedInput, _: Instant) -> Option<usize> {
        // As in `weighted_least`: a phantom best of weight 0 loses to any weight > 0, and
        // a negative weight read as unsigned is refused by `usable` when it would win.
        let (mut best, mut b_oh, mut b_w) = (None, 1, 0);
        for (i, d) in dests.iter().enumerate() {
            if d.active == 0 && d.usable() {
                return Some(i);
            }
            let (oh, w) = (expected_delay(d), u64::from(d.weight as u32));
            if lighter(oh, w, b_oh, b_w) && d.usable() {
                // Rare after the first few: a predicted branch beats a dependent cmov chain.
                core::hint::cold_path();
                (best, b_oh, b_w) = (Some(i), oh, w);
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
        NeverQueue.schedule(d, &input(), Instant(0))
    }

    #[test]
    fn first_idle_destination_wins_regardless_of_weight() {
        let mut d = dests(&[100, 1, 1]);
        conns(&mut d[0], 1, 0);
        conns(&mut d[1], 0, 50); // idle: inactive connections don't count
        assert_eq!(pick(&d), Some(1));
    }

    #[test]
    fn otherwise_behaves_like_sed() {
        let mut d = dests(&[1, 4, 2]);
        conns(&mut d[0], 1, 0); // 2/1
        conns(&mut d[1], 3, 0); // 4/4
        conns(&mut d[2], 1, 0); // 2/2: tie with 1, the first (1) is kept
        assert_eq!(pick(&d), Some(1));
        d[1].weight = 0;
        assert_eq!(pick(&d), Some(2));
        d[0].overloaded = true;
        d[2].overloaded = true;
        assert_eq!(pick(&d), None);
    }
}
