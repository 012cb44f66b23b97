//! What a worker calls for every received frame: the LVS core, or any other processor.

use std::net::IpAddr;

use rvs_core::director::Offload;
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

    /// How the XDP fast path may forward further packets like the one just forwarded
    /// (tuple as received, ports in host order); `None` (the default): never offload.
    fn offload(
        &self,
        _proto: u8,
        _src: IpAddr,
        _sport: u16,
        _dst: IpAddr,
        _dport: u16,
    ) -> Option<Offload> {
        None
    }

    /// Account for packets the fast path forwarded for `o` (the last at `last_seen`);
    /// false: the offload no longer holds and its entry must go.
    fn offload_refresh(
        &mut self,
        _o: &Offload,
        _packets: u64,
        _bytes: u64,
        _last_seen: Instant,
        _now: Instant,
    ) -> bool {
        false
    }

    /// Changes whenever earlier offloads may be stale (configuration changed).
    fn offload_generation(&self) -> u64 {
        0
    }
}
