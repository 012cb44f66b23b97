//! The lookup index: open addressing over 64-byte buckets, each with 12 one-byte tags and
//! the 12 entry indices they stand for.
//!
//! A tag is the top byte of the key's hash (never 0: 0 marks an empty slot). A lookup reads
//! one bucket (one cache line), compares its 12 tags at once (a few word operations) and
//! only then touches the entries whose tag matches, so a hit costs one index line plus the
//! entry itself, and a miss usually the index line alone. (hashbrown reads a control-byte
//! group, then the slot, then the entry: one dependent cache miss more at a million
//! connections.)
//!
//! Each bucket also counts the entries that wanted it (or an earlier bucket) but had to go
//! further because it was full; a lookup moves to the next bucket only while that count is
//! non-zero, so removal needs no tombstones. The index doubles when it is 3/4 full; the
//! table never holds more than `max_conns` entries, so the index never grows past the size
//! that cap needs (12 × 3/4 = 9 entries per 64 bytes: about 7 to 14 bytes per entry).

/// Slots per bucket.
const SLOTS: usize = 12;
/// One in each byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The top bit of each byte of a word.
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// One cache line: tags, overflow count, entry indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, align(64))]
struct Bucket {
    tags: [u8; SLOTS],
    overflow: u32,
    idx: [u32; SLOTS],
}

/// Bit 7 of byte `i` set when byte `i` of `w` is zero. A byte above a zero byte may be
/// flagged too (the borrow runs on); callers confirm every candidate, and the lowest flag
/// is always exact.
#[inline]
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

impl Bucket {
    const EMPTY: Bucket = Bucket {
        tags: [0; SLOTS],
        overflow: 0,
        idx: [0; SLOTS],
    };

    /// The tag bytes as two words (the second holds tags 8..12 in its low half).
    #[inline]
    fn words(&self) -> (u64, u64) {
        let t = &self.tags;
        let lo = u64::from_le_bytes([t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]]);
        let hi = u64::from(u32::from_le_bytes([t[8], t[9], t[10], t[11]]));
        (lo, hi)
    }

    /// Candidate slots holding byte `tag` (0: the empty ones), one bit per byte (bit 8i+7
    /// of a 96-bit mask split into two words); may include false candidates.
    #[inline]
    fn candidates(&self, tag: u8) -> (u64, u64) {
        let (lo, hi) = self.words();
        let b = ONES * u64::from(tag);
        (zero_bytes(lo ^ b), zero_bytes(hi ^ b) & 0x8080_8080)
    }

    /// The first entry in this bucket with tag `tag` for which `eq` holds.
    #[inline(always)]
    fn find(&self, tag: u8, eq: &mut impl FnMut(u32) -> bool) -> Option<u32> {
        let (mut lo, mut hi) = self.candidates(tag);
        while lo != 0 {
            let i = self.idx[lo.trailing_zeros() as usize / 8];
            if eq(i) {
                return Some(i);
            }
            lo &= lo - 1;
        }
        while hi != 0 {
            let i = self.idx[8 + hi.trailing_zeros() as usize / 8];
            if eq(i) {
                return Some(i);
            }
            hi &= hi - 1;
        }
        None
    }

    /// The first empty slot.
    #[inline]
    fn free_slot(&self) -> Option<usize> {
        let (lo, hi) = self.candidates(0);
        if lo != 0 {
            Some(lo.trailing_zeros() as usize / 8)
        } else if hi != 0 {
            Some(8 + hi.trailing_zeros() as usize / 8)
        } else {
            None
        }
    }
}

/// A hash index of entry indices. The caller owns the keys: it hashes them, and it confirms
/// every tag match against the entry (`find`'s `eq`).
#[derive(Debug, Clone)]
pub(crate) struct Index {
    buckets: Vec<Bucket>,
    mask: usize,
    len: usize,
}

/// The tag of a hash: its top byte, never 0.
#[inline]
fn tag(hash: u64) -> u8 {
    ((hash >> 56) as u8).max(1)
}

impl Index {
    /// An empty index (allocates on first insert).
    pub(crate) fn new() -> Index {
        Index {
            buckets: Vec::new(),
            mask: 0,
            len: 0,
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

    /// The first indexed entry with this hash's tag for which `eq` holds.
    #[inline(always)]
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let tag = tag(hash);
        let home = hash as usize & self.mask;
        let bucket = self.buckets.get(home)?;
        if let Some(i) = bucket.find(tag, &mut eq) {
            return Some(i);
        }
        if bucket.overflow == 0 {
            return None;
        }
        self.find_further(home, tag, eq)
    }

    /// The rest of a probe whose home bucket overflowed (rare below 3/4 load).
    #[inline(never)]
    fn find_further(&self, home: usize, tag: u8, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let mut b = home;
        // Bounded by the bucket count: the load limit keeps some bucket without overflow.
        for _ in 1..self.buckets.len() {
            b = (b + 1) & self.mask;
            let bucket = &self.buckets[b];
            if let Some(i) = bucket.find(tag, &mut eq) {
                return Some(i);
            }
            if bucket.overflow == 0 {
                return None;
            }
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
        self.place(hash, tag(hash), idx);
        self.len += 1;
    }

    /// Put an entry in the first free slot from its home bucket on.
    fn place(&mut self, hash: u64, tag: u8, idx: u32) {
        let mut b = hash as usize & self.mask;
        loop {
            let bucket = &mut self.buckets[b];
            if let Some(s) = bucket.free_slot() {
                bucket.tags[s] = tag;
                bucket.idx[s] = idx;
                return;
            }
            bucket.overflow += 1;
            b = (b + 1) & self.mask;
        }
    }

    /// Rebuild with `n` buckets (a power of two).
    #[cold]
    fn grow(&mut self, n: usize, rehash: impl Fn(u32) -> u64) {
        let old = std::mem::replace(&mut self.buckets, vec![Bucket::EMPTY; n]);
        self.mask = n - 1;
        for bucket in &old {
            for (&t, &i) in bucket.tags.iter().zip(&bucket.idx) {
                if t != 0 {
                    self.place(rehash(i), t, i);
                }
            }
        }
    }

    /// Take entry `idx`, indexed under `hash`, out; false if it was not there.
    pub(crate) fn remove(&mut self, hash: u64, idx: u32) -> bool {
        let tag = tag(hash);
        let home = hash as usize & self.mask;
        let mut b = home;
        for dist in 0..self.buckets.len() {
            let bucket = &mut self.buckets[b];
            let found = (0..SLOTS).find(|&s| bucket.tags[s] == tag && bucket.idx[s] == idx);
            if let Some(s) = found {
                bucket.tags[s] = 0;
                bucket.idx[s] = 0;
                // Every bucket passed on the way here counted this entry as overflow.
                for k in 0..dist {
                    self.buckets[(home + k) & self.mask].overflow -= 1;
                }
                self.len -= 1;
                return true;
            }
            if bucket.overflow == 0 {
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

    /// A hash whose bucket bits are `home` and whose tag byte is `tag`.
    fn h(home: u64, tag: u64) -> u64 {
        home | tag << 56
    }

    #[test]
    fn finds_what_was_inserted_and_nothing_else() {
        let mut ix = Index::new();
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
        // 5000 entries at most 3/4 of 12 slots per bucket: 1024 buckets, no more.
        assert_eq!(ix.allocation_size(), 1024 * 64);
    }

    #[test]
    fn overflow_chains_survive_removal_in_any_order() {
        // 40 entries with the same home bucket spill over two more buckets.
        let mut ix = Index::new();
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
        let mut ix = Index::new();
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
    fn every_tag_byte_and_slot_is_found() {
        // Tags that differ in one bit, or look like borrows of each other, in every slot.
        for tag in [1u64, 2, 0x7f, 0x80, 0x81, 0xfe, 0xff] {
            let mut ix = Index::new();
            let hs: Vec<u64> = (0..12).map(|i| h(0, tag ^ (i & 1))).collect();
            let all = |i: u32| hs[i as usize];
            for i in 0..9u32 {
                ix.insert(hs[i as usize], i, all);
            }
            for i in 0..9u32 {
                assert_eq!(ix.find(hs[i as usize], |x| x == i), Some(i), "tag {tag:#x}");
            }
            assert!(ix.remove(hs[4], 4));
            assert_eq!(ix.find(hs[4], |x| x == 4), None);
            ix.insert(hs[4], 4, all);
            assert_eq!(ix.find(hs[4], |x| x == 4), Some(4));
        }
    }
}
