//! Zero-copy typed views over packet bytes, in the style of smoltcp's `wire` module.
//!
//! Every protocol has a `Packet<T: AsRef<[u8]>>` (or `Frame`) view over a byte buffer:
//!
//! - `new_checked(buf)` validates every length the accessors depend on, once. After it
//!   returns `Ok`, **no accessor panics**, whatever the bytes are. Use it on untrusted input.
//! - `new_unchecked(buf)` does no validation; use it to emit into a buffer you sized yourself
//!   (accessors may panic if the buffer is too short).
//! - Getters need `T: AsRef<[u8]>`, setters need `T: AsMut<[u8]>`. Nothing allocates.
//!
//! Checksums live in [`checksum`]: full ones'-complement sums, pseudo headers, RFC 1624
//! incremental updates (what NAT uses after rewriting addresses and ports), and CRC32c for
//! SCTP. Addresses are `core::net::Ipv4Addr` / `Ipv6Addr`.
//!
//! Map of the crate:
//!
//! | module | views | builders / helpers |
//! |---|---|---|
//! | [`ethernet`] | `Frame`, `Address` | [`ethernet::l3_offset`] (skips VLAN tags), `emit_header` |
//! | [`arp`] | `Packet` | `Repr`, [`arp::emit_gratuitous`] |
//! | [`ipv4`] | `Packet` (`new_checked_partial` for ICMP quotes) | `Repr`, `rewrite_*_addr`, `decrement_ttl` |
//! | [`ipv6`] | `Packet`, `UpperLayer` | [`ipv6::Packet::upper_layer`] (extension-header walk), `Repr` |
//! | [`tcp`], [`udp`] | `Packet` | `rewrite_*_port`, `verify_checksum`/`fill_checksum` |
//! | [`sctp`] | `Packet`, `Chunks` | CRC32c `verify_checksum`/`fill_checksum` |
//! | [`icmpv4`], [`icmpv6`] | `Packet` (`original_datagram`) | `ErrorRepr` (frag-needed / packet-too-big) |
//! | [`ndisc`] | `target_addr` | `NeighborAdvert`, [`ndisc::emit_unsolicited_na`] |
//! | [`ipip`] | [`ipip::decap`] | [`ipip::encap_ipv4`], [`ipip::encap_ipv6`] |
//! | [`checksum`] | | `data`, `combine`, `pseudo_header*`, `update_*`, `udp_update_*`, `crc32c` |

#![forbid(unsafe_code)]

pub mod arp;
pub mod checksum;
mod crc32c;
pub mod ethernet;
pub mod icmpv4;
pub mod icmpv6;
pub mod ipip;
pub mod ipv4;
pub mod ipv6;
pub mod ndisc;
pub mod sctp;
pub mod tcp;
pub mod udp;

mod error;
#[cfg(test)]
mod fixtures;

pub use error::{Error, Result};

/// IP protocol numbers (IPv4 `protocol`, IPv6 `next header`) used by rvs.
pub mod ip_proto {
    /// IPv6 Hop-by-Hop Options header.
    pub const HOPOPT: u8 = 0;
    /// ICMP for IPv4.
    pub const ICMP: u8 = 1;
    /// IPv4 encapsulated in IP (IP-in-IP, RFC 2003).
    pub const IPIP: u8 = 4;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 encapsulated in IP (RFC 2473 / RFC 4213).
    pub const IPV6: u8 = 41;
    /// IPv6 Routing header.
    pub const IPV6_ROUTE: u8 = 43;
    /// IPv6 Fragment header.
    pub const IPV6_FRAG: u8 = 44;
    /// Generic Routing Encapsulation.
    pub const GRE: u8 = 47;
    /// Encapsulating Security Payload.
    pub const ESP: u8 = 50;
    /// Authentication Header.
    pub const AH: u8 = 51;
    /// ICMP for IPv6.
    pub const ICMPV6: u8 = 58;
    /// IPv6 "no next header".
    pub const IPV6_NONXT: u8 = 59;
    /// IPv6 Destination Options header.
    pub const IPV6_OPTS: u8 = 60;
    /// VRRP (RFC 3768 / RFC 9568).
    pub const VRRP: u8 = 112;
    /// SCTP.
    pub const SCTP: u8 = 132;
    /// IPv6 Mobility header.
    pub const MOBILITY: u8 = 135;
    /// Host Identity Protocol.
    pub const HIP: u8 = 139;
    /// Shim6.
    pub const SHIM6: u8 = 140;
}

/// Reads the source and destination port of a TCP, UDP or SCTP header.
///
/// All three carry the ports in their first four bytes; this works on the short transport
/// quote inside an ICMP error (which holds at least 8 bytes) where a full view would not.
#[inline]
pub fn transport_ports(transport: &[u8]) -> Result<(u16, u16)> {
    match transport {
        [a, b, c, d, ..] => Ok((u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d]))),
        _ => Err(Error::Truncated),
    }
}

/// Writes the source and destination port of a TCP, UDP or SCTP header (no checksum update).
#[inline]
pub fn set_transport_ports(transport: &mut [u8], src: u16, dst: u16) -> Result<()> {
    match transport {
        [a, b, c, d, ..] => {
            [*a, *b] = src.to_be_bytes();
            [*c, *d] = dst.to_be_bytes();
            Ok(())
        }
        _ => Err(Error::Truncated),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn ports_of_short_quote() {
        let mut q = [0x1f, 0x90, 0x00, 0x50, 1, 2, 3, 4];
        assert_eq!(transport_ports(&q), Ok((8080, 80)));
        set_transport_ports(&mut q, 1, 2).unwrap();
        assert_eq!(transport_ports(&q), Ok((1, 2)));
        assert_eq!(transport_ports(&q[..3]), Err(Error::Truncated));
        assert_eq!(
            set_transport_ports(&mut q[..3], 1, 2),
            Err(Error::Truncated)
        );
    }
}
