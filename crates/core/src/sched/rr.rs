//! rr — round robin (`ip_vs_rr.c`).
//!
//! A cursor remembers the last chosen destination; each new connection goes to the next
//! usable one in list order, wrapping around. Weights other than 0 are ignored.

use super::{DestView, SchedInput, Scheduler};
use crate::Instant;

/// Round-robin scheduler state: the cursor, as a position in the list (None = list head).
#[derive(Debug, Default, Clone)]
pub struct RoundRobin {
    cursor: Option<usize>,
    /// Destination ids of the last update, to follow the cursor across list edits.
    ids: Vec<u32>,
}

impl RoundRobin {
    /// A scheduler whose cursor starts at the list head.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Scheduler for RoundRobin {
    fn name(&self) -> &'static str {
        "rr"
    }

    fn update(&mut self, dests: &[DestView]) {
        // The kernel's cursor is a list pointer: additions (at the head) don't move it, and
        // when its destination is deleted it steps back to the predecessor. Several deletions
        // at once equal the nearest surviving predecessor; none left means the head.
        self.cursor = self.cursor.and_then(|c| {
            let old = self.ids.get(..=c)?;
            old.iter()
                .rev()
                .find_map(|id| dests.iter().position(|d| d.id == *id))
        });
        self.ids.clear();
        self.ids.extend(dests.iter().map(|d| d.id));
    }

    fn schedule(&mut self, dests: &[DestView], _: &SchedInput, _: Instant) -> Option<usize> {
        let n = dests.len();
        // Walk from the element after the cursor round to the cursor itself (checked last);
        // from the head, that is one pass over the whole list.
        let (tail, wrapped) = match self.cursor {
            Some(c) if c < n => (c + 1..n, 0..c + 1),
            _ => (0..n, 0..0),
        };
        let found = tail.chain(wrapped).find(|&i| dests[i].usable())?;
        self.cursor = Some(found);
        Some(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::tests::{dest, dests, input, run};

    #[test]
    fn rotates_in_list_order_from_the_head() {
        // Added A, B, C: list order C, B, A; the first pick is the head.
        let d = dests(&[1, 1, 1]);
        let mut s = RoundRobin::new();
        s.update(&d);
        assert_eq!(run(&mut s, &d, 7), vec![0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn skips_quiesced_and_overloaded() {
        let mut d = dests(&[5, 0, 1, 2]);
        d[3].overloaded = true;
        let mut s = RoundRobin::new();
        s.update(&d);
        assert_eq!(run(&mut s, &d, 4), vec![0, 2, 0, 2]);
        let none = dests(&[0, 0]);
        s.update(&none);
        assert_eq!(s.schedule(&none, &input(), Instant(0)), None);
    }

    #[test]
    fn deleting_the_cursor_steps_back_to_its_predecessor() {
        let d = dests(&[1, 1, 1, 1]); // ids 0..4
        let mut s = RoundRobin::new();
        s.update(&d);
        assert_eq!(run(&mut s, &d, 3), vec![0, 1, 2]); // cursor on id 2
        // Delete id 2: cursor moves to id 1, so the next pick is id 3.
        let d2: Vec<_> = d.iter().copied().filter(|x| x.id != 2).collect();
        s.update(&d2);
        let got = s.schedule(&d2, &input(), Instant(0)).map(|i| d2[i].id);
        assert_eq!(got, Some(3));
    }

    #[test]
    fn a_new_head_does_not_move_the_cursor() {
        let d = dests(&[1, 1]); // ids 0, 1
        let mut s = RoundRobin::new();
        s.update(&d);
        assert_eq!(run(&mut s, &d, 1), vec![0]); // cursor on id 0
        let mut d2 = vec![dest(9, 1)];
        d2.extend_from_slice(&d);
        s.update(&d2);
        let ids: Vec<u32> = run(&mut s, &d2, 3).iter().map(|&i| d2[i].id).collect();
        assert_eq!(ids, vec![1, 9, 0]);
    }
}
