//! The core's director as the workers' packet processor.
//!
//! rvsd builds one `Director` per worker in the [`crate::Dataplane::start`] factory and
//! installs snapshots with [`crate::Dataplane::query`], e.g.
//! `dp.query(move |d: &mut Director| d.set_snapshot(snap.clone()), timeout)`.

use std::net::IpAddr;

use rvs_core::director::{Director, Offload};
use rvs_core::{Instant, Verdict};

use crate::processor::PacketProcessor;

impl PacketProcessor for Director {
    fn process(&mut self, buf: &mut [u8], start: usize, len: usize, now: Instant) -> Verdict {
        Director::process(self, buf, start, len, now)
    }

    fn tick(&mut self, now: Instant) {
        Director::tick(self, now)
    }

    fn offload(
        &self,
        proto: u8,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
    ) -> Option<Offload> {
        Director::offload(self, proto, src, sport, dst, dport)
    }

    fn offload_refresh(
        &mut self,
        o: &Offload,
        packets: u64,
        bytes: u64,
        last_seen: Instant,
        now: Instant,
    ) -> bool {
        Director::offload_refresh(self, o, packets, bytes, last_seen, now)
    }

    fn offload_generation(&self) -> u64 {
        Director::offload_generation(self)
    }
}
