//! Parsing a received frame into the facts the director needs, validating every length once.
//!
//! After [`parse`] succeeds, the offsets it returns are inside the buffer: the IP header,
//! the transport header (TCP: 20 bytes and its options; UDP: 8; SCTP: 12; ICMP: 8) and the
//! IP packet end (`end`, Ethernet padding excluded).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rvs_wire::{ethernet, ip_proto, ipv4, ipv6};

use crate::verdict::DropReason;

/// Byte offset of the checksum in a TCP header.
pub(crate) const TCP_CSUM: usize = 16;
/// Byte offset of the checksum in a UDP header.
pub(crate) const UDP_CSUM: usize = 6;
/// Byte offset of the CRC32c in an SCTP common header.
pub(crate) const SCTP_CSUM: usize = 8;

/// What one received frame holds, as offsets into the buffer and decoded header facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// Offset of the frame's first byte.
    pub start: usize,
    /// Offset of the IP header.
    pub l3: usize,
    /// Offset of the transport (or ICMP) header.
    pub l4: usize,
    /// Offset just past the IP packet (Ethernet padding excluded).
    pub end: usize,
    /// IPv6 (else IPv4).
    pub v6: bool,
    /// Transport protocol number (6, 17, 132, 1, 58).
    pub proto: u8,
    /// IP source in the connection table's 16-byte form (IPv4 in the first 4 bytes).
    pub src_raw: [u8; 16],
    /// IP destination in the same form.
    pub dst_raw: [u8; 16],
    /// Source port (TCP/UDP/SCTP), 0 for ICMP.
    pub sport: u16,
    /// Destination port (TCP/UDP/SCTP), 0 for ICMP.
    pub dport: u16,
    /// TCP flags byte (0 for other protocols).
    pub tcp_flags: u8,
    /// Type of the first SCTP chunk (0 when absent or not SCTP).
    pub sctp_chunk: u8,
    /// IPv4 DF flag (false for IPv6).
    pub df: bool,
}

impl Parsed {
    /// IP source.
    #[inline]
    pub fn src(&self) -> IpAddr {
        raw_addr(&self.src_raw, self.v6)
    }

    /// IP destination.
    #[inline]
    pub fn dst(&self) -> IpAddr {
        raw_addr(&self.dst_raw, self.v6)
    }

    /// Bytes counted by IPVS for this packet: the IP length.
    #[inline]
    pub fn ip_len(&self) -> usize {
        self.end - self.l3
    }

    /// Length of the layer-2 header (Ethernet plus tags).
    #[inline]
    pub fn l2_len(&self) -> usize {
        self.l3 - self.start
    }
}

/// Parse `buf[start..start + len]` as an Ethernet frame carrying IPv4 or IPv6.
#[cfg(test)]
pub(crate) fn parse(buf: &[u8], start: usize, len: usize) -> Result<Parsed, DropReason> {
    match parse_common(buf, start, len) {
        Some(p) => Ok(p),
        None => parse_any(buf, start, len),
    }
}

/// The common case at fixed offsets: untagged Ethernet, IPv4 without options and not a
/// fragment, TCP or UDP. `None` for anything else, valid or not: [`parse_any`] then decides,
/// so this only ever accepts what `parse_any` accepts, with the same result.
#[inline(always)]
pub(crate) fn parse_common(buf: &[u8], start: usize, len: usize) -> Option<Parsed> {
    const L3: usize = ethernet::HEADER_LEN;
    const L4: usize = L3 + ipv4::HEADER_LEN;
    let frame = buf.get(start..start.checked_add(len)?)?;
    // Ethernet + IPv4 + the UDP header, or the fixed part of a TCP header.
    let h: &[u8; L4 + 20] = frame.first_chunk()?;
    if h[12..14] != [0x08, 0x00] || h[L3] != 0x45 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([h[L3 + 2], h[L3 + 3]]));
    // Fragment offset or MF set: a fragment. Not IPVS's business, and counted by `parse_any`.
    if total > len - L3 || h[L3 + 6] & 0x3f != 0 || h[L3 + 7] != 0 {
        return None;
    }
    let proto = h[L3 + 9];
    let t = &h[L4..];
    let tcp_flags = match proto {
        ip_proto::TCP => {
            let doff = usize::from(t[12] >> 4) * 4;
            if total < ipv4::HEADER_LEN + 20 || doff < 20 || doff > total - ipv4::HEADER_LEN {
                return None;
            }
            t[13]
        }
        ip_proto::UDP if total >= ipv4::HEADER_LEN + 8 => 0,
        _ => return None,
    };
    let ip: &[u8; ipv4::HEADER_LEN] = h[L3..L4].try_into().ok()?;
    if !header20_checksum_ok(ip) {
        return None;
    }
    let mut src_raw = [0u8; 16];
    let mut dst_raw = [0u8; 16];
    src_raw[..4].copy_from_slice(&ip[12..16]);
    dst_raw[..4].copy_from_slice(&ip[16..20]);
    Some(Parsed {
        start,
        l3: start + L3,
        l4: start + L4,
        end: start + L3 + total,
        v6: false,
        proto,
        src_raw,
        dst_raw,
        sport: u16::from_be_bytes([t[0], t[1]]),
        dport: u16::from_be_bytes([t[2], t[3]]),
        tcp_flags,
        sctp_chunk: 0,
        df: ip[6] & 0x40 != 0,
    })
}

/// The general parser: VLAN tags, IPv4 options, IPv6 extension headers, every protocol the
/// director handles, and the drop reason of everything it refuses.
pub(crate) fn parse_any(buf: &[u8], start: usize, len: usize) -> Result<Parsed, DropReason> {
    let frame_end = start.checked_add(len).ok_or(DropReason::Malformed)?;
    let frame = buf.get(start..frame_end).ok_or(DropReason::Malformed)?;
    let l2 = ethernet::l3_offset(frame).map_err(|_| DropReason::Malformed)?;
    let l3 = start + l2.offset;
    let ip = &buf[l3..frame_end];
    match l2.ethertype {
        ethernet::ethertype::IPV4 => parse_v4(buf, start, l3, ip),
        ethernet::ethertype::IPV6 => parse_v6(buf, start, l3, ip),
        _ => Err(DropReason::UnsupportedProtocol),
    }
}

fn parse_v4(buf: &[u8], start: usize, l3: usize, ip: &[u8]) -> Result<Parsed, DropReason> {
    // Hand-rolled rather than through `ipv4::Packet`: this runs for every packet, and one
    // bounds check up front lets the compiler drop the others.
    let Some(h) = ip.get(..ipv4::HEADER_LEN) else {
        return Err(DropReason::Malformed);
    };
    let ihl = usize::from(h[0] & 0x0f) * 4;
    if h[0] >> 4 != 4 || ihl < ipv4::HEADER_LEN || ip.len() < ihl {
        return Err(DropReason::Malformed);
    }
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if total < ihl || total > ip.len() {
        return Err(DropReason::Malformed);
    }
    if !header_checksum_ok(&ip[..ihl]) {
        return Err(DropReason::BadChecksum);
    }
    if u16::from_be_bytes([h[6], h[7]]) & 0x3fff != 0 {
        return Err(DropReason::Fragment);
    }
    let mut src_raw = [0u8; 16];
    let mut dst_raw = [0u8; 16];
    src_raw[..4].copy_from_slice(&h[12..16]);
    dst_raw[..4].copy_from_slice(&h[16..20]);
    let mut out = Parsed {
        start,
        l3,
        l4: l3 + ihl,
        end: l3 + total,
        v6: false,
        proto: h[9],
        src_raw,
        dst_raw,
        sport: 0,
        dport: 0,
        tcp_flags: 0,
        sctp_chunk: 0,
        df: h[6] & 0x40 != 0,
    };
    transport(buf, &mut out)?;
    Ok(out)
}

/// [`header_checksum_ok`] of a header without options: five native-endian words (the one's
/// complement sum does not depend on byte order, RFC 1071 §2(B)).
#[inline(always)]
fn header20_checksum_ok(h: &[u8; ipv4::HEADER_LEN]) -> bool {
    header20_sum(h) == 0xffff
}

/// The folded one's complement sum of a 20-byte IPv4 header, in native byte order (store
/// its complement with `to_ne_bytes` to fill a zeroed checksum field).
#[inline(always)]
pub(crate) fn header20_sum(h: &[u8; ipv4::HEADER_LEN]) -> u16 {
    let w = |i: usize| u64::from(u32::from_ne_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]));
    rvs_wire::checksum::fold(w(0) + w(4) + w(8) + w(12) + w(16))
}

/// Whether an IPv4 header (a multiple of 4 bytes) sums to all ones.
#[inline]
fn header_checksum_ok(h: &[u8]) -> bool {
    let mut sum: u64 = 0;
    for w in h.chunks_exact(4) {
        sum += u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]]));
    }
    rvs_wire::checksum::fold(sum) == 0xffff
}

fn parse_v6(buf: &[u8], start: usize, l3: usize, ip: &[u8]) -> Result<Parsed, DropReason> {
    let p = ipv6::Packet::new_checked(ip).map_err(|_| DropReason::Malformed)?;
    let ul = p.upper_layer().map_err(|_| DropReason::Malformed)?;
    if ul.is_fragment() {
        return Err(DropReason::Fragment);
    }
    let end = l3 + p.payload_range().end;
    let mut out = Parsed {
        start,
        l3,
        l4: l3 + ul.offset,
        end,
        v6: true,
        proto: ul.protocol,
        src_raw: p.src_addr().octets(),
        dst_raw: p.dst_addr().octets(),
        sport: 0,
        dport: 0,
        tcp_flags: 0,
        sctp_chunk: 0,
        df: false,
    };
    transport(buf, &mut out)?;
    Ok(out)
}

fn transport(buf: &[u8], p: &mut Parsed) -> Result<(), DropReason> {
    let seg = &buf[p.l4..p.end];
    match p.proto {
        ip_proto::TCP => {
            let h = seg.get(..20).ok_or(DropReason::Malformed)?;
            let doff = usize::from(h[12] >> 4) * 4;
            if doff < 20 || doff > seg.len() {
                return Err(DropReason::Malformed);
            }
            p.sport = u16::from_be_bytes([h[0], h[1]]);
            p.dport = u16::from_be_bytes([h[2], h[3]]);
            p.tcp_flags = h[13];
        }
        ip_proto::UDP => {
            let h = seg.get(..8).ok_or(DropReason::Malformed)?;
            p.sport = u16::from_be_bytes([h[0], h[1]]);
            p.dport = u16::from_be_bytes([h[2], h[3]]);
        }
        ip_proto::SCTP => {
            let h = seg.get(..12).ok_or(DropReason::Malformed)?;
            p.sport = u16::from_be_bytes([h[0], h[1]]);
            p.dport = u16::from_be_bytes([h[2], h[3]]);
            p.sctp_chunk = seg.get(12).copied().unwrap_or(0);
        }
        ip_proto::ICMP | ip_proto::ICMPV6 => {
            if seg.len() < 8 {
                return Err(DropReason::Malformed);
            }
        }
        _ => return Err(DropReason::UnsupportedProtocol),
    }
    Ok(())
}

/// An address from the 16-byte form.
#[inline]
fn raw_addr(b: &[u8; 16], v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(*b))
    } else {
        IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }
}

/// Read a big-endian u16 at `at` (caller guarantees bounds).
#[inline]
pub(crate) fn get16(buf: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([buf[at], buf[at + 1]])
}

/// Write a big-endian u16 at `at` (caller guarantees bounds).
#[inline]
pub(crate) fn put16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// Read the IP address of family `v6` at `at` (caller guarantees bounds).
#[inline]
pub(crate) fn get_addr(buf: &[u8], at: usize, v6: bool) -> IpAddr {
    if v6 {
        let mut a = [0u8; 16];
        a.copy_from_slice(&buf[at..at + 16]);
        IpAddr::V6(Ipv6Addr::from(a))
    } else {
        IpAddr::V4(Ipv4Addr::new(
            buf[at],
            buf[at + 1],
            buf[at + 2],
            buf[at + 3],
        ))
    }
}

/// Write an address at `at` (caller guarantees bounds and family).
#[inline]
pub(crate) fn put_addr(buf: &mut [u8], at: usize, a: IpAddr) {
    match a {
        IpAddr::V4(a) => buf[at..at + 4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => buf[at..at + 16].copy_from_slice(&a.octets()),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn header20_check_agrees_with_the_general_one(
            mut h: [u8; 20], fix: bool, zero: bool,
        ) {
            if zero {
                h = [0; 20];
            } else if fix {
                h[10..12].fill(0);
                let c = rvs_wire::checksum::finish(rvs_wire::checksum::data(&h));
                h[10..12].copy_from_slice(&c.to_be_bytes());
            }
            prop_assert_eq!(header20_checksum_ok(&h), header_checksum_ok(&h));
        }
    }

    /// Ethernet + IPv4 + TCP (20 bytes) + 8 bytes of data, valid checksums aside from the
    /// transport one (the parser does not look at it).
    fn tcp_frame() -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0];
        let mut ip = [
            0x45, 0, 0, 48, 0, 1, 0x40, 0, 64, 6, 0, 0, 203, 0, 113, 9, 198, 51, 100, 1,
        ];
        let c = rvs_wire::checksum::finish(rvs_wire::checksum::data(&ip));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&[
            0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0x20, 0,
        ]);
        f.extend_from_slice(&[0; 4]);
        f.extend_from_slice(b"abcdefgh");
        f
    }

    #[test]
    fn the_common_case_takes_the_fixed_offset_parser() {
        let f = tcp_frame();
        let p = parse_common(&f, 0, f.len());
        assert!(p.is_some());
        assert_eq!(p.map(Ok), Some(parse_any(&f, 0, f.len())));
        let mut udp = f.clone();
        udp[23] = 17;
        udp[24..26].fill(0);
        let c = rvs_wire::checksum::finish(rvs_wire::checksum::data(&udp[14..34]));
        udp[24..26].copy_from_slice(&c.to_be_bytes());
        assert!(parse_common(&udp, 0, udp.len()).is_some());
    }

    proptest! {
        /// Whatever the bytes, the fixed-offset parser accepts only what the general one
        /// accepts, and finds the same facts.
        #[test]
        fn common_parser_agrees_with_general_parser(
            edits in prop::collection::vec((0usize..70, any::<u8>()), 0..4),
            start in 0usize..3,
            cut in 0usize..8,
        ) {
            let mut f = vec![0u8; start];
            f.extend_from_slice(&tcp_frame());
            for (at, b) in edits {
                if let Some(x) = f.get_mut(start + at) {
                    *x = b;
                }
            }
            // Keep the IPv4 header checksum right half of the time, so the edits get past it.
            if f[start + 12..start + 14] == [8, 0] && f.len() >= start + 34 && cut % 2 == 0 {
                f[start + 24..start + 26].fill(0);
                let ihl = usize::from(f[start + 14] & 0x0f) * 4;
                if ihl >= 20 && f.len() >= start + 14 + ihl {
                    let c = rvs_wire::checksum::finish(rvs_wire::checksum::data(
                        &f[start + 14..start + 14 + ihl],
                    ));
                    f[start + 24..start + 26].copy_from_slice(&c.to_be_bytes());
                }
            }
            let len = f.len() - start - cut.min(f.len() - start);
            if let Some(p) = parse_common(&f, start, len) {
                prop_assert_eq!(Ok(p), parse_any(&f, start, len));
            }
        }
    }
}
