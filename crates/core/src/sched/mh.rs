//! mh — Maglev hashing (`ip_vs_mh.c`, Linux ≥ 4.18).
//!
//! Each destination gets a pseudo-random permutation of the 4093 lookup slots (offset and
//! skip from SipHash-1-3 of its address and port under the kernel's fixed keys); slots are
//! handed out round-robin, `turns` per destination per round, so shares follow weights and
//! removing a destination moves few clients. A client (address, plus source port with
//! `mh-port`) hashes to one slot. Quiescing (weight 0) keeps the slots: the kernel builds the
//! table from the last non-zero weight.

use super::{DestView, SchedInput, Scheduler, fold_addr, gcd};
use crate::Instant;
use crate::model::SchedFlags;

/// Lookup table size: the prime picked by `CONFIG_IP_VS_MH_TAB_INDEX=12`.
pub const MH_TABLE_SIZE: usize = 4093;
/// `IP_VS_MH_TAB_BITS`: weights are scaled down to about this many bits.
const TAB_BITS: u32 = 6;
/// hsiphash key for offsets and lookups (both words).
const KEY1: u64 = 2_654_435_761;
/// hsiphash key for skips (both words).
const KEY2: u64 = 2_654_446_892;
/// Marks an unfilled slot.
const EMPTY: u32 = u32::MAX;

/// One SipHash round on the four state words.
#[inline(always)]
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

/// SipHash-C-D of the 4 little-endian bytes of `m` (64-bit output).
#[inline(always)]
fn siphash_u32<const C: usize, const D: usize>(m: u32, k0: u64, k1: u64) -> u64 {
    let mut v = [
        0x736f_6d65_7073_6575 ^ k0,
        0x646f_7261_6e64_6f6d ^ k1,
        0x6c79_6765_6e65_7261 ^ k0,
        0x7465_6462_7974_6573 ^ k1,
    ];
    // A 4-byte message is all tail: length in the top byte, the bytes below.
    let b = (4u64 << 56) | u64::from(m);
    v[3] ^= b;
    for _ in 0..C {
        sip_round(&mut v);
    }
    v[0] ^= b;
    v[2] ^= 0xff;
    for _ in 0..D {
        sip_round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// The kernel's `hsiphash(&v, 4, key)` on 64-bit builds: SipHash-1-3 truncated to 32 bits.
#[inline]
fn hsiphash(v: u32, key: u64) -> u32 {
    siphash_u32::<1, 3>(v, key, key) as u32
}

/// `ip_vs_mh_hashkey`: hash of `offset + port + addr` under `key`.
#[inline]
fn hashkey(addr: &core::net::IpAddr, port: u16, key: u64, offset: u32) -> u32 {
    hsiphash(
        offset
            .wrapping_add(u32::from(port))
            .wrapping_add(fold_addr(addr)),
        key,
    )
}

/// Per-destination permutation state while populating (`ip_vs_mh_dest_setup`).
#[derive(Debug, Clone, Copy)]
struct Setup {
    perm: u32,
    skip: u32,
    turns: u32,
}

/// Maglev-hashing state.
#[derive(Debug, Clone)]
pub struct MaglevHashing {
    /// Slot → position in the list; empty when no destination has a non-zero last weight.
    lookup: Vec<u32>,
    /// (destination id, last non-zero weight), sorted by id.
    last_weight: Vec<(u32, i32)>,
    /// Scratch for rebuilding `last_weight`.
    next_weight: Vec<(u32, i32)>,
    /// Scratch permutation state.
    setup: Vec<Setup>,
    /// Scratch bitmap of taken slots.
    taken: Vec<u64>,
    /// `mh-fallback` (SCHED1).
    fallback: bool,
    /// `mh-port` (SCHED2).
    port: bool,
}

impl MaglevHashing {
    /// A scheduler with the service's `-b` flags.
    pub fn new(flags: SchedFlags) -> Self {
        MaglevHashing {
            lookup: Vec::with_capacity(MH_TABLE_SIZE),
            last_weight: Vec::new(),
            next_weight: Vec::new(),
            setup: Vec::new(),
            taken: vec![0; MH_TABLE_SIZE.div_ceil(64)],
            fallback: flags.fallback(),
            port: flags.port(),
        }
    }

    /// The lookup table (slot → list position), for inspection: empty when unpopulated.
    pub fn table(&self) -> &[u32] {
        &self.lookup
    }

    /// The slot a client hashes to (with `offset` 0 this is its home slot).
    pub fn slot(addr: &core::net::IpAddr, port: u16, offset: u32) -> usize {
        hashkey(addr, port, KEY1, offset) as usize % MH_TABLE_SIZE
    }

    /// Remember each destination's last non-zero weight (a new one takes its weight even if
    /// 0), as `__ip_vs_update_dest` keeps `last_weight`.
    fn track_weights(&mut self, dests: &[DestView]) {
        self.next_weight.clear();
        for d in dests {
            let lw = if d.weight != 0 {
                d.weight
            } else {
                self.last_weight
                    .binary_search_by_key(&d.id, |e| e.0)
                    .map_or(0, |k| self.last_weight[k].1)
            };
            self.next_weight.push((d.id, lw));
        }
        self.next_weight.sort_unstable_by_key(|e| e.0);
        core::mem::swap(&mut self.last_weight, &mut self.next_weight);
    }

    fn last_weight_of(&self, id: u32) -> i32 {
        self.last_weight
            .binary_search_by_key(&id, |e| e.0)
            .map_or(0, |k| self.last_weight[k].1)
    }

    /// Fill all slots (`ip_vs_mh_permutate` + `ip_vs_mh_populate`).
    fn populate(&mut self, dests: &[DestView]) {
        self.lookup.clear();
        let g = dests
            .iter()
            .map(|d| self.last_weight_of(d.id))
            .filter(|&w| w > 0)
            .fold(0, |g, w| if g > 0 { gcd(w, g) } else { w });
        // The kernel refuses more destinations than slots (EINVAL); we leave no table.
        if g < 1 || dests.len() > MH_TABLE_SIZE {
            return;
        }
        let max = dests
            .iter()
            .map(|d| self.last_weight_of(d.id))
            .fold(0, i32::max);
        let mw = (max / g) as u32;
        let rshift = (32 - mw.leading_zeros()).saturating_sub(TAB_BITS);
        let m = MH_TABLE_SIZE as u32;
        self.setup.clear();
        for d in dests {
            let lw = self.last_weight_of(d.id);
            let turns = ((lw / g).max(0) as u32) >> rshift;
            self.setup.push(Setup {
                perm: hashkey(&d.addr, d.port, KEY1, 0) % m,
                skip: hashkey(&d.addr, d.port, KEY2, 0) % (m - 1) + 1,
                turns: if turns == 0 {
                    u32::from(lw != 0)
                } else {
                    turns
                },
            });
        }
        self.lookup.resize(MH_TABLE_SIZE, EMPTY);
        self.taken.fill(0);
        let mut filled = 0;
        // Round-robin over destinations, each taking `turns` slots per round: the next free
        // slot of its permutation. m is prime and skip in 1..m, so a permutation visits every
        // slot and a free one is always found while filled < m.
        'rounds: loop {
            for (j, s) in self.setup.iter_mut().enumerate() {
                for _ in 0..s.turns {
                    let mut c = s.perm;
                    while self.taken[c as usize / 64] & (1 << (c % 64)) != 0 {
                        s.perm += s.skip;
                        if s.perm >= m {
                            s.perm -= m;
                        }
                        c = s.perm;
                    }
                    self.taken[c as usize / 64] |= 1 << (c % 64);
                    self.lookup[c as usize] = j as u32;
                    filled += 1;
                    if filled == MH_TABLE_SIZE {
                        break 'rounds;
                    }
                }
            }
        }
    }
}

impl Scheduler for MaglevHashing {
    fn name(&self) -> &'static str {
        "mh"
    }

    fn update(&mut self, dests: &[DestView]) {
        self.track_weights(dests);
        self.populate(dests);
    }

    fn schedule(&mut self, dests: &[DestView], input: &SchedInput, _: Instant) -> Option<usize> {
        if self.lookup.is_empty() {
            return None;
        }
        let port = if self.port { input.sport } else { 0 };
        let usable_at = |slot: usize| {
            let i = self.lookup[slot] as usize;
            dests.get(i).filter(|d| d.usable()).map(|_| i)
        };
        let ihash = Self::slot(&input.src, port, 0);
        let home = usable_at(ihash);
        if home.is_some() || !self.fallback {
            return home;
        }
        // Probe offsets from the home slot, rehashing with each: deterministic per client.
        (0..MH_TABLE_SIZE as u32).find_map(|offset| {
            let roffset = (offset + ihash as u32) % MH_TABLE_SIZE as u32;
            usable_at(Self::slot(&input.src, port, roffset))
        })
    }
}

#[cfg(test)]
mod tests;
