//! TCP headers (RFC 9293).
//!
//! The view spans one TCP segment: slice the buffer to the IP payload first (the segment
//! length comes from IP). [`Packet::new_checked`] checks the 20-byte header, a data offset
//! of at least 5 words, and that the options fit; after it no accessor panics.

use core::net::IpAddr;

use crate::{Error, Result, checksum, ip_proto};

mod field {
    pub type Field = core::ops::Range<usize>;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ_NUM: Field = 4..8;
    pub const ACK_NUM: Field = 8..12;
    pub const DATA_OFF: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WIN_SIZE: Field = 14..16;
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
}

/// Length of a TCP header without options.
pub const HEADER_LEN: usize = field::URGENT.end;

/// TCP flag bits as found in byte 13 of the header.
pub mod flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer field is significant.
    pub const URG: u8 = 0x20;
    /// ECN-Echo.
    pub const ECE: u8 = 0x40;
    /// Congestion window reduced.
    pub const CWR: u8 = 0x80;
}

/// A view of a TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

#[inline]
fn be16(d: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([d[at], d[at + 1]])
}

#[inline]
fn be32(d: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]])
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the fixed header, the data offset and that the options fit.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.header_len() < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if self.header_len() > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Source port.
    #[inline]
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT.start)
    }

    /// Destination port.
    #[inline]
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT.start)
    }

    /// Sequence number.
    #[inline]
    pub fn seq_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SEQ_NUM.start)
    }

    /// Acknowledgment number.
    #[inline]
    pub fn ack_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::ACK_NUM.start)
    }

    /// Header length in bytes (data offset × 4), options included.
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::DATA_OFF] >> 4) * 4
    }

    /// The eight flag bits (see [`flags`]).
    #[inline]
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    /// FIN flag.
    #[inline]
    pub fn fin(&self) -> bool {
        self.flags() & flags::FIN != 0
    }

    /// SYN flag.
    #[inline]
    pub fn syn(&self) -> bool {
        self.flags() & flags::SYN != 0
    }

    /// RST flag.
    #[inline]
    pub fn rst(&self) -> bool {
        self.flags() & flags::RST != 0
    }

    /// PSH flag.
    #[inline]
    pub fn psh(&self) -> bool {
        self.flags() & flags::PSH != 0
    }

    /// ACK flag.
    #[inline]
    pub fn ack(&self) -> bool {
        self.flags() & flags::ACK != 0
    }

    /// URG flag.
    #[inline]
    pub fn urg(&self) -> bool {
        self.flags() & flags::URG != 0
    }

    /// Window size field (unscaled).
    #[inline]
    pub fn window_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::WIN_SIZE.start)
    }

    /// Checksum field.
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    /// Urgent pointer.
    #[inline]
    pub fn urgent_at(&self) -> u16 {
        be16(self.buffer.as_ref(), field::URGENT.start)
    }

    /// Option bytes (between the fixed header and the data).
    #[inline]
    pub fn options(&self) -> &[u8] {
        let d = self.buffer.as_ref();
        &d[HEADER_LEN.min(d.len())..self.header_len().clamp(HEADER_LEN.min(d.len()), d.len())]
    }

    /// The MSS option, if present and well formed.
    #[inline]
    pub fn mss(&self) -> Option<u16> {
        let mut o = self.options();
        while let [kind, rest @ ..] = o {
            match *kind {
                0 => return None,
                1 => o = rest,
                _ => {
                    let len = usize::from(*rest.first()?);
                    if len < 2 || len > o.len() {
                        return None;
                    }
                    if *kind == 2 && len == 4 {
                        return Some(u16::from_be_bytes([o[2], o[3]]));
                    }
                    o = &o[len..];
                }
            }
        }
        None
    }

    /// Segment data after the header.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let d = self.buffer.as_ref();
        &d[self.header_len().min(d.len())..]
    }

    /// True if the checksum verifies for the given IP source and destination.
    #[inline]
    pub fn verify_checksum(&self, src: &IpAddr, dst: &IpAddr) -> bool {
        let d = self.buffer.as_ref();
        let Ok(len) = u32::try_from(d.len()) else {
            return false;
        };
        let ph = checksum::pseudo_header(src, dst, ip_proto::TCP, len);
        checksum::combine(&[ph, checksum::data(d)]) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the source port (no checksum update).
    #[inline]
    pub fn set_src_port(&mut self, v: u16) {
        self.buffer.as_mut()[field::SRC_PORT].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the destination port (no checksum update).
    #[inline]
    pub fn set_dst_port(&mut self, v: u16) {
        self.buffer.as_mut()[field::DST_PORT].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the sequence number.
    #[inline]
    pub fn set_seq_number(&mut self, v: u32) {
        self.buffer.as_mut()[field::SEQ_NUM].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the acknowledgment number.
    #[inline]
    pub fn set_ack_number(&mut self, v: u32) {
        self.buffer.as_mut()[field::ACK_NUM].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the header length in bytes (rounded down to 4-byte words; reserved bits cleared).
    #[inline]
    pub fn set_header_len(&mut self, len: usize) {
        self.buffer.as_mut()[field::DATA_OFF] = ((len / 4) as u8 & 0x0f) << 4;
    }

    /// Sets the eight flag bits.
    #[inline]
    pub fn set_flags(&mut self, f: u8) {
        self.buffer.as_mut()[field::FLAGS] = f;
    }

    /// Sets the window size field.
    #[inline]
    pub fn set_window_len(&mut self, v: u16) {
        self.buffer.as_mut()[field::WIN_SIZE].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the checksum field.
    #[inline]
    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the urgent pointer.
    #[inline]
    pub fn set_urgent_at(&mut self, v: u16) {
        self.buffer.as_mut()[field::URGENT].copy_from_slice(&v.to_be_bytes());
    }

    /// Rewrites the source port, patching the checksum incrementally.
    #[inline]
    pub fn rewrite_src_port(&mut self, v: u16) {
        let c = checksum::update_u16(self.checksum(), self.src_port(), v);
        self.set_src_port(v);
        self.set_checksum(c);
    }

    /// Rewrites the destination port, patching the checksum incrementally.
    #[inline]
    pub fn rewrite_dst_port(&mut self, v: u16) {
        let c = checksum::update_u16(self.checksum(), self.dst_port(), v);
        self.set_dst_port(v);
        self.set_checksum(c);
    }

    /// Recomputes the checksum for the given IP source and destination.
    #[inline]
    pub fn fill_checksum(&mut self, src: &IpAddr, dst: &IpAddr) {
        self.set_checksum(0);
        let d = self.buffer.as_ref();
        let len = u32::try_from(d.len()).unwrap_or(u32::MAX);
        let ph = checksum::pseudo_header(src, dst, ip_proto::TCP, len);
        let c = checksum::finish(checksum::combine(&[ph, checksum::data(d)]));
        self.set_checksum(c);
    }

    /// Mutable segment data.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len().min(self.buffer.as_ref().len());
        &mut self.buffer.as_mut()[start..]
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::fixtures::{self, l3};
    use crate::{ipv4, ipv6};

    /// (source, destination, TCP segment) of an Ethernet frame carrying TCP.
    fn split(frame: &[u8]) -> (IpAddr, IpAddr, &[u8]) {
        let ip = l3(frame);
        if ip[0] >> 4 == 4 {
            let p = ipv4::Packet::new_checked(ip).unwrap();
            let r = p.payload_range();
            (p.src_addr().into(), p.dst_addr().into(), &ip[r])
        } else {
            let p = ipv6::Packet::new_checked(ip).unwrap();
            let ul = p.upper_layer().unwrap();
            (
                p.src_addr().into(),
                p.dst_addr().into(),
                &ip[ul.offset..p.payload_range().end],
            )
        }
    }

    static TCP: [&[u8]; 6] = [
        fixtures::TCPV4_SYN,
        fixtures::TCPV4_SYN_ACK,
        fixtures::TCPV4_PSH_DATA,
        fixtures::TCPV4_RST,
        fixtures::TCPV6_SYN,
        fixtures::TCPV6_RST_ACK,
    ];

    #[test]
    fn syn_fields() {
        let (_, _, seg) = split(fixtures::TCPV4_SYN);
        let p = Packet::new_checked(seg).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (59348, 8080));
        assert_eq!(p.seq_number(), 3_094_849_395);
        assert_eq!(p.ack_number(), 0);
        assert_eq!(p.header_len(), 40);
        assert_eq!(p.flags(), flags::SYN);
        assert!(p.syn() && !p.ack() && !p.fin() && !p.rst() && !p.psh() && !p.urg());
        assert_eq!(p.window_len(), 64480);
        assert_eq!(p.checksum(), 0xb957);
        assert_eq!(p.urgent_at(), 0);
        assert_eq!(p.mss(), Some(1240));
        assert_eq!(p.options().len(), 20);
        assert!(p.payload().is_empty());
    }

    #[test]
    fn data_and_flags() {
        let (_, _, seg) = split(fixtures::TCPV4_PSH_DATA);
        let p = Packet::new_checked(seg).unwrap();
        assert!(p.psh() && p.ack());
        assert_eq!(p.payload(), b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(p.mss(), None);
        let (_, _, seg) = split(fixtures::TCPV6_RST_ACK);
        let p = Packet::new_checked(seg).unwrap();
        assert_eq!(p.flags(), flags::RST | flags::ACK);
        assert_eq!(p.ack_number(), 2_731_946_685);
    }

    #[test]
    fn checksums_verify_v4_and_v6() {
        for f in TCP {
            let (s, d, seg) = split(f);
            let p = Packet::new_checked(seg).unwrap();
            assert!(p.verify_checksum(&s, &d));
            let other = if s.is_ipv4() {
                IpAddr::from([0u8; 4])
            } else {
                IpAddr::from([0u8; 16])
            };
            assert!(!p.verify_checksum(&s, &other));
            let mut copy = seg.to_vec();
            let mut q = Packet::new_unchecked(&mut copy[..]);
            q.set_checksum(0x1234);
            q.fill_checksum(&s, &d);
            assert_eq!(q.checksum(), p.checksum());
        }
    }

    #[test]
    fn port_rewrite_keeps_checksum_valid() {
        for f in TCP {
            let (s, d, seg) = split(f);
            let mut copy = seg.to_vec();
            let mut p = Packet::new_checked(&mut copy[..]).unwrap();
            p.rewrite_src_port(1);
            p.rewrite_dst_port(65535);
            assert!(p.verify_checksum(&s, &d));
        }
    }

    #[test]
    fn truncated_prefixes_rejected() {
        for f in TCP {
            let (_, _, seg) = split(f);
            for n in 0..seg.len().min(Packet::new_unchecked(seg).header_len()) {
                assert_eq!(
                    Packet::new_checked(&seg[..n]),
                    Err(Error::Truncated),
                    "prefix {n}"
                );
            }
        }
    }

    #[test]
    fn data_offset_below_five_is_malformed() {
        let (_, _, seg) = split(fixtures::TCPV4_RST);
        let mut b = seg.to_vec();
        b[12] = 0x40;
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Malformed));
    }

    #[test]
    fn mss_parser_survives_bad_options() {
        let mut b = [0u8; 32];
        b[12] = 0x80;
        for opts in [[2u8, 0, 0, 0], [2, 9, 1, 1], [3, 3, 1, 2], [2, 3, 0, 0]] {
            b[20..24].copy_from_slice(&opts);
            b[24..].fill(1);
            assert_eq!(Packet::new_checked(&b[..]).unwrap().mss(), None, "{opts:?}");
        }
        b[20..24].copy_from_slice(&[1, 2, 4, 5]);
        b[24] = 0xb4;
        b[25..].fill(0);
        assert_eq!(Packet::new_checked(&b[..]).unwrap().mss(), Some(0x05b4));
    }
}
