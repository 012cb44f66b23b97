//! Lookup keys and their hashing.
//!
//! Two indices point into the entry slab: the client side (protocol, client addr:port,
//! virtual addr:port) for packets from clients, and the real-server side (protocol, RIP:port,
//! client addr:port) for NAT replies. Keys hold addresses in the stored 16-byte form so that
//! comparing a key with an entry is a handful of word compares. Hashes are keyed by secret
//! words derived (through foldhash) from the caller's seed: clients choose the keys, so the
//! hash must not be predictable.

use core::hash::{BuildHasher, Hasher};
use core::net::IpAddr;

use foldhash::fast::FixedState;

use crate::model::Protocol;

use super::entry::{Entry, flag, pack};

/// Client-side key: a packet from a client to a virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InKey {
    pub(crate) caddr: [u8; 16],
    pub(crate) vaddr: [u8; 16],
    pub(crate) cport: u16,
    pub(crate) vport: u16,
    pub(crate) proto: u8,
    /// `flag::V6` and/or `flag::TEMPLATE`.
    pub(crate) kind: u16,
}

impl InKey {
    /// Key of a client → VIP packet: (protocol, client addr, client port, VIP, virtual port).
    /// The family is the client address's (a packet never mixes families).
    pub fn new(protocol: Protocol, client: IpAddr, cport: u16, vaddr: IpAddr, vport: u16) -> InKey {
        let (caddr, v6) = pack(client);
        let (vaddr, _) = pack(vaddr);
        InKey {
            caddr,
            vaddr,
            cport,
            vport,
            proto: protocol.number(),
            kind: if v6 { flag::V6 } else { 0 },
        }
    }

    /// Key from raw parts (addresses in the stored 16-byte form, IPv4 in the first 4 bytes
    /// and the rest zero), for callers that already hold bytes from the packet.
    pub fn from_raw(
        proto: u8,
        v6: bool,
        caddr: [u8; 16],
        cport: u16,
        vaddr: [u8; 16],
        vport: u16,
    ) -> InKey {
        InKey {
            caddr,
            vaddr,
            cport,
            vport,
            proto,
            kind: if v6 { flag::V6 } else { 0 },
        }
    }

    /// The protocol number.
    pub fn protocol_number(&self) -> u8 {
        self.proto
    }

    /// Whether the key is IPv6.
    pub fn is_v6(&self) -> bool {
        self.kind & flag::V6 != 0
    }

    /// The client port.
    pub fn cport(&self) -> u16 {
        self.cport
    }

    #[inline]
    pub(crate) fn matches(&self, e: &Entry) -> bool {
        e.cport == self.cport
            && e.vport == self.vport
            && e.proto == self.proto
            && e.flags & (flag::V6 | flag::TEMPLATE) == self.kind
            && e.caddr == self.caddr
            && e.vaddr == self.vaddr
    }
}

/// Real-server-side key: a NAT reply from a real server to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutKey {
    pub(crate) daddr: [u8; 16],
    pub(crate) caddr: [u8; 16],
    pub(crate) dport: u16,
    pub(crate) cport: u16,
    pub(crate) proto: u8,
    pub(crate) v6: bool,
}

impl OutKey {
    /// Key of a real server → client packet: (protocol, RIP = packet source, RS port = source
    /// port, client = packet destination, client port = destination port).
    pub fn new(protocol: Protocol, rip: IpAddr, rport: u16, client: IpAddr, cport: u16) -> OutKey {
        let (daddr, v6) = pack(rip);
        let (caddr, _) = pack(client);
        OutKey {
            daddr,
            caddr,
            dport: rport,
            cport,
            proto: protocol.number(),
            v6,
        }
    }

    /// The reply key of a packet read as a client-side key (source first): a NAT reply
    /// looked up first as a client packet. It hashes as `key` does.
    #[inline]
    pub(crate) fn of_packet(key: &InKey) -> OutKey {
        OutKey {
            daddr: key.caddr,
            caddr: key.vaddr,
            dport: key.cport,
            cport: key.vport,
            proto: key.proto,
            v6: key.kind & flag::V6 != 0,
        }
    }

    #[inline]
    pub(crate) fn matches(&self, e: &Entry) -> bool {
        e.dport == self.dport
            && e.cport == self.cport
            && e.proto == self.proto
            && e.has(flag::V6) == self.v6
            && e.daddr == self.daddr
            && e.caddr == self.caddr
    }
}

#[inline]
fn word(b: &[u8; 16], half: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[half * 8..half * 8 + 8]);
    u64::from_ne_bytes(w)
}

/// The non-address word of a key: protocol, kind bits, the two ports (source side first).
#[inline(always)]
fn key_word(proto: u8, kind: u16, first_port: u16, second_port: u16) -> u64 {
    u64::from(proto)
        | u64::from(kind) << 8
        | u64::from(first_port) << 24
        | u64::from(second_port) << 40
}

/// Multiply two words to 128 bits and fold the halves together (foldhash's and ahash's
/// mixing step): every output bit depends on every input bit.
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ (p >> 64) as u64
}

/// The seeded hasher of a table.
///
/// An IPv6 key is five words (ports/protocol/kind and two 16-byte addresses). They are
/// mixed in two independent folded multiplies of key words XORed with secret seed words,
/// then one more multiply: two multiply latencies per packet instead of the three of a
/// streaming hasher. An IPv4 key is two words and takes one multiply. Without the seed an attacker cannot aim keys at one bucket (a product is only
/// predictable when an input equals a secret word); the seed words come from the caller's
/// seed through foldhash's seeded state.
#[derive(Debug, Clone)]
pub(crate) struct KeyHasher([u64; 6]);

impl KeyHasher {
    pub(crate) fn new(seed: u64) -> KeyHasher {
        let state = FixedState::with_seed(seed);
        KeyHasher(core::array::from_fn(|i| {
            let mut h = state.build_hasher();
            h.write_u64(i as u64);
            h.finish()
        }))
    }

    /// Mix the key word `w0` with the addresses `a` and `b` (IPv6 when `v6`).
    ///
    /// IPv4 addresses fill only the first four bytes of their 16-byte form, so an IPv4 key
    /// is two words, not five: both addresses in one, `w0` in the other, one folded
    /// multiply. The family bit is part of `w0`, so the two forms never meet.
    #[inline(always)]
    fn mix(&self, v6: bool, w0: u64, a: &[u8; 16], b: &[u8; 16]) -> u64 {
        let s = &self.0;
        if !v6 {
            return self.mix_v4(w0, [a[0], a[1], a[2], a[3]], [b[0], b[1], b[2], b[3]]);
        }
        let x = fold(word(a, 0) ^ s[0], word(a, 1) ^ s[1]);
        let y = fold(word(b, 0) ^ s[2], word(b, 1) ^ s[3]);
        fold(x ^ w0 ^ s[4], y ^ s[5])
    }

    /// [`mix`](Self::mix) of IPv4 addresses.
    #[inline(always)]
    fn mix_v4(&self, w0: u64, a: [u8; 4], b: [u8; 4]) -> u64 {
        let s = &self.0;
        let addrs = u64::from(u32::from_ne_bytes(a)) | u64::from(u32::from_ne_bytes(b)) << 32;
        fold(addrs ^ s[0], w0 ^ s[1])
    }

    /// The hash of an IPv4 client-side key (not a template), from packet fields: what
    /// [`hash_in`](Self::hash_in) gives for the same key.
    #[inline(always)]
    pub(crate) fn hash_in_v4(
        &self,
        proto: u8,
        caddr: [u8; 4],
        cport: u16,
        vaddr: [u8; 4],
        vport: u16,
    ) -> u64 {
        self.mix_v4(key_word(proto, 0, cport, vport), caddr, vaddr)
    }

    #[inline]
    pub(crate) fn hash_in_parts(
        &self,
        proto: u8,
        kind: u16,
        cport: u16,
        vport: u16,
        caddr: &[u8; 16],
        vaddr: &[u8; 16],
    ) -> u64 {
        let w0 = key_word(proto, kind, cport, vport);
        self.mix(kind & flag::V6 != 0, w0, caddr, vaddr)
    }

    #[inline]
    pub(crate) fn hash_in(&self, k: &InKey) -> u64 {
        self.hash_in_parts(k.proto, k.kind, k.cport, k.vport, &k.caddr, &k.vaddr)
    }

    #[inline]
    pub(crate) fn hash_in_entry(&self, e: &Entry) -> u64 {
        let kind = e.flags & (flag::V6 | flag::TEMPLATE);
        self.hash_in_parts(e.proto, kind, e.cport, e.vport, &e.caddr, &e.vaddr)
    }

    #[inline]
    fn hash_out_parts(
        &self,
        proto: u8,
        v6: bool,
        dport: u16,
        cport: u16,
        d: &[u8; 16],
        c: &[u8; 16],
    ) -> u64 {
        // Same layout as a client-side key read off the reply packet (source first), so
        // a reply hashes alike whichever side it is looked up as.
        let kind = if v6 { flag::V6 } else { 0 };
        self.mix(v6, key_word(proto, kind, dport, cport), d, c)
    }

    #[inline]
    pub(crate) fn hash_out(&self, k: &OutKey) -> u64 {
        self.hash_out_parts(k.proto, k.v6, k.dport, k.cport, &k.daddr, &k.caddr)
    }

    #[inline]
    pub(crate) fn hash_out_entry(&self, e: &Entry) -> u64 {
        self.hash_out_parts(
            e.proto,
            e.has(flag::V6),
            e.dport,
            e.cport,
            &e.daddr,
            &e.caddr,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_change_hashes() {
        let k = InKey::new(
            Protocol::Tcp,
            "203.0.113.9".parse().unwrap(),
            40000,
            "198.51.100.1".parse().unwrap(),
            80,
        );
        let a = KeyHasher::new(1).hash_in(&k);
        let b = KeyHasher::new(2).hash_in(&k);
        assert_ne!(a, b);
        assert_eq!(a, KeyHasher::new(1).hash_in(&k));
    }

    #[test]
    fn in_and_out_keys_hash_like_their_entries() {
        let h = KeyHasher::new(7);
        let c: IpAddr = "2001:db8::9".parse().unwrap();
        let v: IpAddr = "2001:db8::1".parse().unwrap();
        let d: IpAddr = "2001:db8:1::5".parse().unwrap();
        let mut e = Entry::VACANT;
        e.caddr = pack(c).0;
        e.vaddr = pack(v).0;
        e.daddr = pack(d).0;
        e.cport = 5555;
        e.vport = 443;
        e.dport = 8443;
        e.proto = 6;
        e.flags = flag::LIVE | flag::V6 | flag::DEST_V6;
        let ik = InKey::new(Protocol::Tcp, c, 5555, v, 443);
        let ok = OutKey::new(Protocol::Tcp, d, 8443, c, 5555);
        assert!(ik.matches(&e));
        assert!(ok.matches(&e));
        assert_eq!(h.hash_in(&ik), h.hash_in_entry(&e));
        assert_eq!(h.hash_out(&ok), h.hash_out_entry(&e));
        // A reply read as a client-side key (source first) hashes like its reply key.
        let as_in = InKey::new(Protocol::Tcp, d, 8443, c, 5555);
        assert_eq!(h.hash_in(&as_in), h.hash_out(&ok));
        assert_eq!(OutKey::of_packet(&as_in), ok);
        let c4: IpAddr = "203.0.113.9".parse().unwrap();
        let v4: IpAddr = "198.51.100.1".parse().unwrap();
        let k4 = InKey::new(Protocol::Udp, c4, 4000, v4, 53);
        assert_eq!(
            h.hash_in(&k4),
            h.hash_in_v4(17, [203, 0, 113, 9], 4000, [198, 51, 100, 1], 53)
        );
        let other = InKey::new(Protocol::Udp, c, 5555, v, 443);
        assert!(!other.matches(&e));
    }
}
