//! The Internet checksum (RFC 1071), pseudo headers, and RFC 1624 incremental updates.
//!
//! Conventions:
//! - A *sum* is the folded 16-bit ones'-complement sum of some bytes, not inverted
//!   ([`data`], [`pseudo_header_v4`], [`combine`]). A *checksum* is what goes on the wire:
//!   `!sum` ([`finish`]).
//! - Sums of nonzero data are never `0` (end-around carry keeps `0xffff`), so a full
//!   recompute never yields the checksum `0xffff` for TCP/ICMPv6, and the incremental
//!   update ([`update_u16`], RFC 1624 eqn. 3) always equals the full recompute.
//! - UDP over IPv4 uses `0` for "no checksum" and sends a computed `0` as `0xffff`; use the
//!   `udp_*` variants there, which leave `0` alone and never produce `0`.
//!
//! SCTP does not use this checksum: see [`crc32c`].

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use crate::crc32c::{crc32c, crc32c_update};

/// Folds a wide ones'-complement accumulator to 16 bits with end-around carry.
#[inline]
pub fn fold(sum: u64) -> u16 {
    // Four fixed steps, no loop: < 2^33, then < 0x2ffff, then <= 0x10001, then <= 0xffff.
    let s = (sum & 0xffff_ffff) + (sum >> 32);
    let s = (s & 0xffff) + (s >> 16);
    let s = (s & 0xffff) + (s >> 16);
    let s = (s & 0xffff) + (s >> 16);
    s as u16
}

/// Ones'-complement sum of `bytes` as big-endian 16-bit words (odd tail padded with zero),
/// folded to 16 bits and not inverted.
///
/// To sum data in pieces with [`combine`], every piece but the last must have even length.
#[inline]
pub fn data(bytes: &[u8]) -> u16 {
    fold(sum_wide(bytes))
}

/// Unfolded 64-bit ones'-complement accumulation of `bytes` (for building larger sums).
#[inline]
pub fn sum_wide(bytes: &[u8]) -> u64 {
    // 2^64 ≡ 1 (mod 0xffff), so adding big-endian 64-bit words with end-around carry is a
    // valid ones'-complement sum of the 16-bit words they contain; four lanes hide latency.
    let mut lanes = [0u64; 4];
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        for (lane, word) in lanes.iter_mut().zip(chunk.chunks_exact(8)) {
            let w = u64::from_be_bytes(word.try_into().unwrap_or([0; 8]));
            let (s, carry) = lane.overflowing_add(w);
            *lane = s + u64::from(carry);
        }
    }
    let mut acc: u64 = 0;
    for lane in lanes {
        acc += (lane >> 32) + (lane & 0xffff_ffff);
    }
    let mut rest = chunks.remainder();
    while let [a, b, tail @ ..] = rest {
        acc += u64::from(u16::from_be_bytes([*a, *b]));
        rest = tail;
    }
    if let [last] = rest {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Ones'-complement sum of several 16-bit sums.
#[inline]
pub fn combine(sums: &[u16]) -> u16 {
    fold(sums.iter().map(|&s| u64::from(s)).sum())
}

/// Turns a folded sum into the checksum that goes on the wire (`!sum`).
#[inline]
pub fn finish(sum: u16) -> u16 {
    !sum
}

/// Sum of the IPv4 pseudo header (RFC 793 / RFC 768) for a transport segment of `length`.
#[inline]
pub fn pseudo_header_v4(src: &Ipv4Addr, dst: &Ipv4Addr, protocol: u8, length: u32) -> u16 {
    let s = u64::from(u32::from_be_bytes(src.octets()))
        + u64::from(u32::from_be_bytes(dst.octets()))
        + u64::from(protocol)
        + u64::from(length);
    fold(s)
}

/// Sum of the IPv6 pseudo header (RFC 8200 §8.1) for an upper-layer packet of `length`.
#[inline]
pub fn pseudo_header_v6(src: &Ipv6Addr, dst: &Ipv6Addr, next_header: u8, length: u32) -> u16 {
    let s = addr6_wide(src) + addr6_wide(dst) + u64::from(next_header) + u64::from(length);
    fold(s)
}

/// Pseudo-header sum for either family. Mixed families are a caller bug: the result is
/// then the sum over both addresses (it never panics, but will not verify).
#[inline]
pub fn pseudo_header(src: &IpAddr, dst: &IpAddr, protocol: u8, length: u32) -> u16 {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => pseudo_header_v4(s, d, protocol, length),
        (IpAddr::V6(s), IpAddr::V6(d)) => pseudo_header_v6(s, d, protocol, length),
        _ => fold(addr_wide(src) + addr_wide(dst) + u64::from(protocol) + u64::from(length)),
    }
}

#[inline]
fn addr6_wide(a: &Ipv6Addr) -> u64 {
    let v = u128::from_be_bytes(a.octets());
    (v >> 96) as u64 + ((v >> 64) as u32) as u64 + ((v >> 32) as u32) as u64 + (v as u32) as u64
}

#[inline]
fn addr_wide(a: &IpAddr) -> u64 {
    match a {
        IpAddr::V4(a) => u64::from(u32::from_be_bytes(a.octets())),
        IpAddr::V6(a) => addr6_wide(a),
    }
}

/// RFC 1624 eqn. 3 for many words: `HC' = ~(~HC + ~Σm + Σm')`, where `removed`/`added`
/// are the wide sums of the old and new words.
#[inline]
fn update_wide(csum: u16, removed: u64, added: u64) -> u16 {
    !fold(u64::from(!csum) + u64::from(!fold(removed)) + added)
}

/// RFC 1624 incremental update of `csum` after one 16-bit word changed from `old` to `new`.
#[inline]
pub fn update_u16(csum: u16, old: u16, new: u16) -> u16 {
    !fold(u64::from(!csum) + u64::from(!old) + u64::from(new))
}

/// Incremental update after a 32-bit field (two aligned words) changed from `old` to `new`.
#[inline]
pub fn update_u32(csum: u16, old: u32, new: u32) -> u16 {
    let s = u64::from(!csum)
        + u64::from(!(old >> 16) & 0xffff)
        + u64::from(!old & 0xffff)
        + u64::from(new >> 16)
        + u64::from(new & 0xffff);
    !fold(s)
}

/// Incremental update after an IPv4 address in the checksummed data (or pseudo header)
/// changed from `old` to `new`.
#[inline]
pub fn update_ipv4_addr(csum: u16, old: Ipv4Addr, new: Ipv4Addr) -> u16 {
    update_u32(csum, u32::from(old), u32::from(new))
}

/// Incremental update after an IPv6 address (8 words) changed from `old` to `new`.
#[inline]
pub fn update_ipv6_addr(csum: u16, old: &Ipv6Addr, new: &Ipv6Addr) -> u16 {
    update_wide(csum, addr6_wide(old), addr6_wide(new))
}

/// Incremental update after the bytes `old` were replaced by `new` at an even offset.
///
/// Both slices must have the same length; an odd length is padded with zero as in
/// [`data`]. If the lengths differ the longer slice's tail is ignored.
#[inline]
pub fn update_bytes(csum: u16, old: &[u8], new: &[u8]) -> u16 {
    let n = old.len().min(new.len());
    let (old, new) = (&old[..n], &new[..n]);
    update_wide(csum, sum_wide(old), sum_wide(new))
}

/// Maps a computed UDP checksum of `0` to `0xffff` (RFC 768: `0` means "none").
#[inline]
pub fn udp_wire(csum: u16) -> u16 {
    if csum == 0 { 0xffff } else { csum }
}

/// [`update_u16`] for a UDP checksum: `0` ("no checksum", IPv4 only) stays `0`, and a
/// result of `0` is sent as `0xffff`.
#[inline]
pub fn udp_update_u16(csum: u16, old: u16, new: u16) -> u16 {
    if csum == 0 {
        0
    } else {
        udp_wire(update_u16(csum, old, new))
    }
}

/// [`update_u32`] with the UDP zero rules of [`udp_update_u16`].
#[inline]
pub fn udp_update_u32(csum: u16, old: u32, new: u32) -> u16 {
    if csum == 0 {
        0
    } else {
        udp_wire(update_u32(csum, old, new))
    }
}

/// [`update_ipv4_addr`] with the UDP zero rules of [`udp_update_u16`].
#[inline]
pub fn udp_update_ipv4_addr(csum: u16, old: Ipv4Addr, new: Ipv4Addr) -> u16 {
    if csum == 0 {
        0
    } else {
        udp_wire(update_ipv4_addr(csum, old, new))
    }
}

/// [`update_ipv6_addr`] with the UDP zero rules of [`udp_update_u16`]. (Over IPv6 a zero
/// UDP checksum is invalid; it is left as is so the caller's verification still rejects it.)
#[inline]
pub fn udp_update_ipv6_addr(csum: u16, old: &Ipv6Addr, new: &Ipv6Addr) -> u16 {
    if csum == 0 {
        0
    } else {
        udp_wire(update_ipv6_addr(csum, old, new))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    // RFC 1071 §3 numerical example: words 0001 f203 f4f5 f6f7 sum to ddf2.
    #[test]
    fn rfc1071_example() {
        let b = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(data(&b), 0xddf2);
        assert_eq!(finish(data(&b)), 0x220d);
    }

    #[test]
    fn long_and_odd_data_matches_naive() {
        let b: Vec<u8> = (0..1501u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in [0, 1, 2, 3, 31, 32, 33, 64, 100, 1499, 1500, 1501] {
            let mut s: u64 = 0;
            for pair in b[..len].chunks(2) {
                s += u64::from(pair[0]) << 8 | u64::from(*pair.get(1).unwrap_or(&0));
            }
            assert_eq!(data(&b[..len]), fold(s), "len {len}");
        }
    }

    #[test]
    fn fold_extremes() {
        assert_eq!(fold(u64::MAX), 0xffff);
        assert_eq!(fold(0), 0);
        assert_eq!(fold(0x1_0000), 1);
        assert_eq!(fold(0xffff_ffff), 0xffff);
        assert_eq!(fold(0x1_ffff_fffe), 0xffff);
    }

    #[test]
    fn all_ones_data_sums_to_ffff_not_zero() {
        assert_eq!(data(&[0xff; 40]), 0xffff);
        assert_eq!(data(&[0x00; 40]), 0);
    }

    // RFC 1624 §4 example: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000.
    #[test]
    fn rfc1624_example() {
        assert_eq!(update_u16(0xdd2f, 0x5555, 0x3285), 0x0000);
        assert_eq!(update_u16(0x0000, 0x3285, 0x5555), 0xdd2f);
    }

    #[test]
    fn udp_zero_rules() {
        assert_eq!(udp_update_u16(0, 1, 2), 0);
        assert_eq!(udp_update_u16(0xdd2f, 0x5555, 0x3285), 0xffff);
        assert_eq!(udp_wire(0), 0xffff);
        assert_eq!(udp_wire(5), 5);
    }

    #[test]
    fn update_ipv6_equals_recompute() {
        let a: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8:ffff:ffff:ffff::fffe".parse().unwrap();
        let rest = [0x12u8, 0x34, 0xff, 0xff, 0, 0, 0xab, 0xcd];
        let full = |x: &Ipv6Addr| finish(combine(&[data(&x.octets()), data(&rest)]));
        assert_eq!(update_ipv6_addr(full(&a), &a, &b), full(&b));
        assert_eq!(update_ipv6_addr(full(&b), &b, &a), full(&a));
        assert_eq!(update_bytes(full(&a), &a.octets(), &b.octets()), full(&b));
    }
}
