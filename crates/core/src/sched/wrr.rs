//! wrr — weighted round robin (`ip_vs_wrr.c`).
//!
//! Passes over the list with a falling "current weight" `cw`: a destination is taken when
//! its weight is at least `cw`; after each full pass `cw` drops by the gcd of the weights.
//! The kernel starts from `mw = max − (gcd − 1)` so that the last pass has `cw = 1` and also
//! catches weights below the gcd (set concurrently); we keep that exactly.

use super::{DestView, SchedInput, Scheduler, gcd};
use crate::Instant;

/// Weighted round-robin state (`struct ip_vs_wrr_mark`).
#[derive(Debug, Default, Clone)]
pub struct WeightedRoundRobin {
    /// Last chosen position (None = list head).
    cursor: Option<usize>,
    /// Current weight.
    cw: i32,
    /// Maximum weight minus (di − 1).
    mw: i32,
    /// Decreasing interval: the gcd of the positive weights (1 if none).
    di: i32,
}

impl WeightedRoundRobin {
    /// A scheduler with no destinations yet.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Scheduler for WeightedRoundRobin {
    fn name(&self) -> &'static str {
        "wrr"
    }

    fn update(&mut self, dests: &[DestView]) {
        let g = dests
            .iter()
            .map(|d| d.weight)
            .filter(|&w| w > 0)
            .fold(0, |g, w| if g > 0 { gcd(w, g) } else { w });
        let max = dests.iter().map(|d| d.weight).fold(0, i32::max);
        self.cursor = None;
        self.di = if g > 0 { g } else { 1 };
        self.mw = max - (self.di - 1);
        if self.cw > self.mw || self.cw == 0 {
            self.cw = self.mw;
        } else if self.di > 1 {
            self.cw = (self.cw / self.di) * self.di + 1;
        }
    }

    fn schedule(&mut self, dests: &[DestView], _: &SchedInput, _: Instant) -> Option<usize> {
        if self.mw <= 0 {
            return None;
        }
        let n = dests.len();
        let last = self.cursor.filter(|&c| c < n);
        let mut pos = last;
        // `stop` makes the final cw = 1 pass end at `last` when the walk started mid-list.
        let mut stop: Option<usize> = None;
        let mut last_pass = false;
        let mut restarted = false;
        loop {
            let from = pos.map_or(0, |p| p + 1);
            for (i, d) in dests.iter().enumerate().skip(from) {
                if !d.overloaded && d.weight >= self.cw {
                    self.cursor = Some(i);
                    return Some(i);
                }
                if stop == Some(i) {
                    self.cursor = Some(i);
                    return None;
                }
            }
            pos = None;
            self.cw -= self.di;
            if self.cw <= 0 {
                self.cw = self.mw;
                // A second wrap, or a wrap after a walk that began at the head, means every
                // destination was already checked against cw = 1: all are overloaded.
                if last_pass || last.is_none() {
                    self.cursor = None;
                    return None;
                }
                restarted = true;
            }
            last_pass = self.cw <= self.di;
            if last_pass && restarted && last.is_some() {
                stop = last;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::tests::{dests, run};

    fn sequence(weights: &[i32], len: usize) -> String {
        let d = dests(weights);
        let mut s = WeightedRoundRobin::new();
        s.update(&d);
        run(&mut s, &d, len)
            .iter()
            .map(|&i| char::from(b'A' + i as u8))
            .collect()
    }

    #[test]
    fn kernel_sequences() {
        assert_eq!(sequence(&[4, 3, 2], 18), "AABABCABCAABABCABC");
        assert_eq!(sequence(&[1, 1, 1], 6), "ABCABC");
        assert_eq!(sequence(&[5, 1, 1], 7), "AAAAABC");
        assert_eq!(sequence(&[2, 4, 6], 12), "CBCABCCBCABC");
        assert_eq!(sequence(&[3, 0, 1], 8), "AAACAAAC");
    }

    #[test]
    fn all_quiesced_or_overloaded_gives_none() {
        let d = dests(&[0, 0]);
        let mut s = WeightedRoundRobin::new();
        s.update(&d);
        assert_eq!(run(&mut s, &d, 2), Vec::<usize>::new());
        let mut d = dests(&[3, 2]);
        s.update(&d);
        assert_eq!(run(&mut s, &d, 1), vec![0]);
        d[0].overloaded = true;
        d[1].overloaded = true;
        assert_eq!(run(&mut s, &d, 3), Vec::<usize>::new());
        d[1].overloaded = false;
        assert_eq!(run(&mut s, &d, 3), vec![1, 1, 1]);
    }

    #[test]
    fn an_update_restarts_from_the_head_and_rounds_cw() {
        // gcd 2: cw is rounded to (cw / di) * di + 1 when the set changes.
        let d = dests(&[4, 2]);
        let mut s = WeightedRoundRobin::new();
        s.update(&d);
        assert_eq!((s.di, s.mw, s.cw), (2, 3, 3));
        assert_eq!(run(&mut s, &d, 1), vec![0]);
        s.update(&d);
        assert_eq!(s.cw, 3);
        assert_eq!(s.cursor, None);
    }
}
