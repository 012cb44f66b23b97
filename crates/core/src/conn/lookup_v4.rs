//! The connection lookups of the established-flow shortcut: an IPv4 packet's fields
//! compared with entries directly, so no key is built on the path most packets take. Each
//! gives exactly what the general lookup (`lookup_in` / `lookup_out`) gives for the key
//! those fields make.

use super::entry::{ConnId, flag};
use super::table::{ConnTable, OUT_SIDE};

/// An IPv4 address in the stored 16-byte form, as its two native-endian words (the second
/// is zero), so a comparison with an entry is two word compares on registers.
#[inline(always)]
fn words(a: [u8; 4]) -> (u64, u64) {
    (u64::from_ne_bytes([a[0], a[1], a[2], a[3], 0, 0, 0, 0]), 0)
}

/// Whether a stored address equals the one `words` made.
#[inline(always)]
fn same(stored: &[u8; 16], (w0, w1): (u64, u64)) -> bool {
    let (a, b) = stored.split_at(8);
    let a = u64::from_ne_bytes(a.try_into().unwrap_or_default());
    let b = u64::from_ne_bytes(b.try_into().unwrap_or_default());
    a == w0 && b == w1
}

impl ConnTable {
    /// [`lookup_in`](Self::lookup_in) of an IPv4 packet's fields, without building the key
    /// (the established-flow shortcut): the same entry, or on a miss `Err` with the key's
    /// hash, which is also the hash of the packet read as a NAT reply
    /// ([`lookup_out_v4`](Self::lookup_out_v4)). Entries without a client port are not
    /// searched: with any of them live, the caller asks the general lookup after a miss.
    #[inline(always)]
    pub(crate) fn lookup_in_v4(
        &self,
        proto: u8,
        caddr: [u8; 4],
        cport: u16,
        vaddr: [u8; 4],
        vport: u16,
    ) -> Result<ConnId, u64> {
        let hash = self.hasher.hash_in_v4(proto, caddr, cport, vaddr, vport);
        let (c, v) = (words(caddr), words(vaddr));
        let entries = &self.entries;
        let found = self.index.find(hash, |i| {
            i < OUT_SIDE && {
                let e = &entries[i as usize];
                // `InKey::matches` for an IPv4 key.
                e.cport == cport
                    && e.vport == vport
                    && e.proto == proto
                    && e.flags & (flag::V6 | flag::TEMPLATE) == 0
                    && same(&e.caddr, c)
                    && same(&e.vaddr, v)
            }
        });
        found.map(ConnId).ok_or(hash)
    }

    /// [`lookup_out`](Self::lookup_out) of an IPv4 packet's fields (source = real server),
    /// with the `hash` [`lookup_in_v4`](Self::lookup_in_v4) returned for them.
    #[inline(always)]
    pub(crate) fn lookup_out_v4(
        &self,
        proto: u8,
        rip: [u8; 4],
        rport: u16,
        client: [u8; 4],
        cport: u16,
        hash: u64,
    ) -> Option<ConnId> {
        let (d, c) = (words(rip), words(client));
        let entries = &self.entries;
        self.index
            .find(hash, |i| {
                i >= OUT_SIDE && {
                    let e = &entries[(i & !OUT_SIDE) as usize];
                    // `OutKey::matches` for an IPv4 key.
                    e.dport == rport
                        && e.cport == cport
                        && e.proto == proto
                        && !e.has(flag::V6)
                        && same(&e.daddr, d)
                        && same(&e.caddr, c)
                }
            })
            .map(|i| ConnId(i & !OUT_SIDE))
    }

    /// Whether entries without a client port exist (they make a miss need a second look).
    #[inline]
    pub(crate) fn has_no_cport(&self) -> bool {
        self.no_cport != 0
    }
}
