//! ICMP for IPv4 (RFC 792, RFC 1191), and building ICMP error messages.
//!
//! The view spans the ICMP message (the IPv4 payload). [`Packet::new_checked`] checks the
//! 8-byte header; after it no accessor panics. For error messages,
//! [`Packet::original_datagram`] is the quoted original IP packet (usually cut short: view
//! it with [`ipv4::Packet::new_checked_partial`](crate::ipv4::Packet::new_checked_partial)).

use core::net::Ipv4Addr;

use crate::{Error, Result, checksum, ip_proto, ipv4};

mod field {
    pub type Field = core::ops::Range<usize>;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const REST: Field = 4..8;
}

/// Length of the ICMP header (type, code, checksum, 4 bytes of "rest of header").
pub const HEADER_LEN: usize = field::REST.end;
/// RFC 1812 §4.3.2.3: an ICMP error IP packet should not exceed 576 bytes.
pub const ERROR_MAX_LEN: usize = 576;

/// ICMPv4 message types used by rvs.
pub mod msg_type {
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable (codes in [`super::unreach`]).
    pub const DEST_UNREACH: u8 = 3;
    /// Source quench (deprecated, still an error message).
    pub const SOURCE_QUENCH: u8 = 4;
    /// Redirect.
    pub const REDIRECT: u8 = 5;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 8;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
    /// Parameter problem.
    pub const PARAM_PROBLEM: u8 = 12;
}

/// Codes of Destination Unreachable.
pub mod unreach {
    /// Network unreachable.
    pub const NET: u8 = 0;
    /// Host unreachable.
    pub const HOST: u8 = 1;
    /// Protocol unreachable.
    pub const PROTOCOL: u8 = 2;
    /// Port unreachable.
    pub const PORT: u8 = 3;
    /// Fragmentation needed and DF set (carries the next-hop MTU).
    pub const FRAG_NEEDED: u8 = 4;
    /// Communication administratively prohibited.
    pub const ADMIN_PROHIBITED: u8 = 13;
}

/// True for the message types that quote an original datagram.
#[inline]
pub fn is_error_type(t: u8) -> bool {
    matches!(
        t,
        msg_type::DEST_UNREACH
            | msg_type::SOURCE_QUENCH
            | msg_type::REDIRECT
            | msg_type::TIME_EXCEEDED
            | msg_type::PARAM_PROBLEM
    )
}

/// A view of an ICMPv4 message.
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

    /// The 4 "rest of header" bytes as one big-endian word.
    #[inline]
    pub fn rest_of_header(&self) -> u32 {
        let d = self.buffer.as_ref();
        u32::from_be_bytes([d[4], d[5], d[6], d[7]])
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

    /// Next-hop MTU of a fragmentation-needed message (RFC 1191).
    #[inline]
    pub fn next_hop_mtu(&self) -> u16 {
        self.rest_of_header() as u16
    }

    /// True if this is an error message (it quotes an original datagram).
    #[inline]
    pub fn is_error(&self) -> bool {
        is_error_type(self.msg_type())
    }

    /// Everything after the 8-byte header.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }

    /// The quoted original IP datagram of an error message; `None` for other types.
    #[inline]
    pub fn original_datagram(&self) -> Option<&[u8]> {
        self.is_error().then(|| self.payload())
    }

    /// True if the checksum over the whole message verifies.
    #[inline]
    pub fn verify_checksum(&self) -> bool {
        checksum::data(self.buffer.as_ref()) == 0xffff
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

    /// Sets the 4 "rest of header" bytes.
    #[inline]
    pub fn set_rest_of_header(&mut self, v: u32) {
        self.buffer.as_mut()[field::REST].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the echo identifier.
    #[inline]
    pub fn set_echo_ident(&mut self, v: u16) {
        self.buffer.as_mut()[4..6].copy_from_slice(&v.to_be_bytes());
    }

    /// Sets the echo sequence number.
    #[inline]
    pub fn set_echo_seq_no(&mut self, v: u16) {
        self.buffer.as_mut()[6..8].copy_from_slice(&v.to_be_bytes());
    }

    /// Recomputes the checksum over the whole message.
    #[inline]
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::finish(checksum::data(self.buffer.as_ref()));
        self.set_checksum(c);
    }

    /// Mutable access to everything after the 8-byte header.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// An ICMPv4 error message to build in front of a quote of the offending packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorRepr {
    /// Source of the error (this host's address on the path).
    pub src_addr: Ipv4Addr,
    /// Destination: the offending packet's source.
    pub dst_addr: Ipv4Addr,
    /// ICMP type (an error type).
    pub msg_type: u8,
    /// ICMP code.
    pub code: u8,
    /// The 4 bytes after the checksum (e.g. the next-hop MTU in the low half).
    pub rest_of_header: u32,
    /// TTL of the error packet.
    pub ttl: u8,
    /// TOS of the error packet (Linux uses 0xc0, internetwork control).
    pub tos: u8,
    /// IPv4 identification of the error packet.
    pub ident: u16,
}

impl ErrorRepr {
    /// "Fragmentation needed and DF set" with `mtu`, addressed to the source of `original`
    /// (an IPv4 packet, possibly cut short), TTL 64, TOS 0xc0.
    pub fn frag_needed(src_addr: Ipv4Addr, original: &[u8], mtu: u16) -> Result<ErrorRepr> {
        let o = ipv4::Packet::new_checked_partial(original)?;
        Ok(ErrorRepr {
            src_addr,
            dst_addr: o.src_addr(),
            msg_type: msg_type::DEST_UNREACH,
            code: unreach::FRAG_NEEDED,
            rest_of_header: u32::from(mtu),
            ttl: 64,
            tos: 0xc0,
            ident: 0,
        })
    }

    /// Bytes [`emit`](Self::emit) writes for an original of `original_len` bytes: IPv4 +
    /// ICMP headers and as much of the original as fits in [`ERROR_MAX_LEN`].
    #[inline]
    pub fn buffer_len(&self, original_len: usize) -> usize {
        (ipv4::HEADER_LEN + HEADER_LEN + original_len).min(ERROR_MAX_LEN)
    }

    /// Writes IPv4 header, ICMP header and the quote of `original` (trimmed to its IPv4
    /// total length if that is shorter) into `out`; returns the packet length.
    ///
    /// The quote is cut to fit [`ERROR_MAX_LEN`] and `out`. Errors: [`Error::NoSpace`] if
    /// `out` cannot hold the two headers.
    pub fn emit(&self, original: &[u8], out: &mut [u8]) -> Result<usize> {
        let original = match ipv4::Packet::new_checked_partial(original) {
            Ok(p) => &original[..usize::from(p.total_len()).clamp(p.header_len(), original.len())],
            Err(_) => original,
        };
        let hdrs = ipv4::HEADER_LEN + HEADER_LEN;
        if out.len() < hdrs {
            return Err(Error::NoSpace);
        }
        let total = self.buffer_len(original.len()).min(out.len());
        let quote = total - hdrs;
        out[hdrs..total].copy_from_slice(&original[..quote]);
        let mut icmp = Packet::new_unchecked(&mut out[ipv4::HEADER_LEN..total]);
        icmp.set_msg_type(self.msg_type);
        icmp.set_msg_code(self.code);
        icmp.set_rest_of_header(self.rest_of_header);
        icmp.fill_checksum();
        ipv4::Repr {
            src_addr: self.src_addr,
            dst_addr: self.dst_addr,
            protocol: ip_proto::ICMP,
            payload_len: total - ipv4::HEADER_LEN,
            ttl: self.ttl,
            tos: self.tos,
            ident: self.ident,
            dont_frag: false,
        }
        .emit(out)?;
        Ok(total)
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::fixtures::{self, l3};

    fn icmp(frame: &[u8]) -> &[u8] {
        let ip = l3(frame);
        &ip[ipv4::Packet::new_checked(ip).unwrap().payload_range()]
    }

    #[test]
    fn echo_request() {
        let p = Packet::new_checked(icmp(fixtures::ICMPV4_ECHO_REQUEST)).unwrap();
        assert_eq!((p.msg_type(), p.msg_code()), (msg_type::ECHO_REQUEST, 0));
        assert_eq!((p.echo_ident(), p.echo_seq_no()), (0x1234, 1));
        assert_eq!(p.payload().len(), 56);
        assert!(!p.is_error() && p.original_datagram().is_none());
        assert!(p.verify_checksum());
        let mut b = icmp(fixtures::ICMPV4_ECHO_REQUEST).to_vec();
        let mut q = Packet::new_checked(&mut b[..]).unwrap();
        q.set_msg_type(msg_type::ECHO_REPLY);
        q.set_echo_ident(7);
        q.set_echo_seq_no(9);
        q.fill_checksum();
        assert!(q.verify_checksum());
        assert_eq!((q.echo_ident(), q.echo_seq_no()), (7, 9));
    }

    #[test]
    fn frag_needed_quotes_original() {
        let p = Packet::new_checked(icmp(fixtures::ICMPV4_FRAG_NEEDED)).unwrap();
        assert_eq!(
            (p.msg_type(), p.msg_code()),
            (msg_type::DEST_UNREACH, unreach::FRAG_NEEDED)
        );
        assert_eq!(p.next_hop_mtu(), 1280);
        assert!(p.verify_checksum());
        let quote = p.original_datagram().unwrap();
        assert_eq!(quote.len(), 576 - 28);
        assert!(
            ipv4::Packet::new_checked(quote).is_err(),
            "quote is cut short"
        );
        let inner = ipv4::Packet::new_checked_partial(quote).unwrap();
        assert_eq!(inner.total_len(), 1328);
        assert!(inner.dont_frag());
        assert_eq!(inner.dst_addr(), Ipv4Addr::new(203, 0, 113, 2));
        let echo = Packet::new_checked(inner.payload()).unwrap();
        assert_eq!(
            (echo.msg_type(), echo.echo_seq_no()),
            (msg_type::ECHO_REQUEST, 2)
        );
    }

    #[test]
    fn port_unreachable_quotes_udp_ports() {
        let p = Packet::new_checked(icmp(fixtures::ICMPV4_PORT_UNREACH)).unwrap();
        assert_eq!(
            (p.msg_type(), p.msg_code()),
            (msg_type::DEST_UNREACH, unreach::PORT)
        );
        let inner = ipv4::Packet::new_checked_partial(p.original_datagram().unwrap()).unwrap();
        assert_eq!(inner.protocol(), ip_proto::UDP);
        assert_eq!(crate::transport_ports(inner.payload()), Ok((36589, 5353)));
    }

    /// Rebuilding the router's frag-needed from the quote gives the kernel's bytes exactly.
    #[test]
    fn error_repr_matches_linux() {
        let ip = l3(fixtures::ICMPV4_FRAG_NEEDED);
        let outer = ipv4::Packet::new_checked(ip).unwrap();
        let msg = Packet::new_checked(&ip[20..]).unwrap();
        let quote = msg.original_datagram().unwrap();
        let mut r = ErrorRepr::frag_needed(outer.src_addr(), quote, 1280).unwrap();
        r.ident = outer.ident();
        assert_eq!(r.dst_addr, Ipv4Addr::new(198, 51, 100, 1));
        let mut out = [0u8; 1500];
        let n = r.emit(quote, &mut out).unwrap();
        assert_eq!(n, 576);
        assert_eq!(r.buffer_len(quote.len()), 576);
        assert_eq!(&out[..n], ip);
    }

    #[test]
    fn error_repr_short_original_and_small_buffer() {
        let orig = l3(fixtures::UDPV4_DATAGRAM);
        let r = ErrorRepr::frag_needed(Ipv4Addr::new(198, 51, 100, 2), orig, 1000).unwrap();
        let mut out = [0u8; 100];
        let n = r.emit(orig, &mut out).unwrap();
        assert_eq!(n, 28 + 48);
        let p = ipv4::Packet::new_checked(&out[..n]).unwrap();
        assert!(p.verify_checksum());
        let icmp = Packet::new_checked(p.payload()).unwrap();
        assert!(icmp.verify_checksum());
        assert_eq!(icmp.original_datagram().unwrap(), orig);
        // A buffer smaller than the quote cuts the quote, still a valid packet.
        let n = r.emit(orig, &mut out[..40]).unwrap();
        assert_eq!(n, 40);
        assert!(Packet::new_checked(&out[20..40]).unwrap().verify_checksum());
        assert_eq!(r.emit(orig, &mut out[..27]), Err(Error::NoSpace));
        assert!(ErrorRepr::frag_needed(Ipv4Addr::UNSPECIFIED, &orig[..10], 1).is_err());
    }

    #[test]
    fn truncated_prefixes_rejected() {
        let b = icmp(fixtures::ICMPV4_PORT_UNREACH);
        for n in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&b[..n]), Err(Error::Truncated));
        }
    }
}
