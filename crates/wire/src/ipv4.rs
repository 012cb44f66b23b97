//! IPv4 headers (RFC 791), with options.
//!
//! [`Packet::new_checked`] checks version 4, `IHL >= 5`, that the buffer holds the header
//! with its options, and `header_len <= total_len <= buffer.len()` (trailing link padding is
//! allowed and excluded from [`Packet::payload`]). [`Packet::new_checked_partial`] checks
//! the header only, for the quoted datagram inside an ICMP error, whose payload is cut
//! short. After either succeeds, no accessor panics.

use core::net::Ipv4Addr;

use crate::{Error, Result, checksum};

mod field {
    pub type Field = core::ops::Range<usize>;
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
}

/// Length of an IPv4 header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;
/// Largest IPv4 header (IHL = 15).
pub const MAX_HEADER_LEN: usize = 60;
/// The "don't fragment" flag bit of the flags/fragment-offset word.
const DF: u16 = 0x4000;
/// The "more fragments" flag bit.
const MF: u16 = 0x2000;

/// A view of an IPv4 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
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

    /// Wraps a buffer checking only the header (ICMP error quotes): the total length may
    /// exceed the buffer; [`payload`](Self::payload) then returns what is there.
    #[inline]
    pub fn new_checked_partial(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_header()?;
        Ok(p)
    }

    #[inline]
    fn check_header(&self) -> Result<()> {
        let d = self.buffer.as_ref();
        if d.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 4 || self.header_len() < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if d.len() < self.header_len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Checks header and total length against the buffer (see module docs).
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        self.check_header()?;
        let total = usize::from(self.total_len());
        if total < self.header_len() {
            return Err(Error::Malformed);
        }
        if total > self.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The version field (4 after a successful check).
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL × 4), options included.
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// The whole second byte: DSCP (6 bits) and ECN (2 bits), a.k.a. TOS.
    #[inline]
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN]
    }

    /// Differentiated services code point.
    #[inline]
    pub fn dscp(&self) -> u8 {
        self.tos() >> 2
    }

    /// Explicit congestion notification bits.
    #[inline]
    pub fn ecn(&self) -> u8 {
        self.tos() & 0x03
    }

    /// Total length field (header + payload).
    #[inline]
    pub fn total_len(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[field::LENGTH.start], d[field::LENGTH.start + 1]])
    }

    /// Identification field.
    #[inline]
    pub fn ident(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[field::IDENT.start], d[field::IDENT.start + 1]])
    }

    #[inline]
    fn flags_offset(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[field::FLG_OFF.start], d[field::FLG_OFF.start + 1]])
    }

    /// The "don't fragment" flag.
    #[inline]
    pub fn dont_frag(&self) -> bool {
        self.flags_offset() & DF != 0
    }

    /// The "more fragments" flag.
    #[inline]
    pub fn more_frags(&self) -> bool {
        self.flags_offset() & MF != 0
    }

    /// Fragment offset in bytes.
    #[inline]
    pub fn frag_offset(&self) -> u16 {
        (self.flags_offset() & 0x1fff) << 3
    }

    /// True if this packet is a fragment (MF set or a nonzero offset).
    #[inline]
    pub fn is_fragment(&self) -> bool {
        self.flags_offset() & (MF | 0x1fff) != 0
    }

    /// True if this is a fragment other than the first (no transport header in it).
    #[inline]
    pub fn is_non_first_fragment(&self) -> bool {
        self.flags_offset() & 0x1fff != 0
    }

    /// Time to live.
    #[inline]
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Protocol of the payload (see [`crate::ip_proto`]).
    #[inline]
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    /// Header checksum field.
    #[inline]
    pub fn checksum(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[field::CHECKSUM.start], d[field::CHECKSUM.start + 1]])
    }

    /// Source address.
    #[inline]
    pub fn src_addr(&self) -> Ipv4Addr {
        let d = self.buffer.as_ref();
        Ipv4Addr::new(d[12], d[13], d[14], d[15])
    }

    /// Destination address.
    #[inline]
    pub fn dst_addr(&self) -> Ipv4Addr {
        let d = self.buffer.as_ref();
        Ipv4Addr::new(d[16], d[17], d[18], d[19])
    }

    /// IPv4 options (between the fixed header and the payload).
    #[inline]
    pub fn options(&self) -> &[u8] {
        let d = self.buffer.as_ref();
        &d[HEADER_LEN..self.header_len().clamp(HEADER_LEN, d.len())]
    }

    /// True if the header checksum verifies.
    #[inline]
    pub fn verify_checksum(&self) -> bool {
        let d = self.buffer.as_ref();
        checksum::data(&d[..self.header_len().min(d.len())]) == 0xffff
    }

    /// Byte range of the payload within the buffer: header end to total length, clamped
    /// to what the buffer holds.
    #[inline]
    pub fn payload_range(&self) -> core::ops::Range<usize> {
        let len = self.buffer.as_ref().len();
        let start = self.header_len().min(len);
        start..usize::from(self.total_len()).clamp(start, len)
    }

    /// The payload (transport header onwards), without link-layer padding.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let r = self.payload_range();
        &self.buffer.as_ref()[r]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version 4 and the header length in bytes (rounded down to 4-byte words).
    #[inline]
    pub fn set_version_and_header_len(&mut self, header_len: usize) {
        self.buffer.as_mut()[field::VER_IHL] = 0x40 | ((header_len / 4) as u8 & 0x0f);
    }

    /// Sets the TOS byte (DSCP and ECN).
    #[inline]
    pub fn set_tos(&mut self, tos: u8) {
        self.buffer.as_mut()[field::DSCP_ECN] = tos;
    }

    /// Sets the total length field.
    #[inline]
    pub fn set_total_len(&mut self, len: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&len.to_be_bytes());
    }

    /// Sets the identification field.
    #[inline]
    pub fn set_ident(&mut self, ident: u16) {
        self.buffer.as_mut()[field::IDENT].copy_from_slice(&ident.to_be_bytes());
    }

    /// Sets flags and fragment offset: `DF` as given, no `MF`, offset 0.
    #[inline]
    pub fn set_dont_frag_unfragmented(&mut self, dont_frag: bool) {
        let v: u16 = if dont_frag { DF } else { 0 };
        self.buffer.as_mut()[field::FLG_OFF].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the time to live.
    #[inline]
    pub fn set_ttl(&mut self, ttl: u8) {
        self.buffer.as_mut()[field::TTL] = ttl;
    }

    /// Sets the protocol field.
    #[inline]
    pub fn set_protocol(&mut self, p: u8) {
        self.buffer.as_mut()[field::PROTOCOL] = p;
    }

    /// Sets the checksum field.
    #[inline]
    pub fn set_checksum(&mut self, c: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }

    /// Sets the source address (no checksum update).
    #[inline]
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&a.octets());
    }

    /// Sets the destination address (no checksum update).
    #[inline]
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&a.octets());
    }

    /// Rewrites the source address and patches the header checksum incrementally.
    #[inline]
    pub fn rewrite_src_addr(&mut self, a: Ipv4Addr) {
        let c = checksum::update_ipv4_addr(self.checksum(), self.src_addr(), a);
        self.set_src_addr(a);
        self.set_checksum(c);
    }

    /// Rewrites the destination address and patches the header checksum incrementally.
    #[inline]
    pub fn rewrite_dst_addr(&mut self, a: Ipv4Addr) {
        let c = checksum::update_ipv4_addr(self.checksum(), self.dst_addr(), a);
        self.set_dst_addr(a);
        self.set_checksum(c);
    }

    /// Decrements the TTL with an incremental checksum update; returns the new TTL
    /// (`None`, unchanged, if it was already 0).
    #[inline]
    pub fn decrement_ttl(&mut self) -> Option<u8> {
        let ttl = self.ttl().checked_sub(1)?;
        let d = self.buffer.as_ref();
        let old = u16::from_be_bytes([d[field::TTL], d[field::PROTOCOL]]);
        let new = u16::from_be_bytes([ttl, d[field::PROTOCOL]]);
        let c = checksum::update_u16(self.checksum(), old, new);
        self.set_ttl(ttl);
        self.set_checksum(c);
        Some(ttl)
    }

    /// Recomputes the header checksum.
    #[inline]
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let d = self.buffer.as_ref();
        let c = checksum::finish(checksum::data(&d[..self.header_len().min(d.len())]));
        self.set_checksum(c);
    }

    /// Mutable payload (see [`payload`](Packet::payload)).
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let r = self.payload_range();
        &mut self.buffer.as_mut()[r]
    }
}

/// A high-level IPv4 header without options, for building packets (slow path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Payload protocol.
    pub protocol: u8,
    /// Payload length in bytes (total length minus 20).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// TOS byte (DSCP and ECN).
    pub tos: u8,
    /// Identification field.
    pub ident: u16,
    /// Don't-fragment flag.
    pub dont_frag: bool,
}

impl Repr {
    /// Reads the fields of a checked packet (options are dropped).
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Repr {
        Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            protocol: p.protocol(),
            payload_len: p.payload().len(),
            ttl: p.ttl(),
            tos: p.tos(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
        }
    }

    /// Bytes the header takes (always [`HEADER_LEN`]).
    #[inline]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header with a valid checksum into `buf[..20]`.
    ///
    /// Errors: [`Error::NoSpace`] if `buf` is shorter than 20, [`Error::TooLong`] if
    /// 20 + `payload_len` exceeds 65535.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let total = u16::try_from(HEADER_LEN + self.payload_len).map_err(|_| Error::TooLong)?;
        let h = buf.get_mut(..HEADER_LEN).ok_or(Error::NoSpace)?;
        let mut p = Packet::new_unchecked(h);
        p.set_version_and_header_len(HEADER_LEN);
        p.set_tos(self.tos);
        p.set_total_len(total);
        p.set_ident(self.ident);
        p.set_dont_frag_unfragmented(self.dont_frag);
        p.set_ttl(self.ttl);
        p.set_protocol(self.protocol);
        p.set_src_addr(self.src_addr);
        p.set_dst_addr(self.dst_addr);
        p.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::fixtures::{self, l3};
    use crate::ip_proto;

    fn v4_fixtures() -> impl Iterator<Item = &'static [u8]> {
        fixtures::ALL
            .iter()
            .filter(|f| f[12..14] == [0x08, 0x00])
            .map(|f| l3(f))
    }

    #[test]
    fn syn_fields() {
        let p = Packet::new_checked(l3(fixtures::TCPV4_SYN)).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.tos(), 0);
        assert_eq!(p.total_len(), 60);
        assert_eq!(p.ident(), 30448);
        assert!(p.dont_frag() && !p.more_frags() && !p.is_fragment());
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), ip_proto::TCP);
        assert_eq!(p.src_addr(), Ipv4Addr::new(198, 51, 100, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(203, 0, 113, 2));
        assert_eq!(p.payload().len(), 40);
        assert!(p.options().is_empty());
        assert!(p.verify_checksum());
        let r = Repr::parse(&p);
        let mut out = [0u8; 20];
        r.emit(&mut out).unwrap();
        assert_eq!(&out[..], &l3(fixtures::TCPV4_SYN)[..20]);
    }

    #[test]
    fn frag_needed_is_tos_c0() {
        let p = Packet::new_checked(l3(fixtures::ICMPV4_FRAG_NEEDED)).unwrap();
        assert_eq!((p.tos(), p.dscp(), p.ecn()), (0xc0, 0x30, 0));
        assert_eq!(p.total_len(), 576);
        assert!(!p.dont_frag());
    }

    #[test]
    fn all_fixture_checksums_verify() {
        let mut n = 0;
        for b in v4_fixtures() {
            let p = Packet::new_checked(b).unwrap();
            assert!(p.verify_checksum());
            let mut copy = b.to_vec();
            let mut q = Packet::new_unchecked(&mut copy[..]);
            q.set_checksum(0);
            q.fill_checksum();
            assert_eq!(q.checksum(), p.checksum());
            n += 1;
        }
        assert_eq!(n, 8);
    }

    #[test]
    fn truncated_prefixes_rejected() {
        for b in v4_fixtures() {
            for n in 0..b.len() {
                assert!(Packet::new_checked(&b[..n]).is_err(), "prefix {n}");
                if n < 20 {
                    assert_eq!(Packet::new_checked_partial(&b[..n]), Err(Error::Truncated));
                } else {
                    let p = Packet::new_checked_partial(&b[..n]).unwrap();
                    assert_eq!(p.payload(), &b[20..n]);
                }
            }
        }
    }

    #[test]
    fn link_padding_is_not_payload() {
        let mut b = l3(fixtures::TCPV4_RST).to_vec();
        b.extend_from_slice(&[0; 6]);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload().len(), 20);
    }

    #[test]
    fn malformed_headers() {
        let good = l3(fixtures::TCPV4_RST);
        let mut b = good.to_vec();
        b[0] = 0x55;
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Malformed));
        b[0] = 0x44;
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Malformed));
        b[0] = 0x4f;
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Truncated));
        b[0] = 0x45;
        b[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Malformed));
        assert!(
            Packet::new_checked_partial(&b[..])
                .unwrap()
                .payload()
                .is_empty()
        );
    }

    #[test]
    fn options_are_exposed() {
        // Same RST with a 4-byte NOP,NOP,NOP,EOL option block: IHL 6, total 44.
        let rst = l3(fixtures::TCPV4_RST);
        let mut b = Vec::new();
        b.extend_from_slice(&rst[..20]);
        b.extend_from_slice(&[1, 1, 1, 0]);
        b.extend_from_slice(&rst[20..]);
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_version_and_header_len(24);
        p.set_total_len(44);
        p.fill_checksum();
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.options(), &[1, 1, 1, 0]);
        assert_eq!(p.payload(), &rst[20..]);
        assert!(p.verify_checksum());
    }

    #[test]
    fn rewrites_keep_checksum_valid() {
        let mut b = l3(fixtures::TCPV4_SYN_ACK).to_vec();
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.rewrite_src_addr(Ipv4Addr::new(198, 51, 100, 200));
        p.rewrite_dst_addr(Ipv4Addr::new(255, 255, 255, 255));
        assert!(p.verify_checksum());
        assert_eq!(p.decrement_ttl(), Some(62));
        assert!(p.verify_checksum());
        p.set_ttl(0);
        p.fill_checksum();
        assert_eq!(p.decrement_ttl(), None);
        assert!(p.verify_checksum());
    }

    #[test]
    fn repr_limits() {
        let r = Repr {
            src_addr: Ipv4Addr::new(198, 51, 100, 1),
            dst_addr: Ipv4Addr::new(198, 51, 100, 2),
            protocol: ip_proto::UDP,
            payload_len: 65516,
            ttl: 1,
            tos: 0,
            ident: 7,
            dont_frag: true,
        };
        assert_eq!(r.emit(&mut [0u8; 20]), Err(Error::TooLong));
        assert_eq!(
            Repr {
                payload_len: 8,
                ..r
            }
            .emit(&mut [0u8; 19]),
            Err(Error::NoSpace)
        );
    }
}
