//! The core's director as the workers' packet processor.
//!
//! rvsd builds one `Director` per worker in the [`crate::Dataplane::start`] factory and
//! installs snapshots with [`crate::Dataplane::query`], e.g.
//! `dp.query(move |d: &mut Director| d.set_snapshot(snap.clone()), timeout)`.

use rvs_core::director::Director;
use rvs_core::{Instant, Verdict};

use crate::processor::PacketProcessor;

impl PacketProcessor for Director {
    fn process(&mut self, buf: &mut [u8], start: usize, len: usize, now: Instant) -> Verdict {
        Director::process(self, buf, start, len, now)
    }

    fn tick(&mut self, now: Instant) {
        Director::tick(self, now)
    }
}
