//! Neighbor Discovery (RFC 4861) pieces rvs needs: reading the target of a Neighbor
//! Solicitation/Advertisement and building Neighbor Advertisements (VRRP announces a
//! virtual IPv6 address with an unsolicited NA, like gratuitous ARP for IPv4).

use core::net::Ipv6Addr;

use crate::ethernet::{self, Address};
use crate::{Error, Result, icmpv6, ip_proto, ipv6};

/// NA flag bits (first byte of the message body).
pub mod na_flags {
    /// Sender is a router.
    pub const ROUTER: u8 = 0x80;
    /// Response to a solicitation.
    pub const SOLICITED: u8 = 0x40;
    /// Override an existing cache entry.
    pub const OVERRIDE: u8 = 0x20;
}

/// Option type: source link-layer address.
pub const OPT_SOURCE_LL_ADDR: u8 = 1;
/// Option type: target link-layer address.
pub const OPT_TARGET_LL_ADDR: u8 = 2;
/// ICMPv6 length of an NA with a target link-layer address option.
pub const NA_LEN: usize = icmpv6::HEADER_LEN + 16 + 8;
/// Length of the Ethernet frame [`NeighborAdvert::emit_frame`] writes.
pub const NA_FRAME_LEN: usize = ethernet::HEADER_LEN + ipv6::HEADER_LEN + NA_LEN;

/// Target address of a Neighbor Solicitation or Advertisement; `None` for other messages
/// or if the message is too short.
#[inline]
pub fn target_addr<T: AsRef<[u8]>>(msg: &icmpv6::Packet<T>) -> Option<Ipv6Addr> {
    match msg.msg_type() {
        icmpv6::msg_type::NEIGHBOR_SOLICIT | icmpv6::msg_type::NEIGHBOR_ADVERT => {
            let a: [u8; 16] = msg.payload().get(..16)?.try_into().ok()?;
            Some(Ipv6Addr::from(a))
        }
        _ => None,
    }
}

/// The link-layer address carried in option `opt_type` of an NS/NA, if present.
#[inline]
pub fn link_layer_option<T: AsRef<[u8]>>(msg: &icmpv6::Packet<T>, opt_type: u8) -> Option<Address> {
    let mut opts = msg.payload().get(16..)?;
    while let [t, l, ..] = *opts {
        let len = usize::from(l) * 8;
        if len == 0 || len > opts.len() {
            return None;
        }
        if t == opt_type && len >= 8 {
            return Address::from_bytes(&opts[2..]);
        }
        opts = &opts[len..];
    }
    None
}

/// A Neighbor Advertisement with a target link-layer address option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NeighborAdvert {
    /// Flag bits (see [`na_flags`]).
    pub flags: u8,
    /// The advertised address.
    pub target: Ipv6Addr,
    /// The link-layer address for `target`.
    pub target_mac: Address,
}

impl NeighborAdvert {
    /// An unsolicited NA announcing `addr` at `mac` (override set; router as given).
    #[inline]
    pub fn unsolicited(mac: Address, addr: Ipv6Addr, router: bool) -> NeighborAdvert {
        let r = if router { na_flags::ROUTER } else { 0 };
        NeighborAdvert {
            flags: na_flags::OVERRIDE | r,
            target: addr,
            target_mac: mac,
        }
    }

    /// Writes the ICMPv6 message ([`NA_LEN`] bytes) with its checksum for `src`/`dst`.
    pub fn emit(&self, buf: &mut [u8], src: &Ipv6Addr, dst: &Ipv6Addr) -> Result<usize> {
        let b = buf.get_mut(..NA_LEN).ok_or(Error::NoSpace)?;
        let mut p = icmpv6::Packet::new_unchecked(b);
        p.set_msg_type(icmpv6::msg_type::NEIGHBOR_ADVERT);
        p.set_msg_code(0);
        p.set_rest_of_header(u32::from(self.flags) << 24);
        let body = p.payload_mut();
        body[..16].copy_from_slice(&self.target.octets());
        body[16] = OPT_TARGET_LL_ADDR;
        body[17] = 1;
        body[18..24].copy_from_slice(&self.target_mac.0);
        p.fill_checksum(src, dst);
        Ok(NA_LEN)
    }

    /// Writes a whole Ethernet frame: MACs, an IPv6 header (hop limit 255 as RFC 4861
    /// requires) and the NA; returns [`NA_FRAME_LEN`].
    pub fn emit_frame(
        &self,
        buf: &mut [u8],
        src_mac: Address,
        dst_mac: Address,
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
    ) -> Result<usize> {
        let frame = buf.get_mut(..NA_FRAME_LEN).ok_or(Error::NoSpace)?;
        ethernet::emit_header(frame, dst_mac, src_mac, ethernet::ethertype::IPV6)?;
        let ip = &mut frame[ethernet::HEADER_LEN..];
        ipv6::Repr {
            src_addr: *src,
            dst_addr: *dst,
            next_header: ip_proto::ICMPV6,
            payload_len: NA_LEN,
            hop_limit: 255,
            traffic_class: 0,
            flow_label: 0,
        }
        .emit(ip)?;
        self.emit(&mut ip[ipv6::HEADER_LEN..], src, dst)?;
        Ok(NA_FRAME_LEN)
    }
}

/// Builds an unsolicited NA frame for `addr` at `mac`, sent from `addr` to all-nodes
/// (ff02::1, 33:33:00:00:00:01); returns its length.
pub fn emit_unsolicited_na(
    buf: &mut [u8],
    mac: Address,
    addr: Ipv6Addr,
    router: bool,
) -> Result<usize> {
    let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    NeighborAdvert::unsolicited(mac, addr, router).emit_frame(
        buf,
        mac,
        Address::ipv6_multicast(&all_nodes),
        &addr,
        &all_nodes,
    )
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::fixtures::{self, l3};

    fn msg(frame: &[u8]) -> icmpv6::Packet<&[u8]> {
        icmpv6::Packet::new_checked(&l3(frame)[ipv6::HEADER_LEN..]).unwrap()
    }

    #[test]
    fn solicitation_target_and_source_option() {
        let ns = msg(fixtures::ICMPV6_NEIGHBOR_SOLICIT);
        assert_eq!(target_addr(&ns), Some("2001:db8:1::2".parse().unwrap()));
        assert_eq!(
            link_layer_option(&ns, OPT_SOURCE_LL_ADDR),
            Some(Address([2, 0, 0, 0, 0, 1]))
        );
        assert_eq!(link_layer_option(&ns, OPT_TARGET_LL_ADDR), None);
        assert_eq!(target_addr(&msg(fixtures::ICMPV6_ECHO_REQUEST)), None);
    }

    /// Building the captured solicited NA (R, S, O) reproduces Linux's frame exactly.
    #[test]
    fn advert_matches_linux() {
        let na = msg(fixtures::ICMPV6_NEIGHBOR_ADVERT);
        let target = target_addr(&na).unwrap();
        let mac = link_layer_option(&na, OPT_TARGET_LL_ADDR).unwrap();
        assert_eq!(mac, Address([2, 0, 0, 0, 0, 2]));
        let flags = (na.rest_of_header() >> 24) as u8;
        assert_eq!(
            flags,
            na_flags::ROUTER | na_flags::SOLICITED | na_flags::OVERRIDE
        );
        let ip = ipv6::Packet::new_checked(l3(fixtures::ICMPV6_NEIGHBOR_ADVERT)).unwrap();
        let mut out = [0u8; NA_FRAME_LEN];
        let n = NeighborAdvert {
            flags,
            target,
            target_mac: mac,
        }
        .emit_frame(
            &mut out,
            mac,
            Address([2, 0, 0, 0, 0, 1]),
            &ip.src_addr(),
            &ip.dst_addr(),
        )
        .unwrap();
        assert_eq!(&out[..n], fixtures::ICMPV6_NEIGHBOR_ADVERT);
    }

    #[test]
    fn unsolicited_advert() {
        let mac = Address([2, 0, 0, 0, 0, 9]);
        let vip: Ipv6Addr = "2001:db8:1::100".parse().unwrap();
        let mut buf = [0u8; 128];
        let n = emit_unsolicited_na(&mut buf, mac, vip, false).unwrap();
        let f = ethernet::Frame::new_checked(&buf[..n]).unwrap();
        assert_eq!(f.dst_addr(), Address([0x33, 0x33, 0, 0, 0, 1]));
        let ip = ipv6::Packet::new_checked(f.payload()).unwrap();
        assert_eq!((ip.hop_limit(), ip.src_addr()), (255, vip));
        let m = icmpv6::Packet::new_checked(ip.payload()).unwrap();
        assert!(m.verify_checksum(&ip.src_addr(), &ip.dst_addr()));
        assert_eq!(m.rest_of_header() >> 24, u32::from(na_flags::OVERRIDE));
        assert_eq!(target_addr(&m), Some(vip));
        assert_eq!(link_layer_option(&m, OPT_TARGET_LL_ADDR), Some(mac));
        assert_eq!(
            emit_unsolicited_na(&mut buf[..85], mac, vip, true),
            Err(Error::NoSpace)
        );
    }

    #[test]
    fn option_walk_survives_garbage() {
        let mut b = [0u8; 40];
        b[0] = icmpv6::msg_type::NEIGHBOR_SOLICIT;
        for (t, l) in [(1u8, 0u8), (1, 5), (3, 1)] {
            b[24] = t;
            b[25] = l;
            let m = icmpv6::Packet::new_checked(&b[..]).unwrap();
            assert_eq!(link_layer_option(&m, OPT_SOURCE_LL_ADDR), None);
        }
        let m = icmpv6::Packet::new_checked(&b[..20]).unwrap();
        assert_eq!((target_addr(&m), link_layer_option(&m, 1)), (None, None));
    }
}
