//! Which source addresses may be real servers: a packet whose source is not one cannot be a
//! NAT reply, so its reply-side lookup is skipped.
//!
//! Every packet that matches no client-side connection (every new connection) would
//! otherwise pay a second hash and probe of the connection table. The filter is a bitmap
//! over a hash of the address: no false negatives (every address inserted reads as
//! possibly present), and false positives only cost the lookup that would have happened
//! anyway.
//!
//! What must be inserted: the address of every destination a connection entry may name,
//! i.e. every destination the worker still knows (deleted ones linger while connections
//! use them) and, should a destination id ever change address, its old address too.

/// Bits in the filter (a power of two).
const BITS: usize = 4096;

/// A set of addresses with false positives and no false negatives.
#[derive(Debug, Clone)]
pub(crate) struct RipFilter {
    bits: Box<[u64; BITS / 64]>,
}

impl Default for RipFilter {
    fn default() -> Self {
        RipFilter {
            bits: Box::new([0; BITS / 64]),
        }
    }
}

impl RipFilter {
    /// Bit of an address (16-byte form, IPv4 in the first four bytes).
    #[inline]
    fn bit(addr: &[u8; 16]) -> usize {
        let (a, b) = addr.split_at(8);
        let a = u64::from_ne_bytes(a.try_into().unwrap_or_default());
        let b = u64::from_ne_bytes(b.try_into().unwrap_or_default());
        let h = (a ^ b.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> (64 - BITS.trailing_zeros())) as usize
    }

    /// Forget every address.
    pub fn clear(&mut self) {
        self.bits.fill(0);
    }

    /// Add an address.
    pub fn insert(&mut self, addr: &[u8; 16]) {
        let b = Self::bit(addr);
        self.bits[b / 64] |= 1 << (b % 64);
    }

    /// False only when `addr` was never inserted since the last [`RipFilter::clear`].
    #[inline]
    pub fn may_contain(&self, addr: &[u8; 16]) -> bool {
        let b = Self::bit(addr);
        self.bits[b / 64] & (1 << (b % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: u8, b: u8) -> [u8; 16] {
        let mut r = [0; 16];
        r[..4].copy_from_slice(&[198, 51, a, b]);
        r
    }

    #[test]
    fn inserted_addresses_are_always_found_and_most_others_not() {
        let mut f = RipFilter::default();
        for i in 0..64 {
            f.insert(&v4(100, i));
        }
        for i in 0..64 {
            assert!(f.may_contain(&v4(100, i)));
        }
        let strangers = (0..=255u8)
            .flat_map(|a| (0..=255u8).map(move |b| (a, b)))
            .filter(|&(a, _)| a != 100)
            .filter(|&(a, b)| f.may_contain(&v4(a, b)))
            .count();
        // 64 of 4096 bits set: about 1.6 % false positives.
        assert!(strangers < 65_280 / 20, "{strangers} false positives");
        f.clear();
        assert!(!f.may_contain(&v4(100, 1)));
    }
}
