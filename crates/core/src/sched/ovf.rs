//! ovf — weighted overflow (`ip_vs_ovf.c`).
//!
//! The highest-weight destination takes connections until its active connections exceed its
//! weight, then the next highest, and so on. Only active connections count, which is why the
//! kernel documents it as unsuitable for UDP.

use super::{DestView, SchedInput, Scheduler};
use crate::Instant;

/// Weighted-overflow scheduler (stateless).
#[derive(Debug, Default, Clone, Copy)]
pub struct WeightedOverflow;

impl Scheduler for WeightedOverflow {
    fn name(&self) -> &'static str {
        "ovf"
    }

    fn update(&mut self, _: &[DestView]) {}

    fn schedule(&mut self, dests: &[DestView], _: &SchedInput, _: Instant) -> Option<usize> {
        // Starting from 0, `w > hw` also skips weight 0 (and below), as the kernel does.
        let (mut best, mut hw) = (None, 0);
        for (i, d) in dests.iter().enumerate() {
            let w = d.weight;
            if w > hw && i64::from(d.active) <= i64::from(w) && !d.overloaded {
                // Rare after the first few: a predicted branch beats a dependent cmov chain.
                core::hint::cold_path();
                (best, hw) = (Some(i), w);
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
        WeightedOverflow.schedule(d, &input(), Instant(0))
    }

    #[test]
    fn overflows_to_the_next_weight_when_active_exceeds_weight() {
        let mut d = dests(&[2, 3, 3]);
        assert_eq!(pick(&d), Some(1));
        conns(&mut d[1], 3, 100); // active == weight: still takes more
        assert_eq!(pick(&d), Some(1));
        conns(&mut d[1], 4, 0); // active > weight: overflow to the equal-weight next one
        assert_eq!(pick(&d), Some(2));
        conns(&mut d[2], 4, 0);
        assert_eq!(pick(&d), Some(0));
        conns(&mut d[0], 3, 0);
        assert_eq!(pick(&d), None);
    }

    #[test]
    fn skips_quiesced_and_overloaded() {
        let mut d = dests(&[0, 1, 9]);
        d[2].overloaded = true;
        assert_eq!(pick(&d), Some(1));
    }
}
