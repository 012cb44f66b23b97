//! IP-in-IP encapsulation for the tunnelling forwarding method: IPv4 or IPv6 inside an
//! outer IPv4 header (protocol 4 or 41, RFC 2003 / RFC 4213) or an outer IPv6 header
//! (next header 4 or 41, RFC 2473).
//!
//! [`encap_ipv4`] / [`encap_ipv6`] write the outer header into the headroom in front of an
//! inner packet already in the buffer, copying the inner DSCP/ECN (traffic class) into it;
//! the caller decides TTL / hop limit and DF. [`decap`] finds the inner packet. Nothing
//! is moved or allocated.

use core::net::{Ipv4Addr, Ipv6Addr};
use core::ops::Range;

use crate::{Error, Result, ip_proto, ipv4, ipv6};

/// Caller-chosen fields of an outer IPv4 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OuterV4 {
    /// Tunnel source (the director).
    pub src_addr: Ipv4Addr,
    /// Tunnel destination (the real server).
    pub dst_addr: Ipv4Addr,
    /// TTL of the outer header.
    pub ttl: u8,
    /// DF bit of the outer header.
    pub dont_frag: bool,
    /// Identification of the outer header.
    pub ident: u16,
}

/// Caller-chosen fields of an outer IPv6 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OuterV6 {
    /// Tunnel source (the director).
    pub src_addr: Ipv6Addr,
    /// Tunnel destination (the real server).
    pub dst_addr: Ipv6Addr,
    /// Hop limit of the outer header.
    pub hop_limit: u8,
    /// Flow label of the outer header (20 bits).
    pub flow_label: u32,
}

/// Protocol number and traffic class (DSCP/ECN) of the inner packet at `inner`.
#[inline]
fn inner_info(inner: &[u8]) -> Result<(u8, u8)> {
    match inner.first().map(|b| b >> 4) {
        Some(4) => {
            let p = ipv4::Packet::new_checked_partial(inner)?;
            Ok((ip_proto::IPIP, p.tos()))
        }
        Some(6) => {
            let p = ipv6::Packet::new_checked_partial(inner)?;
            Ok((ip_proto::IPV6, p.traffic_class()))
        }
        Some(_) => Err(Error::Malformed),
        None => Err(Error::Truncated),
    }
}

#[inline]
fn inner_slice(buf: &[u8], inner_offset: usize, inner_len: usize) -> Result<&[u8]> {
    let end = inner_offset.checked_add(inner_len).ok_or(Error::NoSpace)?;
    buf.get(inner_offset..end).ok_or(Error::NoSpace)
}

/// Writes an outer IPv4 header in the 20 bytes before `buf[inner_offset..]`, which holds
/// an IPv4 or IPv6 packet of `inner_len` bytes; returns the offset of the outer header.
///
/// Errors: [`Error::NoSpace`] without 20 bytes of headroom or if the inner range is
/// outside `buf`, [`Error::TooLong`] if the result exceeds 65535 bytes,
/// [`Error::Malformed`]/[`Error::Truncated`] if the inner packet is not IPv4/IPv6.
pub fn encap_ipv4(
    buf: &mut [u8],
    inner_offset: usize,
    inner_len: usize,
    outer: &OuterV4,
) -> Result<usize> {
    let start = inner_offset
        .checked_sub(ipv4::HEADER_LEN)
        .ok_or(Error::NoSpace)?;
    let (protocol, tos) = inner_info(inner_slice(buf, inner_offset, inner_len)?)?;
    ipv4::Repr {
        src_addr: outer.src_addr,
        dst_addr: outer.dst_addr,
        protocol,
        payload_len: inner_len,
        ttl: outer.ttl,
        tos,
        ident: outer.ident,
        dont_frag: outer.dont_frag,
    }
    .emit(&mut buf[start..inner_offset])?;
    Ok(start)
}

/// Writes an outer IPv6 header in the 40 bytes before `buf[inner_offset..]`, which holds
/// an IPv4 or IPv6 packet of `inner_len` bytes; returns the offset of the outer header.
///
/// Errors as for [`encap_ipv4`] (with 40 bytes of headroom).
pub fn encap_ipv6(
    buf: &mut [u8],
    inner_offset: usize,
    inner_len: usize,
    outer: &OuterV6,
) -> Result<usize> {
    let start = inner_offset
        .checked_sub(ipv6::HEADER_LEN)
        .ok_or(Error::NoSpace)?;
    let (next_header, traffic_class) = inner_info(inner_slice(buf, inner_offset, inner_len)?)?;
    ipv6::Repr {
        src_addr: outer.src_addr,
        dst_addr: outer.dst_addr,
        next_header,
        payload_len: inner_len,
        hop_limit: outer.hop_limit,
        traffic_class,
        flow_label: outer.flow_label,
    }
    .emit(&mut buf[start..inner_offset])?;
    Ok(start)
}

/// Where the inner packet of a tunnelled packet is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Inner {
    /// Byte range of the inner packet within the outer packet's buffer.
    pub range: Range<usize>,
    /// IP version of the inner packet (4 or 6), from the outer protocol number.
    pub version: u8,
}

/// Finds the inner packet of an IPv4 or IPv6 packet carrying IP-in-IP (protocol 4 or 41).
///
/// Errors: the outer header's check errors; [`Error::Unsupported`] if the outer packet is
/// not a tunnel packet or is a fragment (reassembly is not done here).
pub fn decap(packet: &[u8]) -> Result<Inner> {
    let (protocol, range) = match packet.first().map(|b| b >> 4) {
        Some(4) => {
            let p = ipv4::Packet::new_checked(packet)?;
            if p.is_fragment() {
                return Err(Error::Unsupported);
            }
            (p.protocol(), p.payload_range())
        }
        Some(6) => {
            let p = ipv6::Packet::new_checked(packet)?;
            let ul = p.upper_layer()?;
            if ul.is_fragment() {
                return Err(Error::Unsupported);
            }
            (ul.protocol, ul.offset..p.payload_range().end)
        }
        Some(_) => return Err(Error::Malformed),
        None => return Err(Error::Truncated),
    };
    let version = match protocol {
        ip_proto::IPIP => 4,
        ip_proto::IPV6 => 6,
        _ => return Err(Error::Unsupported),
    };
    Ok(Inner { range, version })
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::fixtures::{self, l3};
    use crate::tcp;

    const HEADROOM: usize = 64;

    fn with_headroom(inner: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; HEADROOM];
        b.extend_from_slice(inner);
        b
    }

    fn outer4() -> OuterV4 {
        OuterV4 {
            src_addr: Ipv4Addr::new(198, 51, 100, 2),
            dst_addr: Ipv4Addr::new(198, 51, 100, 10),
            ttl: 64,
            dont_frag: true,
            ident: 0,
        }
    }

    fn outer6() -> OuterV6 {
        OuterV6 {
            src_addr: "2001:db8:1::2".parse().unwrap(),
            dst_addr: "2001:db8:1::10".parse().unwrap(),
            hop_limit: 64,
            flow_label: 0x12345,
        }
    }

    #[test]
    fn ipv4_in_ipv4_round_trip() {
        let inner = l3(fixtures::ICMPV4_FRAG_NEEDED); // TOS 0xc0 must be copied
        let mut b = with_headroom(inner);
        let start = encap_ipv4(&mut b, HEADROOM, inner.len(), &outer4()).unwrap();
        assert_eq!(start, HEADROOM - 20);
        let o = ipv4::Packet::new_checked(&b[start..]).unwrap();
        assert!(o.verify_checksum());
        assert_eq!((o.protocol(), o.tos(), o.ttl()), (ip_proto::IPIP, 0xc0, 64));
        assert!(o.dont_frag());
        assert_eq!(usize::from(o.total_len()), 20 + inner.len());
        let found = decap(&b[start..]).unwrap();
        assert_eq!(found.version, 4);
        assert_eq!(&b[start..][found.range], inner);
    }

    #[test]
    fn ipv6_in_ipv6_and_mixed() {
        let inner = l3(fixtures::TCPV6_SYN);
        let mut b = with_headroom(inner);
        let start = encap_ipv6(&mut b, HEADROOM, inner.len(), &outer6()).unwrap();
        let o = ipv6::Packet::new_checked(&b[start..]).unwrap();
        assert_eq!(
            (o.next_header(), o.flow_label(), o.hop_limit()),
            (ip_proto::IPV6, 0x12345, 64)
        );
        let found = decap(&b[start..]).unwrap();
        assert_eq!(
            (found.version, &b[start..][found.range.clone()]),
            (6, inner)
        );
        // The inner segment is untouched, so its checksum still verifies.
        let ip = ipv6::Packet::new_checked(&b[start..][found.range]).unwrap();
        let seg = tcp::Packet::new_checked(ip.payload()).unwrap();
        assert!(seg.verify_checksum(&ip.src_addr().into(), &ip.dst_addr().into()));

        // IPv6 inside IPv4 (protocol 41) and IPv4 inside IPv6 (next header 4).
        let mut b = with_headroom(inner);
        let start = encap_ipv4(&mut b, HEADROOM, inner.len(), &outer4()).unwrap();
        assert_eq!(
            ipv4::Packet::new_checked(&b[start..]).unwrap().protocol(),
            ip_proto::IPV6
        );
        assert_eq!(decap(&b[start..]).unwrap().version, 6);
        let inner4 = l3(fixtures::TCPV4_SYN);
        let mut b = with_headroom(inner4);
        let start = encap_ipv6(&mut b, HEADROOM, inner4.len(), &outer6()).unwrap();
        assert_eq!(
            ipv6::Packet::new_checked(&b[start..])
                .unwrap()
                .next_header(),
            ip_proto::IPIP
        );
        assert_eq!(decap(&b[start..]).unwrap().range, 40..40 + inner4.len());
    }

    #[test]
    fn encap_errors() {
        let inner = l3(fixtures::TCPV4_SYN);
        let mut b = with_headroom(inner);
        assert_eq!(
            encap_ipv4(&mut b[45..], 19, inner.len(), &outer4()),
            Err(Error::NoSpace)
        );
        assert_eq!(
            encap_ipv6(&mut b[25..], 39, inner.len(), &outer6()),
            Err(Error::NoSpace)
        );
        assert_eq!(
            encap_ipv4(&mut b, HEADROOM, inner.len() + 1, &outer4()),
            Err(Error::NoSpace)
        );
        assert_eq!(
            encap_ipv4(&mut b, HEADROOM, usize::MAX, &outer4()),
            Err(Error::NoSpace)
        );
        b[HEADROOM] = 0x55;
        assert_eq!(
            encap_ipv4(&mut b, HEADROOM, inner.len(), &outer4()),
            Err(Error::Malformed)
        );
        assert_eq!(
            encap_ipv4(&mut b, HEADROOM, 0, &outer4()),
            Err(Error::Truncated)
        );
        let mut big = vec![0u8; 20 + 65530];
        big[20..40].copy_from_slice(&inner[..20]);
        assert_eq!(
            encap_ipv4(&mut big, 20, 65530, &outer4()),
            Err(Error::TooLong)
        );
    }

    #[test]
    fn decap_rejects_non_tunnels() {
        assert_eq!(decap(l3(fixtures::TCPV4_SYN)), Err(Error::Unsupported));
        assert_eq!(
            decap(l3(fixtures::IPV6_FRAGMENT_FIRST)),
            Err(Error::Unsupported)
        );
        assert_eq!(decap(&[]), Err(Error::Truncated));
        assert_eq!(decap(&[0x10; 40]), Err(Error::Malformed));
        let inner = l3(fixtures::TCPV4_SYN);
        let mut b = with_headroom(inner);
        let start = encap_ipv4(&mut b, HEADROOM, inner.len(), &outer4()).unwrap();
        for n in 0..b.len() - start {
            assert!(decap(&b[start..start + n]).is_err(), "prefix {n}");
        }
    }
}
