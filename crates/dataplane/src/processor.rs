//! What a worker calls for every received frame: the LVS core, or any other processor.

use rvs_core::{Instant, Verdict};

/// A per-worker packet processor (the core's director, or a test double).
///
/// `buf` is the whole UMEM frame (4096 bytes); the packet is `buf[start..start + len]`, and
/// at least [`crate::xsk::KERNEL_HEADROOM`] bytes before `start` are free for a tunnel header.
/// On `Verdict::Forward` the processor returns where the rewritten frame now lies; the
/// worker fills in the Ethernet MAC addresses and transmits it.
pub trait PacketProcessor: Send + 'static {
    /// Decide what happens to one frame; may rewrite it in place.
    fn process(&mut self, buf: &mut [u8], start: usize, len: usize, now: Instant) -> Verdict;
    /// Periodic work (expiry, rates); called at least every tick interval.
    fn tick(&mut self, now: Instant);
}
