//! UDP headers (RFC 768).
//!
//! [`Packet::new_checked`] checks the 8-byte header and `8 <= length <= buffer.len()`;
//! [`Packet::payload`] ends where the length field says. After it no accessor panics.
//! Over IPv4 a checksum of `0` means "none" ([`Packet::verify_checksum`] accepts it);
//! [`Packet::fill_checksum`] sends a computed `0` as `0xffff`.

use core::net::IpAddr;

use crate::{Error, Result, checksum, ip_proto};

mod field {
    pub type Field = core::ops::Range<usize>;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
}

/// Length of the UDP header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

/// A view of a UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

#[inline]
fn be16(d: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([d[at], d[at + 1]])
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

    /// Checks the header and the length field against the buffer.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let l = usize::from(self.len());
        if l < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if l > len {
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

    /// Length field (header + data).
    #[inline]
    pub fn len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH.start)
    }

    /// True if the length field says there is no data.
    #[inline]
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }

    /// Checksum field (`0` = none, IPv4 only).
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM.start)
    }

    #[inline]
    fn datagram(&self) -> &[u8] {
        let d = self.buffer.as_ref();
        &d[..usize::from(self.len()).min(d.len())]
    }

    /// Datagram data, up to the length field.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let d = self.datagram();
        &d[HEADER_LEN.min(d.len())..]
    }

    /// True if the checksum verifies (or is `0` over IPv4, meaning none).
    #[inline]
    pub fn verify_checksum(&self, src: &IpAddr, dst: &IpAddr) -> bool {
        if self.checksum() == 0 {
            return src.is_ipv4();
        }
        let d = self.datagram();
        let ph = checksum::pseudo_header(src, dst, ip_proto::UDP, u32::from(self.len()));
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

    /// Sets the length field.
    #[inline]
    pub fn set_len(&mut self, v: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the checksum field.
    #[inline]
    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    /// Rewrites the source port, patching the checksum (UDP zero rules).
    #[inline]
    pub fn rewrite_src_port(&mut self, v: u16) {
        let c = checksum::udp_update_u16(self.checksum(), self.src_port(), v);
        self.set_src_port(v);
        self.set_checksum(c);
    }

    /// Rewrites the destination port, patching the checksum (UDP zero rules).
    #[inline]
    pub fn rewrite_dst_port(&mut self, v: u16) {
        let c = checksum::udp_update_u16(self.checksum(), self.dst_port(), v);
        self.set_dst_port(v);
        self.set_checksum(c);
    }

    /// Recomputes the checksum over the datagram (up to the length field); a computed `0`
    /// is written as `0xffff`.
    #[inline]
    pub fn fill_checksum(&mut self, src: &IpAddr, dst: &IpAddr) {
        self.set_checksum(0);
        let ph = checksum::pseudo_header(src, dst, ip_proto::UDP, u32::from(self.len()));
        let c = checksum::finish(checksum::combine(&[ph, checksum::data(self.datagram())]));
        self.set_checksum(checksum::udp_wire(c));
    }

    /// Mutable datagram data, up to the length field.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.len()).min(self.buffer.as_ref().len());
        let start = HEADER_LEN.min(end);
        &mut self.buffer.as_mut()[start..end]
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::fixtures::{self, l3};
    use crate::{ipv4, ipv6};

    fn v4() -> (IpAddr, IpAddr, &'static [u8]) {
        let ip = l3(fixtures::UDPV4_DATAGRAM);
        let p = ipv4::Packet::new_checked(ip).unwrap();
        (
            p.src_addr().into(),
            p.dst_addr().into(),
            &ip[p.payload_range()],
        )
    }

    fn v6() -> (IpAddr, IpAddr, &'static [u8]) {
        let ip = l3(fixtures::UDPV6_DATAGRAM);
        let p = ipv6::Packet::new_checked(ip).unwrap();
        (
            p.src_addr().into(),
            p.dst_addr().into(),
            &ip[p.payload_range()],
        )
    }

    #[test]
    fn fields() {
        let (s, d, dg) = v4();
        let p = Packet::new_checked(dg).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.len()), (36589, 5353, 28));
        assert_eq!(p.payload(), b"rvs-wire udp fixture");
        assert!(!p.is_empty());
        assert!(p.verify_checksum(&s, &d));
        let (s, d, dg) = v6();
        let p = Packet::new_checked(dg).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (56568, 5353));
        assert_eq!(p.payload(), b"rvs-wire udp6 fixture");
        assert!(p.verify_checksum(&s, &d));
    }

    #[test]
    fn fill_matches_capture_and_rewrites_verify() {
        for (s, d, dg) in [v4(), v6()] {
            let mut b = dg.to_vec();
            let mut p = Packet::new_checked(&mut b[..]).unwrap();
            let orig = p.checksum();
            p.fill_checksum(&s, &d);
            assert_eq!(p.checksum(), orig);
            p.rewrite_src_port(40000);
            p.rewrite_dst_port(53);
            assert!(p.verify_checksum(&s, &d));
        }
    }

    #[test]
    fn zero_checksum_rules() {
        let (s, d, dg) = v4();
        let mut b = dg.to_vec();
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.set_checksum(0);
        assert!(p.verify_checksum(&s, &d));
        p.rewrite_dst_port(53);
        assert_eq!(p.checksum(), 0, "no checksum stays no checksum");
        let (s6, d6, dg6) = v6();
        let mut b = dg6.to_vec();
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.set_checksum(0);
        assert!(!p.verify_checksum(&s6, &d6), "zero is invalid over IPv6");
    }

    #[test]
    fn computed_zero_is_sent_as_ffff() {
        // Choose the last data word so the sum is 0xffff (checksum 0): fill must write 0xffff.
        let (s, d, dg) = v4();
        let mut b = dg.to_vec();
        let n = b.len();
        b[n - 2..].fill(0);
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum(&s, &d);
        let c = p.checksum();
        // Putting `c` in the zeroed word makes the sum S + !S = 0xffff, i.e. checksum 0.
        b[n - 2..].copy_from_slice(&c.to_be_bytes());
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum(&s, &d);
        assert_eq!(p.checksum(), 0xffff);
        assert!(p.verify_checksum(&s, &d));
    }

    #[test]
    fn truncated_and_malformed() {
        let (_, _, dg) = v4();
        for n in 0..dg.len() {
            assert_eq!(
                Packet::new_checked(&dg[..n]),
                Err(Error::Truncated),
                "prefix {n}"
            );
        }
        let mut b = dg.to_vec();
        b[4..6].copy_from_slice(&7u16.to_be_bytes());
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Malformed));
        b[4..6].copy_from_slice(&8u16.to_be_bytes());
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(p.is_empty() && p.payload().is_empty());
    }
}
