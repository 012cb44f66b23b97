//! ICMP for IPv6 (RFC 4443), and building ICMPv6 error messages.
//!
//! The view spans the ICMPv6 message (the upper-layer payload after any extension
//! headers). [`Packet::new_checked`] checks the 8-byte header; after it no accessor panics.
//! The checksum covers the IPv6 pseudo header. Neighbor Discovery messages are in
//! [`crate::ndisc`].

use core::net::Ipv6Addr;

use crate::{Error, Result, checksum, ip_proto, ipv6};

mod field {
    pub type Field = core::ops::Range<usize>;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const REST: Field = 4..8;
}

/// Length of the ICMPv6 header (type, code, checksum, 4 bytes of message body).
pub const HEADER_LEN: usize = field::REST.end;
/// RFC 4443 §2.4(c): an error message must not exceed the minimum IPv6 MTU.
pub const ERROR_MAX_LEN: usize = 1280;

/// ICMPv6 message types used by rvs.
pub mod msg_type {
    /// Destination unreachable.
    pub const DEST_UNREACH: u8 = 1;
    /// Packet too big (carries the MTU).
    pub const PACKET_TOO_BIG: u8 = 2;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 3;
    /// Parameter problem (carries a pointer).
    pub const PARAM_PROBLEM: u8 = 4;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 128;
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 129;
    /// Router solicitation.
    pub const ROUTER_SOLICIT: u8 = 133;
    /// Router advertisement.
    pub const ROUTER_ADVERT: u8 = 134;
    /// Neighbor solicitation.
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    /// Neighbor advertisement.
    pub const NEIGHBOR_ADVERT: u8 = 136;
}

/// Codes of Destination Unreachable.
pub mod unreach {
    /// No route to destination.
    pub const NO_ROUTE: u8 = 0;
    /// Communication administratively prohibited.
    pub const ADMIN_PROHIBITED: u8 = 1;
    /// Address unreachable.
    pub const ADDRESS: u8 = 3;
    /// Port unreachable.
    pub const PORT: u8 = 4;
}

/// True for error messages (types 0–127), which quote the offending packet.
#[inline]
pub fn is_error_type(t: u8) -> bool {
    t < 128
}

/// A view of an ICMPv6 message.
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

    /// Checks the buffer holds the 8-byte header.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Returns the underlying buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Message type (see [`msg_type`]).
    #[inline]
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// Message code.
    #[inline]
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// Checksum field.
    #[inline]
    pub fn checksum(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[2], d[3]])
    }

    /// The 4 bytes after the checksum as one big-endian word.
    #[inline]
    pub fn rest_of_header(&self) -> u32 {
        let d = self.buffer.as_ref();
        u32::from_be_bytes([d[4], d[5], d[6], d[7]])
    }

    /// MTU of a Packet Too Big message.
    #[inline]
    pub fn mtu(&self) -> u32 {
        self.rest_of_header()
    }

    /// Pointer of a Parameter Problem message.
    #[inline]
    pub fn pointer(&self) -> u32 {
        self.rest_of_header()
    }

    /// Echo identifier (echo request/reply).
    #[inline]
    pub fn echo_ident(&self) -> u16 {
        (self.rest_of_header() >> 16) as u16
    }

    /// Echo sequence number (echo request/reply).
    #[inline]
    pub fn echo_seq_no(&self) -> u16 {
        self.rest_of_header() as u16
    }

    /// True if this is an error message.
    #[inline]
    pub fn is_error(&self) -> bool {
        is_error_type(self.msg_type())
    }

    /// Everything after the 8-byte header.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    /// The quoted original IPv6 packet of an error message; `None` for other types.
    #[inline]
    pub fn original_datagram(&self) -> Option<&[u8]> {
        self.is_error().then(|| self.payload())
    }

    /// True if the checksum (with the IPv6 pseudo header) verifies.
    #[inline]
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        let d = self.buffer.as_ref();
        let Ok(len) = u32::try_from(d.len()) else {
            return false;
        };
        let ph = checksum::pseudo_header_v6(src, dst, ip_proto::ICMPV6, len);
        checksum::combine(&[ph, checksum::data(d)]) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the message type.
    #[inline]
    pub fn set_msg_type(&mut self, v: u8) {
        self.buffer.as_mut()[field::TYPE] = v;
    }

    /// Sets the message code.
    #[inline]
    pub fn set_msg_code(&mut self, v: u8) {
        self.buffer.as_mut()[field::CODE] = v;
    }

    /// Sets the checksum field.
    #[inline]
    pub fn set_checksum(&mut self, v: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the 4 bytes after the checksum.
    #[inline]
    pub fn set_rest_of_header(&mut self, v: u32) {
        self.buffer.as_mut()[field::REST].copy_from_slice(&v.to_be_bytes());
    }

    /// Recomputes the checksum (with the IPv6 pseudo header).
    #[inline]
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let d = self.buffer.as_ref();
        let len = u32::try_from(d.len()).unwrap_or(u32::MAX);
        let ph = checksum::pseudo_header_v6(src, dst, ip_proto::ICMPV6, len);
        let c = checksum::finish(checksum::combine(&[ph, checksum::data(d)]));
        self.set_checksum(c);
    }

    /// Mutable access to everything after the 8-byte header.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// An ICMPv6 error message to build in front of a quote of the offending packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorRepr {
    /// Source of the error (this host's address on the path).
    pub src_addr: Ipv6Addr,
    /// Destination: the offending packet's source.
    pub dst_addr: Ipv6Addr,
    /// ICMPv6 type (an error type).
    pub msg_type: u8,
    /// ICMPv6 code.
    pub code: u8,
    /// The 4 bytes after the checksum (the MTU for Packet Too Big).
    pub rest_of_header: u32,
    /// Hop limit of the error packet.
    pub hop_limit: u8,
}

impl ErrorRepr {
    /// "Packet Too Big" with `mtu`, addressed to the source of `original` (an IPv6 packet,
    /// possibly cut short), hop limit 64.
    pub fn packet_too_big(src_addr: Ipv6Addr, original: &[u8], mtu: u32) -> Result<ErrorRepr> {
        let o = ipv6::Packet::new_checked_partial(original)?;
        Ok(ErrorRepr {
            src_addr,
            dst_addr: o.src_addr(),
            msg_type: msg_type::PACKET_TOO_BIG,
            code: 0,
            rest_of_header: mtu,
            hop_limit: 64,
        })
    }

    /// Bytes [`emit`](Self::emit) writes for an original of `original_len` bytes: IPv6 +
    /// ICMPv6 headers and as much of the original as fits in [`ERROR_MAX_LEN`].
    #[inline]
    pub fn buffer_len(&self, original_len: usize) -> usize {
        (ipv6::HEADER_LEN + HEADER_LEN + original_len).min(ERROR_MAX_LEN)
    }

    /// Writes IPv6 header, ICMPv6 header and the quote of `original` (trimmed to its IPv6
    /// length if shorter) into `out`; returns the packet length.
    ///
    /// The quote is cut to fit [`ERROR_MAX_LEN`] and `out`. Errors: [`Error::NoSpace`] if
    /// `out` cannot hold the two headers.
    pub fn emit(&self, original: &[u8], out: &mut [u8]) -> Result<usize> {
        let original = match ipv6::Packet::new_checked_partial(original) {
            Ok(p) => &original[..p.payload_range().end],
            Err(_) => original,
        };
        let hdrs = ipv6::HEADER_LEN + HEADER_LEN;
        if out.len() < hdrs {
            return Err(Error::NoSpace);
        }
        let total = self.buffer_len(original.len()).min(out.len());
        let quote = total - hdrs;
        out[hdrs..total].copy_from_slice(&original[..quote]);
        let mut icmp = Packet::new_unchecked(&mut out[ipv6::HEADER_LEN..total]);
        icmp.set_msg_type(self.msg_type);
        icmp.set_msg_code(self.code);
        icmp.set_rest_of_header(self.rest_of_header);
        icmp.fill_checksum(&self.src_addr, &self.dst_addr);
        ipv6::Repr {
            src_addr: self.src_addr,
            dst_addr: self.dst_addr,
            next_header: ip_proto::ICMPV6,
            payload_len: total - ipv6::HEADER_LEN,
            hop_limit: self.hop_limit,
            traffic_class: 0,
            flow_label: 0,
        }
        .emit(out)?;
        Ok(total)
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::fixtures::{self, l3};

    /// (source, destination, ICMPv6 message) of a frame.
    fn icmp(frame: &[u8]) -> (Ipv6Addr, Ipv6Addr, &[u8]) {
        let ip = l3(frame);
        let p = ipv6::Packet::new_checked(ip).unwrap();
        let ul = p.upper_layer().unwrap();
        assert_eq!(ul.protocol, ip_proto::ICMPV6);
        (
            p.src_addr(),
            p.dst_addr(),
            &ip[ul.offset..p.payload_range().end],
        )
    }

    #[test]
    fn all_icmpv6_fixtures_verify() {
        for f in [
            fixtures::IPV6_HBH_MLD_REPORT,
            fixtures::ICMPV6_NEIGHBOR_SOLICIT,
            fixtures::ICMPV6_NEIGHBOR_ADVERT,
            fixtures::ICMPV6_ECHO_REQUEST,
            fixtures::ICMPV6_PACKET_TOO_BIG,
            fixtures::ICMPV6_PORT_UNREACH,
        ] {
            let (s, d, m) = icmp(f);
            let p = Packet::new_checked(m).unwrap();
            assert!(p.verify_checksum(&s, &d));
            assert!(!p.verify_checksum(&s, &Ipv6Addr::LOCALHOST));
            let mut b = m.to_vec();
            let mut q = Packet::new_unchecked(&mut b[..]);
            q.fill_checksum(&s, &d);
            assert_eq!(q.checksum(), p.checksum());
        }
    }

    #[test]
    fn echo_fields() {
        let (_, _, m) = icmp(fixtures::ICMPV6_ECHO_REQUEST);
        let p = Packet::new_checked(m).unwrap();
        assert_eq!((p.msg_type(), p.msg_code()), (msg_type::ECHO_REQUEST, 0));
        assert_eq!((p.echo_ident(), p.echo_seq_no()), (0x1234, 1));
        assert!(!p.is_error() && p.original_datagram().is_none());
    }

    #[test]
    fn packet_too_big_quotes_original() {
        let (_, _, m) = icmp(fixtures::ICMPV6_PACKET_TOO_BIG);
        let p = Packet::new_checked(m).unwrap();
        assert_eq!(p.msg_type(), msg_type::PACKET_TOO_BIG);
        assert_eq!(p.mtu(), 1280);
        let inner = ipv6::Packet::new_checked_partial(p.original_datagram().unwrap()).unwrap();
        assert_eq!(inner.payload_len(), 1308);
        assert!(ipv6::Packet::new_checked(p.original_datagram().unwrap()).is_err());
        let e = Packet::new_checked(inner.payload()).unwrap();
        assert_eq!((e.msg_type(), e.echo_seq_no()), (msg_type::ECHO_REQUEST, 2));
    }

    #[test]
    fn port_unreachable_quotes_udp_ports() {
        let (_, _, m) = icmp(fixtures::ICMPV6_PORT_UNREACH);
        let p = Packet::new_checked(m).unwrap();
        assert_eq!(
            (p.msg_type(), p.msg_code()),
            (msg_type::DEST_UNREACH, unreach::PORT)
        );
        let inner = ipv6::Packet::new_checked_partial(p.original_datagram().unwrap()).unwrap();
        let ul = inner.upper_layer().unwrap();
        assert_eq!(ul.protocol, ip_proto::UDP);
        let quote = p.original_datagram().unwrap();
        assert_eq!(
            crate::transport_ports(&quote[ul.offset..]),
            Ok((56568, 5353))
        );
    }

    /// Rebuilding the router's packet-too-big from the quote gives the kernel's bytes
    /// (except the flow label, which Linux hashes and rvs leaves zero).
    #[test]
    fn error_repr_matches_linux() {
        let ip = l3(fixtures::ICMPV6_PACKET_TOO_BIG);
        let outer = ipv6::Packet::new_checked(ip).unwrap();
        let msg = Packet::new_checked(&ip[40..]).unwrap();
        let quote = msg.original_datagram().unwrap();
        let r = ErrorRepr::packet_too_big(outer.src_addr(), quote, 1280).unwrap();
        let mut out = [0u8; 1500];
        let n = r.emit(quote, &mut out).unwrap();
        assert_eq!(n, 1280);
        assert_eq!(r.buffer_len(quote.len()), 1280);
        let mut expected = ip.to_vec();
        ipv6::Packet::new_unchecked(&mut expected[..]).set_version_tc_flow(0, 0);
        assert_eq!(&out[..n], &expected[..]);
        assert_eq!(r.emit(quote, &mut out[..47]), Err(Error::NoSpace));
    }

    #[test]
    fn truncated_prefixes_rejected() {
        let (_, _, m) = icmp(fixtures::ICMPV6_PORT_UNREACH);
        for n in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&m[..n]), Err(Error::Truncated));
        }
    }
}
