//! dh — destination hashing (`ip_vs_dh.c`).
//!
//! 256 buckets filled round-robin with the destinations in list order (weights ignored);
//! the packet's destination address picks the bucket with the kernel's `hash_32`. An
//! unusable destination in the bucket means no destination: there is no fallback.

use super::{DestView, SchedInput, Scheduler, fold_addr, hash_32};
use crate::Instant;

/// log2 of the bucket count (`CONFIG_IP_VS_DH_TAB_BITS`).
const TAB_BITS: u32 = 8;
/// Bucket count.
const TAB_SIZE: usize = 1 << TAB_BITS;

/// Destination-hashing state: bucket → position in the list.
#[derive(Debug, Clone)]
pub struct DestinationHashing {
    /// Empty when the service has no destinations.
    buckets: Vec<u32>,
}

impl DestinationHashing {
    /// A scheduler with no destinations yet.
    pub fn new() -> Self {
        DestinationHashing {
            buckets: Vec::with_capacity(TAB_SIZE),
        }
    }

    /// The bucket the kernel uses for this address.
    pub fn bucket(addr: &core::net::IpAddr) -> usize {
        hash_32(fold_addr(addr), TAB_BITS) as usize
    }
}

impl Default for DestinationHashing {
    fn default() -> Self {
        Self::new()
    }
}

impl Scheduler for DestinationHashing {
    fn name(&self) -> &'static str {
        "dh"
    }

    fn update(&mut self, dests: &[DestView]) {
        self.buckets.clear();
        if !dests.is_empty() {
            let n = dests.len();
            self.buckets.extend((0..TAB_SIZE).map(|i| (i % n) as u32));
        }
    }

    fn schedule(&mut self, dests: &[DestView], input: &SchedInput, _: Instant) -> Option<usize> {
        let i = *self.buckets.get(Self::bucket(&input.dst))? as usize;
        dests.get(i).filter(|d| d.usable()).map(|_| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::tests::{dests, input_from_to};

    #[test]
    fn bucket_is_the_kernels_hash_32() {
        // hash_32(x, 8) = (x * 0x61C88647 mod 2^32) >> 24, worked by hand for 10.0.0.1:
        // 0x0A000000 * 0x61C88647 mod 2^32 = (0x0A * 0x47 mod 256) << 24 = 0xC6000000;
        // + 0x61C88647 = 0x1_27C88647 → mod 2^32 0x27C88647 → top byte 0x27 = 39.
        assert_eq!(DestinationHashing::bucket(&"10.0.0.1".parse().unwrap()), 39);
        // IPv6 folds the four words by XOR: 2001:db8::1 → 0x20010DB8 ^ 0 ^ 0 ^ 1 = 0x20010DB9.
        let v6 = DestinationHashing::bucket(&"2001:db8::1".parse().unwrap());
        assert_eq!(v6, hash_32(0x2001_0DB9, 8) as usize);
    }

    #[test]
    fn buckets_cycle_through_the_list_and_unusable_gives_none() {
        let mut d = dests(&[1, 5, 0]);
        let mut s = DestinationHashing::new();
        s.update(&d);
        // Bucket 39 → 39 mod 3 = 0.
        let inp = input_from_to("198.51.100.7", "10.0.0.1");
        assert_eq!(s.schedule(&d, &inp, Instant(0)), Some(0));
        d[0].overloaded = true;
        assert_eq!(s.schedule(&d, &inp, Instant(0)), None);
        s.update(&[]);
        assert_eq!(s.schedule(&[], &inp, Instant(0)), None);
    }
}
