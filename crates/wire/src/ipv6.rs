//! IPv6 headers (RFC 8200) and the extension-header walk to the upper-layer header.
//!
//! [`Packet::new_checked`] checks version 6, the 40-byte header and that the payload length
//! fits in the buffer (trailing link padding is allowed and excluded from
//! [`Packet::payload`]). [`Packet::new_checked_partial`] checks the fixed header only, for
//! ICMPv6 error quotes. After either succeeds no accessor panics. [`Packet::upper_layer`]
//! walks extension headers within the payload and reports the transport protocol.

use core::net::Ipv6Addr;

use crate::{Error, Result, ip_proto};

mod field {
    pub type Field = core::ops::Range<usize>;
    pub const VER_TC_FLOW: Field = 0..4;
    pub const LENGTH: Field = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Field = 8..24;
    pub const DST_ADDR: Field = 24..40;
}

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;
/// At most this many extension headers are walked before giving up (bounds the work).
pub const MAX_EXT_HEADERS: usize = 8;

/// A view of an IPv6 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

/// What [`Packet::upper_layer`] found after the extension headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UpperLayer {
    /// Protocol of the upper-layer header (TCP, UDP, ICMPv6, ESP, `IPV6_NONXT`...).
    pub protocol: u8,
    /// Offset of the upper-layer header from the start of the IPv6 header.
    pub offset: usize,
    /// The fragment header, if one was crossed.
    pub fragment: Option<Fragment>,
}

impl UpperLayer {
    /// True if a fragment header was seen.
    #[inline]
    pub fn is_fragment(&self) -> bool {
        self.fragment.is_some()
    }

    /// True if the transport header is present: not a non-first fragment.
    #[inline]
    pub fn has_transport_header(&self) -> bool {
        self.fragment.is_none_or(|f| f.offset == 0)
    }
}

/// Fields of an IPv6 Fragment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// Fragment offset in bytes.
    pub offset: u16,
    /// The M (more fragments) flag.
    pub more: bool,
    /// Identification.
    pub ident: u32,
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

    /// Wraps a buffer checking only the fixed header (ICMPv6 error quotes).
    #[inline]
    pub fn new_checked_partial(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_header()?;
        Ok(p)
    }

    #[inline]
    fn check_header(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 6 {
            return Err(Error::Malformed);
        }
        Ok(())
    }

    /// Checks the fixed header and the payload length against the buffer.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        self.check_header()?;
        if HEADER_LEN + usize::from(self.payload_len()) > self.buffer.as_ref().len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Returns the underlying buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    #[inline]
    fn word0(&self) -> u32 {
        let d = self.buffer.as_ref();
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    }

    /// The version field (6 after a successful check).
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// Traffic class (DSCP and ECN).
    #[inline]
    pub fn traffic_class(&self) -> u8 {
        (self.word0() >> 20) as u8
    }

    /// Flow label (20 bits).
    #[inline]
    pub fn flow_label(&self) -> u32 {
        self.word0() & 0x000f_ffff
    }

    /// Payload length field (everything after the fixed header).
    #[inline]
    pub fn payload_len(&self) -> u16 {
        let d = self.buffer.as_ref();
        u16::from_be_bytes([d[field::LENGTH.start], d[field::LENGTH.start + 1]])
    }

    /// Next header field of the fixed header.
    #[inline]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NXT_HDR]
    }

    /// Hop limit.
    #[inline]
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// Source address.
    #[inline]
    pub fn src_addr(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), field::SRC_ADDR.start)
    }

    /// Destination address.
    #[inline]
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr_at(self.buffer.as_ref(), field::DST_ADDR.start)
    }

    /// Byte range of the payload in the buffer, clamped to what the buffer holds.
    #[inline]
    pub fn payload_range(&self) -> core::ops::Range<usize> {
        let len = self.buffer.as_ref().len();
        let start = HEADER_LEN.min(len);
        start..(HEADER_LEN + usize::from(self.payload_len())).clamp(start, len)
    }

    /// Everything after the fixed header (extension headers included), without padding.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let r = self.payload_range();
        &self.buffer.as_ref()[r]
    }

    /// Walks the extension headers and returns the upper-layer protocol and its offset.
    ///
    /// Hop-by-Hop, Routing, Destination Options, Fragment, AH, Mobility, HIP and Shim6 are
    /// skipped. The walk stops at any other protocol, and at a non-first fragment (whose
    /// payload does not start with the upper-layer header; `protocol` is then the fragment
    /// header's next header). Errors: [`Error::Truncated`] if a header runs past the
    /// payload, [`Error::Unsupported`] after [`MAX_EXT_HEADERS`] headers.
    #[inline]
    pub fn upper_layer(&self) -> Result<UpperLayer> {
        let end = self.payload_range().end;
        walk_ext_headers(&self.buffer.as_ref()[..end], self.next_header(), HEADER_LEN)
    }
}

#[inline]
fn addr_at(d: &[u8], at: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&d[at..at + 16]);
    Ipv6Addr::from(a)
}

/// True for the extension headers [`walk_ext_headers`] skips.
#[inline]
pub fn is_ext_header(next_header: u8) -> bool {
    matches!(
        next_header,
        ip_proto::HOPOPT
            | ip_proto::IPV6_ROUTE
            | ip_proto::IPV6_FRAG
            | ip_proto::IPV6_OPTS
            | ip_proto::AH
            | ip_proto::MOBILITY
            | ip_proto::HIP
            | ip_proto::SHIM6
    )
}

/// Walks extension headers in `packet` starting with header type `next_header` at `offset`
/// (see [`Packet::upper_layer`]). `packet` should end where the IPv6 payload ends.
pub fn walk_ext_headers(
    packet: &[u8],
    mut next_header: u8,
    mut offset: usize,
) -> Result<UpperLayer> {
    let mut fragment = None;
    for _ in 0..=MAX_EXT_HEADERS {
        if !is_ext_header(next_header) {
            return Ok(UpperLayer {
                protocol: next_header,
                offset,
                fragment,
            });
        }
        let h = packet.get(offset..offset + 8).ok_or(Error::Truncated)?;
        let len = match next_header {
            ip_proto::IPV6_FRAG => {
                let off_flags = u16::from_be_bytes([h[2], h[3]]);
                let f = Fragment {
                    offset: off_flags & 0xfff8,
                    more: off_flags & 1 != 0,
                    ident: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
                };
                fragment = Some(f);
                if f.offset != 0 {
                    return Ok(UpperLayer {
                        protocol: h[0],
                        offset: offset + 8,
                        fragment,
                    });
                }
                8
            }
            // AH counts its length in 4-byte units minus 2 (RFC 4302).
            ip_proto::AH => (usize::from(h[1]) + 2) * 4,
            _ => (usize::from(h[1]) + 1) * 8,
        };
        if offset + len > packet.len() {
            return Err(Error::Truncated);
        }
        next_header = h[0];
        offset += len;
    }
    Err(Error::Unsupported)
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version 6, traffic class and flow label.
    #[inline]
    pub fn set_version_tc_flow(&mut self, traffic_class: u8, flow_label: u32) {
        let w = (6u32 << 28) | (u32::from(traffic_class) << 20) | (flow_label & 0x000f_ffff);
        self.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&w.to_be_bytes());
    }

    /// Sets the payload length field.
    #[inline]
    pub fn set_payload_len(&mut self, len: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&len.to_be_bytes());
    }

    /// Sets the next header field.
    #[inline]
    pub fn set_next_header(&mut self, nh: u8) {
        self.buffer.as_mut()[field::NXT_HDR] = nh;
    }

    /// Sets the hop limit.
    #[inline]
    pub fn set_hop_limit(&mut self, h: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = h;
    }

    /// Sets the source address (IPv6 has no header checksum; fix the transport's).
    #[inline]
    pub fn set_src_addr(&mut self, a: &Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&a.octets());
    }

    /// Sets the destination address.
    #[inline]
    pub fn set_dst_addr(&mut self, a: &Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&a.octets());
    }

    /// Decrements the hop limit; returns the new value (`None`, unchanged, if already 0).
    #[inline]
    pub fn decrement_hop_limit(&mut self) -> Option<u8> {
        let h = self.hop_limit().checked_sub(1)?;
        self.set_hop_limit(h);
        Some(h)
    }

    /// Mutable payload (see [`payload`](Packet::payload)).
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let r = self.payload_range();
        &mut self.buffer.as_mut()[r]
    }
}

/// A high-level IPv6 fixed header, for building packets (slow path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv6Addr,
    /// Destination address.
    pub dst_addr: Ipv6Addr,
    /// Next header.
    pub next_header: u8,
    /// Payload length in bytes.
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
}

impl Repr {
    /// Reads the fixed-header fields of a checked packet.
    #[inline]
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Repr {
        Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            next_header: p.next_header(),
            payload_len: p.payload().len(),
            hop_limit: p.hop_limit(),
            traffic_class: p.traffic_class(),
            flow_label: p.flow_label(),
        }
    }

    /// Bytes the header takes (always [`HEADER_LEN`]).
    #[inline]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the fixed header into `buf[..40]`.
    ///
    /// Errors: [`Error::NoSpace`] if `buf` is short, [`Error::TooLong`] if the payload
    /// exceeds 65535 (jumbograms are not built).
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let len = u16::try_from(self.payload_len).map_err(|_| Error::TooLong)?;
        let h = buf.get_mut(..HEADER_LEN).ok_or(Error::NoSpace)?;
        let mut p = Packet::new_unchecked(h);
        p.set_version_tc_flow(self.traffic_class, self.flow_label);
        p.set_payload_len(len);
        p.set_next_header(self.next_header);
        p.set_hop_limit(self.hop_limit);
        p.set_src_addr(&self.src_addr);
        p.set_dst_addr(&self.dst_addr);
        Ok(())
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::fixtures::{self, l3};

    fn v6_fixtures() -> impl Iterator<Item = &'static [u8]> {
        fixtures::ALL
            .iter()
            .filter(|f| f[12..14] == [0x86, 0xdd])
            .map(|f| l3(f))
    }

    #[test]
    fn echo_request_fields() {
        let p = Packet::new_checked(l3(fixtures::ICMPV6_ECHO_REQUEST)).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0);
        assert_eq!(p.flow_label(), 0x2f39d);
        assert_eq!(p.payload_len(), 64);
        assert_eq!(p.next_header(), ip_proto::ICMPV6);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.src_addr(), "2001:db8:1::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.dst_addr(), "2001:db8:2::2".parse::<Ipv6Addr>().unwrap());
        let ul = p.upper_layer().unwrap();
        assert_eq!(
            ul,
            UpperLayer {
                protocol: ip_proto::ICMPV6,
                offset: 40,
                fragment: None
            }
        );
        assert!(ul.has_transport_header());
        let mut out = [0u8; 40];
        Repr::parse(&p).emit(&mut out).unwrap();
        assert_eq!(&out[..], &l3(fixtures::ICMPV6_ECHO_REQUEST)[..40]);
    }

    #[test]
    fn hop_by_hop_is_skipped() {
        let p = Packet::new_checked(l3(fixtures::IPV6_HBH_MLD_REPORT)).unwrap();
        assert_eq!(p.next_header(), ip_proto::HOPOPT);
        let ul = p.upper_layer().unwrap();
        assert_eq!(
            (ul.protocol, ul.offset, ul.fragment),
            (ip_proto::ICMPV6, 48, None)
        );
    }

    #[test]
    fn fragments() {
        let first = Packet::new_checked(l3(fixtures::IPV6_FRAGMENT_FIRST)).unwrap();
        let ul = first.upper_layer().unwrap();
        let frag = Fragment {
            offset: 0,
            more: true,
            ident: 0x4b80_c5c5,
        };
        assert_eq!(
            ul,
            UpperLayer {
                protocol: ip_proto::ICMPV6,
                offset: 48,
                fragment: Some(frag)
            }
        );
        assert!(ul.is_fragment() && ul.has_transport_header());

        let second = Packet::new_checked(l3(fixtures::IPV6_FRAGMENT_SECOND)).unwrap();
        let ul = second.upper_layer().unwrap();
        let frag = Fragment {
            offset: 1232,
            more: false,
            ident: 0x4b80_c5c5,
        };
        assert_eq!(
            ul,
            UpperLayer {
                protocol: ip_proto::ICMPV6,
                offset: 48,
                fragment: Some(frag)
            }
        );
        assert!(!ul.has_transport_header());
    }

    #[test]
    fn truncated_prefixes_rejected() {
        for b in v6_fixtures() {
            for n in 0..b.len() {
                assert!(Packet::new_checked(&b[..n]).is_err(), "prefix {n}");
                if let Ok(p) = Packet::new_checked_partial(&b[..n]) {
                    assert!(n >= 40);
                    // The walk over a cut payload never panics; it errs or stays in bounds.
                    if let Ok(ul) = p.upper_layer() {
                        assert!(ul.offset <= n);
                    }
                }
            }
            assert!(Packet::new_checked(b).unwrap().upper_layer().is_ok());
        }
    }

    #[test]
    fn version_checked() {
        let mut b = l3(fixtures::UDPV6_DATAGRAM).to_vec();
        b[0] = 0x40;
        assert_eq!(Packet::new_checked(&b[..]), Err(Error::Malformed));
    }

    /// Builds an IPv6 packet with the given chain of (type, 8-byte-unit header) pairs.
    fn chain(headers: &[(u8, usize)], last: u8) -> Vec<u8> {
        let mut b = vec![0u8; 40];
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_version_tc_flow(0, 0);
        p.set_next_header(headers.first().map_or(last, |h| h.0));
        for (i, &(_, len)) in headers.iter().enumerate() {
            let next = headers.get(i + 1).map_or(last, |h| h.0);
            let mut h = vec![0u8; len];
            h[0] = next;
            h[1] = if headers[i].0 == ip_proto::AH {
                (len / 4 - 2) as u8
            } else {
                (len / 8 - 1) as u8
            };
            b.extend_from_slice(&h);
        }
        b.extend_from_slice(&[0; 8]);
        let plen = (b.len() - 40) as u16;
        Packet::new_unchecked(&mut b[..]).set_payload_len(plen);
        b
    }

    #[test]
    fn walk_routing_dstopts_ah() {
        let b = chain(
            &[
                (ip_proto::IPV6_ROUTE, 24),
                (ip_proto::IPV6_OPTS, 8),
                (ip_proto::AH, 12),
            ],
            6,
        );
        let ul = Packet::new_checked(&b[..]).unwrap().upper_layer().unwrap();
        assert_eq!((ul.protocol, ul.offset), (ip_proto::TCP, 40 + 24 + 8 + 12));
    }

    #[test]
    fn walk_is_bounded() {
        let many = vec![(ip_proto::IPV6_OPTS, 8); MAX_EXT_HEADERS + 1];
        let b = chain(&many, ip_proto::UDP);
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap().upper_layer(),
            Err(Error::Unsupported)
        );
        let ok = vec![(ip_proto::IPV6_OPTS, 8); MAX_EXT_HEADERS];
        let b = chain(&ok, ip_proto::UDP);
        assert!(Packet::new_checked(&b[..]).unwrap().upper_layer().is_ok());
    }

    #[test]
    fn walk_past_payload_is_truncated() {
        let mut b = chain(&[(ip_proto::IPV6_ROUTE, 24)], ip_proto::UDP);
        b[41] = 10; // claims 88 bytes
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap().upper_layer(),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn hop_limit_and_repr_limits() {
        let mut b = l3(fixtures::TCPV6_SYN).to_vec();
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        assert_eq!(p.decrement_hop_limit(), Some(63));
        p.set_hop_limit(0);
        assert_eq!(p.decrement_hop_limit(), None);
        let r = Repr::parse(&p);
        assert_eq!(
            Repr {
                payload_len: 65536,
                ..r
            }
            .emit(&mut [0; 40]),
            Err(Error::TooLong)
        );
        assert_eq!(r.emit(&mut [0; 39]), Err(Error::NoSpace));
    }
}
