//! Services by (protocol, VIP, port), as `ip_vs_service_find` looks them up for every
//! packet that may start a connection.
//!
//! An open-addressing table of the configured keys, rebuilt with each snapshot: at most
//! half full, one multiply to hash, linear probing. Lookup keys come from packets, but only
//! configured keys are stored, so no packet can lengthen a probe.

use super::state::AddrKey;

/// A free bucket (no slot index is this large).
const EMPTY: u32 = u32::MAX;

/// Service slots by [`AddrKey`].
#[derive(Debug, Default, Clone)]
pub(crate) struct SvcIndex {
    /// (key, slot); `slot == EMPTY` marks a free bucket. Length a power of two, or zero.
    buckets: Vec<(AddrKey, u32)>,
    len: usize,
}

#[inline]
fn hash(k: &AddrKey) -> u64 {
    let (a, rest) = (k.0 as u64, (k.0 >> 64) as u64);
    let p = u128::from(a ^ 0x243F_6A88_85A3_08D3)
        * u128::from(rest ^ u64::from(k.1) << 7 ^ 0x1319_8A2E_0370_7344);
    (p as u64) ^ (p >> 64) as u64
}

impl SvcIndex {
    /// Forget every service.
    pub fn clear(&mut self) {
        self.buckets.clear();
        self.len = 0;
    }

    /// Add (or replace) the slot of `key`.
    pub fn insert(&mut self, key: AddrKey, slot: usize) {
        if (self.len + 1) * 2 > self.buckets.len() {
            let old = core::mem::take(&mut self.buckets);
            self.buckets = vec![((0, 0), EMPTY); (old.len() * 2).max(8)];
            self.len = 0;
            for (k, s) in old.into_iter().filter(|b| b.1 != EMPTY) {
                self.insert(k, s as usize);
            }
        }
        let mask = self.buckets.len() - 1;
        let mut i = hash(&key) as usize & mask;
        loop {
            let b = &mut self.buckets[i];
            if b.1 == EMPTY {
                *b = (key, slot as u32);
                self.len += 1;
                return;
            }
            if b.0 == key {
                b.1 = slot as u32;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// The slot of `key`.
    #[inline]
    pub fn get(&self, key: &AddrKey) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.buckets.len() - 1;
        let mut i = hash(key) as usize & mask;
        // At most half full: a free bucket always ends the probe.
        loop {
            let (k, s) = *self.buckets.get(i)?;
            if s == EMPTY {
                return None;
            }
            if k == *key {
                return Some(s as usize);
            }
            i = (i + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_key_and_nothing_else() {
        let mut ix = SvcIndex::default();
        assert_eq!(ix.get(&(1, 2)), None);
        let keys: Vec<AddrKey> = (0..300u32)
            .map(|i| (u128::from(0xCB00_7100 + i % 50), 6 << 24 | (i / 50)))
            .collect();
        for (slot, k) in keys.iter().enumerate() {
            ix.insert(*k, slot);
        }
        for (slot, k) in keys.iter().enumerate() {
            assert_eq!(ix.get(k), Some(slot));
        }
        assert_eq!(ix.get(&(0xCB00_7100, 17 << 24)), None);
        assert_eq!(ix.get(&(0xCB00_7199, 6 << 24)), None);
        ix.insert(keys[7], 1000);
        assert_eq!(ix.get(&keys[7]), Some(1000));
        assert_eq!(ix.len, 300);
        ix.clear();
        assert_eq!(ix.get(&keys[0]), None);
    }
}
