//! The lookup index: open addressing over 64-byte buckets of 32-bit slots.
//!
//! A slot holds an entry index in its low bits and, above it, a tag taken from the top bits
//! of the key's hash (0 = empty slot). A lookup reads one bucket (one cache line), compares
//! the tags of its 15 slots at once and only then touches the entries whose tag matches, so
//! a hit costs one index line plus the entry itself, and a miss usually the index line alone.
//! (hashbrown needs a control-byte group, then the slot, then the entry: one dependent miss
//! more at a million connections.)
//!
//! The 16th word of a bucket counts the entries that wanted this bucket (or an earlier one)
//! but had to go further because it was full; a lookup moves to the next bucket only while
//! that count is non-zero, so removal needs no tombstones. The index doubles when it is 3/4
//! full; the table never holds more than `max_conns` entries, so the index never grows past
//! the size that cap needs.

/// Usable slots per bucket; the last word is the overflow count.
const SLOTS: usize = 15;
/// Word of a bucket holding its overflow count.
const OVERFLOW: usize = 15;

/// One cache line of slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, align(64))]
struct Bucket([u32; 16]);

impl Bucket {
    const EMPTY: Bucket = Bucket([0; 16]);

    /// Bit `i` set when slot `i` holds tag `want` (written so it compiles to vector compares).
    #[inline]
    fn matches(&self, want: u32, tag_mask: u32) -> u32 {
        let mut hits = 0u32;
        for (i, &s) in self.0.iter().enumerate() {
            hits |= u32::from(s & tag_mask == want) << i;
        }
        hits & ((1 << SLOTS) - 1)
    }
}

/// A hash index of entry indices. The caller owns the keys: it hashes them, and it confirms
/// every tag match against the entry (`find`'s `eq`).
#[derive(Debug, Clone)]
pub(crate) struct Index {
    buckets: Vec<Bucket>,
    mask: usize,
    len: usize,
    /// Bits of an entry index (enough for `max_conns - 1`).
    idx_bits: u32,
    /// Right shift that brings the tag bits of a hash down.
    tag_shift: u32,
}

impl Index {
    /// An empty index for entry indices below `max` (allocates on first insert).
    pub(crate) fn new(max: usize) -> Index {
        let top = (max.saturating_sub(1).max(1)).min(u32::MAX as usize >> 1) as u32;
        let idx_bits = 32 - top.leading_zeros();
        Index {
            buckets: Vec::new(),
            mask: 0,
            len: 0,
            idx_bits,
            tag_shift: 64 - (32 - idx_bits),
        }
    }

    /// Number of indexed entries.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes allocated.
    pub(crate) fn allocation_size(&self) -> usize {
        self.buckets.capacity() * size_of::<Bucket>()
    }

    #[inline]
    fn idx_mask(&self) -> u32 {
        (1u32 << self.idx_bits) - 1
    }

    /// The tag of `hash`, in place (never 0, so an empty slot never matches).
    #[inline]
    fn tag(&self, hash: u64) -> u32 {
        ((hash >> self.tag_shift) as u32).max(1) << self.idx_bits
    }

    /// The first indexed entry with this hash's tag for which `eq` holds.
    #[inline]
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let want = self.tag(hash);
        let idx_mask = self.idx_mask();
        let mut b = hash as usize & self.mask;
        // Bounded by the bucket count: the load limit keeps some bucket without overflow.
        for _ in 0..self.buckets.len() {
            let bucket = &self.buckets[b];
            let mut hits = bucket.matches(want, !idx_mask);
            while hits != 0 {
                let idx = bucket.0[hits.trailing_zeros() as usize] & idx_mask;
                if eq(idx) {
                    return Some(idx);
                }
                hits &= hits - 1;
            }
            if bucket.0[OVERFLOW] == 0 {
                return None;
            }
            b = (b + 1) & self.mask;
        }
        None
    }

    /// Index entry `idx` under `hash` (the caller guarantees it is not indexed yet).
    /// `rehash` gives the hash of any indexed entry, for growing.
    pub(crate) fn insert(&mut self, hash: u64, idx: u32, rehash: impl Fn(u32) -> u64) {
        let buckets = self.buckets.len();
        if self.len + 1 > buckets * SLOTS - buckets * SLOTS / 4 {
            self.grow((buckets * 2).max(1), rehash);
        }
        let value = self.tag(hash) | idx;
        self.place(hash, value);
        self.len += 1;
    }

    /// Put a slot value in the first free slot from its home bucket on.
    fn place(&mut self, hash: u64, value: u32) {
        let mut b = hash as usize & self.mask;
        loop {
            let bucket = &mut self.buckets[b];
            if let Some(s) = bucket.0[..SLOTS].iter_mut().find(|s| **s == 0) {
                *s = value;
                return;
            }
            bucket.0[OVERFLOW] += 1;
            b = (b + 1) & self.mask;
        }
    }

    /// Rebuild with `n` buckets (a power of two).
    #[cold]
    fn grow(&mut self, n: usize, rehash: impl Fn(u32) -> u64) {
        let old = std::mem::replace(&mut self.buckets, vec![Bucket::EMPTY; n]);
        self.mask = n - 1;
        let idx_mask = self.idx_mask();
        for bucket in &old {
            for &s in bucket.0[..SLOTS].iter().filter(|&&s| s != 0) {
                self.place(rehash(s & idx_mask), s);
            }
        }
    }

    /// Take entry `idx`, indexed under `hash`, out; false if it was not there.
    pub(crate) fn remove(&mut self, hash: u64, idx: u32) -> bool {
        let value = self.tag(hash) | idx;
        let home = hash as usize & self.mask;
        let mut b = home;
        for dist in 0..self.buckets.len() {
            let bucket = &mut self.buckets[b];
            if let Some(s) = bucket.0[..SLOTS].iter_mut().find(|s| **s == value) {
                *s = 0;
                // Every bucket passed on the way here counted this entry as overflow.
                for k in 0..dist {
                    self.buckets[(home + k) & self.mask].0[OVERFLOW] -= 1;
                }
                self.len -= 1;
                return true;
            }
            if bucket.0[OVERFLOW] == 0 {
                return false;
            }
            b = (b + 1) & self.mask;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hash whose bucket bits are `home` and whose tag bits are `tag`.
    fn h(home: u64, tag: u64) -> u64 {
        home | tag << 52
    }

    #[test]
    fn finds_what_was_inserted_and_nothing_else() {
        let mut ix = Index::new(1 << 20);
        let hash = |i: u32| u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for i in 0..5000 {
            ix.insert(hash(i), i, hash);
        }
        assert_eq!(ix.len(), 5000);
        for i in 0..5000 {
            assert_eq!(ix.find(hash(i), |x| x == i), Some(i));
        }
        assert_eq!(ix.find(hash(7000), |x| x == 7000), None);
        for i in (0..5000).step_by(2) {
            assert!(ix.remove(hash(i), i));
        }
        assert!(!ix.remove(hash(0), 0));
        for i in 0..5000 {
            let want = (i % 2 == 1).then_some(i);
            assert_eq!(ix.find(hash(i), |x| x == i), want);
        }
        // 5000 entries at most 3/4 of 15 slots per bucket: 512 buckets, no more.
        assert_eq!(ix.allocation_size(), 512 * 64);
    }

    #[test]
    fn overflow_chains_survive_removal_in_any_order() {
        // 40 entries with the same home bucket spill over two more buckets.
        let mut ix = Index::new(1000);
        let all = |_: u32| h(3, 1);
        for round in 0..2 {
            for i in 0..40u32 {
                ix.insert(h(3, 1), i, all);
            }
            for i in 0..40u32 {
                assert_eq!(ix.find(h(3, 1), |x| x == i), Some(i), "round {round}");
            }
            // Remove from the middle of the chain first, then the rest.
            for i in (0..40u32).rev().step_by(3).chain(0..40) {
                ix.remove(h(3, 1), i);
            }
            assert_eq!(ix.len(), 0);
            assert!(ix.buckets.iter().all(|b| *b == Bucket::EMPTY));
        }
    }

    #[test]
    fn tags_separate_entries_and_zero_tags_still_match() {
        let mut ix = Index::new(16);
        let mut calls = 0;
        ix.insert(h(0, 5), 1, |_| 0);
        ix.insert(h(0, 0), 2, |_| 0);
        // A different tag never reaches `eq`.
        assert_eq!(
            ix.find(h(0, 6), |_| {
                calls += 1;
                true
            }),
            None
        );
        assert_eq!(calls, 0);
        assert_eq!(ix.find(h(0, 0), |x| x == 2), Some(2));
        assert!(ix.remove(h(0, 0), 2));
        assert!(!ix.remove(h(0, 5), 2));
    }

    #[test]
    fn widest_indices_leave_a_one_bit_tag() {
        let ix = Index::new(u32::MAX as usize);
        assert_eq!(ix.idx_bits, 31);
        assert_eq!(ix.tag(0), 1 << 31);
        assert_eq!(ix.tag(u64::MAX), 1 << 31);
    }
}
