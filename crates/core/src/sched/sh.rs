//! sh — source hashing (`ip_vs_sh.c`).
//!
//! 256 buckets filled by walking the list round-robin, each destination taking
//! `max(weight, 1)` consecutive buckets per round. The client address (plus the source port
//! with `sh-port`) picks the bucket with the kernel's `hash_32`. With `sh-fallback` an
//! unusable home destination is replaced by probing the table from a deterministic offset.

use super::{DestView, SchedInput, Scheduler, fold_addr, hash_32};
use crate::Instant;
use crate::model::SchedFlags;

/// log2 of the bucket count (`CONFIG_IP_VS_SH_TAB_BITS`).
const TAB_BITS: u32 = 8;
/// Bucket count.
const TAB_SIZE: u32 = 1 << TAB_BITS;
/// Bucket index mask.
const TAB_MASK: u32 = TAB_SIZE - 1;

/// Source-hashing state: bucket → position in the list.
#[derive(Debug, Clone)]
pub struct SourceHashing {
    /// Empty when the service has no destinations.
    buckets: Vec<u32>,
    /// `sh-fallback` (SCHED1).
    fallback: bool,
    /// `sh-port` (SCHED2).
    port: bool,
}

impl SourceHashing {
    /// A scheduler with the service's `-b` flags.
    pub fn new(flags: SchedFlags) -> Self {
        SourceHashing {
            buckets: Vec::with_capacity(TAB_SIZE as usize),
            fallback: flags.fallback(),
            port: flags.port(),
        }
    }

    /// The kernel's `ip_vs_sh_hashkey`: `(offset + hash_32(port + addr, 8)) & 255`.
    pub fn hashkey(addr: &core::net::IpAddr, port: u16, offset: u32) -> u32 {
        offset.wrapping_add(hash_32(
            u32::from(port).wrapping_add(fold_addr(addr)),
            TAB_BITS,
        )) & TAB_MASK
    }

    /// The destination in bucket `b` if it is usable.
    fn usable_at(&self, dests: &[DestView], b: u32) -> Option<usize> {
        let i = *self.buckets.get(b as usize)? as usize;
        dests.get(i).filter(|d| d.usable()).map(|_| i)
    }
}

impl Scheduler for SourceHashing {
    fn name(&self) -> &'static str {
        "sh"
    }

    fn update(&mut self, dests: &[DestView]) {
        self.buckets.clear();
        if dests.is_empty() {
            return;
        }
        let (mut p, mut count) = (0usize, 0i32);
        for _ in 0..TAB_SIZE {
            self.buckets.push(p as u32);
            count += 1;
            // Weight 0 (or less) still gets one bucket per round.
            if count >= dests[p].weight {
                p = (p + 1) % dests.len();
                count = 0;
            }
        }
    }

    fn schedule(&mut self, dests: &[DestView], input: &SchedInput, _: Instant) -> Option<usize> {
        // An empty table (no destinations) has no buckets; the kernel's "empty bucket ends
        // the fallback search" can only happen then.
        if self.buckets.is_empty() {
            return None;
        }
        let port = if self.port { input.sport } else { 0 };
        let ihash = Self::hashkey(&input.src, port, 0);
        let home = self.usable_at(dests, ihash);
        if home.is_some() || !self.fallback {
            return home;
        }
        // Loop round the table from the original hash so the choice stays deterministic.
        (0..TAB_SIZE).find_map(|offset| {
            let roffset = (offset + ihash) % TAB_SIZE;
            self.usable_at(dests, Self::hashkey(&input.src, port, roffset))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::tests::{dests, input_src};

    fn key(addr: &str, port: u16) -> u32 {
        SourceHashing::hashkey(&addr.parse().unwrap(), port, 0)
    }

    #[test]
    fn hashkey_matches_hand_computed_kernel_values() {
        // hash_32(x, 8) = top byte of x * 0x61C88647 mod 2^32.
        // 10.0.0.1: 0xC6000000 + 0x61C88647 = 0x1_27C88647 → 0x27 = 39.
        assert_eq!(key("10.0.0.1", 0), 39);
        // 10.0.0.2: 0xC6000000 + 2 * 0x61C88647 (0xC3910C8E) = 0x1_89910C8E → 0x89 = 137.
        assert_eq!(key("10.0.0.2", 0), 137);
        // 192.168.1.100 = 0xC0A80164 → 0x59 = 89; with sh-port 12345 the key is
        // 0xC0A80164 + 0x3039 = 0xC0A8319D → 0xB8 = 184.
        assert_eq!(key("192.168.1.100", 0), 89);
        assert_eq!(key("192.168.1.100", 12345), 184);
        assert_eq!(
            SourceHashing::hashkey(&"10.0.0.1".parse().unwrap(), 0, 250),
            (250 + 39) & 255
        );
    }

    #[test]
    fn buckets_follow_weights_per_round() {
        // X(w1), Y(w2), Z(w0): X Y Y Z X Y Y Z ...
        let d = dests(&[1, 2, 0]);
        let mut s = SourceHashing::new(SchedFlags::default());
        s.update(&d);
        assert_eq!(&s.buckets[..8], &[0, 1, 1, 2, 0, 1, 1, 2]);
        assert_eq!(s.buckets.len(), 256);
    }

    #[test]
    fn port_flag_adds_the_source_port() {
        let d = dests(&[1; 256]); // one bucket per destination: bucket index == position
        let mut plain = SourceHashing::new(SchedFlags::default());
        let mut ported = SourceHashing::new(SchedFlags(SchedFlags::SCHED2));
        plain.update(&d);
        ported.update(&d);
        let inp = input_src("192.168.1.100", 12345);
        assert_eq!(plain.schedule(&d, &inp, Instant(0)), Some(89));
        assert_eq!(ported.schedule(&d, &inp, Instant(0)), Some(184));
    }

    #[test]
    fn fallback_probes_from_the_home_bucket() {
        let mut d = dests(&[1; 256]);
        let inp = input_src("10.0.0.1", 0); // home bucket 39
        let mut strict = SourceHashing::new(SchedFlags::default());
        let mut fb = SourceHashing::new(SchedFlags(SchedFlags::SCHED1));
        strict.update(&d);
        fb.update(&d);
        d[39].weight = 0;
        assert_eq!(strict.schedule(&d, &inp, Instant(0)), None);
        // Probe offset 0: roffset 39, bucket (39 + 39) = 78.
        assert_eq!(fb.schedule(&d, &inp, Instant(0)), Some(78));
        d[78].overloaded = true;
        // Offset 1: bucket 79.
        assert_eq!(fb.schedule(&d, &inp, Instant(0)), Some(79));
        for x in d.iter_mut() {
            x.weight = 0;
        }
        assert_eq!(fb.schedule(&d, &inp, Instant(0)), None);
    }
}
