//! Property: after a NAT-style rewrite (addresses v4/v6, ports), the RFC 1624 incremental
//! checksum update gives exactly the checksum a full recompute gives.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use rvs_wire::{checksum, ip_proto, ipv4, ipv6, tcp, udp};

/// An IPv4 packet carrying TCP or UDP with valid checksums.
fn build_v4(
    proto: u8,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    data: &[u8],
) -> Vec<u8> {
    let l4_hdr = if proto == ip_proto::TCP {
        tcp::HEADER_LEN
    } else {
        udp::HEADER_LEN
    };
    let l4_len = l4_hdr + data.len();
    let mut b = vec![0u8; 20 + l4_len];
    ipv4::Repr {
        src_addr: src,
        dst_addr: dst,
        protocol: proto,
        payload_len: l4_len,
        ttl: 64,
        tos: 0,
        ident: 1,
        dont_frag: true,
    }
    .emit(&mut b)
    .unwrap();
    fill_l4(
        &mut b[20..],
        proto,
        src.into(),
        dst.into(),
        sport,
        dport,
        data,
    );
    b
}

fn build_v6(
    proto: u8,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    sport: u16,
    dport: u16,
    data: &[u8],
) -> Vec<u8> {
    let l4_hdr = if proto == ip_proto::TCP {
        tcp::HEADER_LEN
    } else {
        udp::HEADER_LEN
    };
    let l4_len = l4_hdr + data.len();
    let mut b = vec![0u8; 40 + l4_len];
    ipv6::Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: proto,
        payload_len: l4_len,
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
    }
    .emit(&mut b)
    .unwrap();
    fill_l4(
        &mut b[40..],
        proto,
        src.into(),
        dst.into(),
        sport,
        dport,
        data,
    );
    b
}

fn fill_l4(
    l4: &mut [u8],
    proto: u8,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    data: &[u8],
) {
    if proto == ip_proto::TCP {
        let mut t = tcp::Packet::new_unchecked(l4);
        t.set_src_port(sport);
        t.set_dst_port(dport);
        t.set_seq_number(0x0102_0304);
        t.set_header_len(tcp::HEADER_LEN);
        t.set_flags(tcp::flags::ACK);
        t.payload_mut().copy_from_slice(data);
        t.fill_checksum(&src, &dst);
    } else {
        let len = l4.len() as u16;
        let mut u = udp::Packet::new_unchecked(l4);
        u.set_src_port(sport);
        u.set_dst_port(dport);
        u.set_len(len);
        u.payload_mut().copy_from_slice(data);
        u.fill_checksum(&src, &dst);
    }
}

/// The transport checksum a full recompute gives for `l4` between `src` and `dst`.
fn recomputed(l4: &[u8], proto: u8, src: IpAddr, dst: IpAddr) -> u16 {
    let mut copy = l4.to_vec();
    if proto == ip_proto::TCP {
        let mut t = tcp::Packet::new_unchecked(&mut copy[..]);
        t.fill_checksum(&src, &dst);
        t.checksum()
    } else {
        let mut u = udp::Packet::new_unchecked(&mut copy[..]);
        u.fill_checksum(&src, &dst);
        u.checksum()
    }
}

fn l4_checksum(l4: &[u8], proto: u8) -> u16 {
    let at = if proto == ip_proto::TCP { 16 } else { 6 };
    u16::from_be_bytes([l4[at], l4[at + 1]])
}

fn proto() -> impl Strategy<Value = u8> {
    prop_oneof![Just(ip_proto::TCP), Just(ip_proto::UDP)]
}

fn v4() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn v6() -> impl Strategy<Value = Ipv6Addr> {
    any::<u128>().prop_map(Ipv6Addr::from)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ipv4_nat_rewrite(proto in proto(), src in v4(), dst in v4(), sport in any::<u16>(), dport in any::<u16>(),
                        data in proptest::collection::vec(any::<u8>(), 0..64),
                        nsrc in v4(), ndst in v4(), nsport in any::<u16>(), ndport in any::<u16>()) {
        let mut b = build_v4(proto, src, dst, sport, dport, &data);
        let (ip_hdr, l4) = b.split_at_mut(20);
        let mut ip = ipv4::Packet::new_unchecked(ip_hdr);
        ip.rewrite_src_addr(nsrc);
        ip.rewrite_dst_addr(ndst);
        let mut full_ip = ip.into_inner().to_vec();
        let mut full = ipv4::Packet::new_unchecked(&mut full_ip[..]);
        let inc_ip = full.checksum();
        full.fill_checksum();
        prop_assert_eq!(inc_ip, full.checksum());

        if proto == ip_proto::TCP {
            let mut t = tcp::Packet::new_unchecked(&mut l4[..]);
            let c = checksum::update_ipv4_addr(t.checksum(), src, nsrc);
            let c = checksum::update_ipv4_addr(c, dst, ndst);
            t.set_checksum(c);
            t.rewrite_src_port(nsport);
            t.rewrite_dst_port(ndport);
        } else {
            let mut u = udp::Packet::new_unchecked(&mut l4[..]);
            let c = checksum::udp_update_ipv4_addr(u.checksum(), src, nsrc);
            let c = checksum::udp_update_ipv4_addr(c, dst, ndst);
            u.set_checksum(c);
            u.rewrite_src_port(nsport);
            u.rewrite_dst_port(ndport);
        }
        prop_assert_eq!(l4_checksum(l4, proto), recomputed(l4, proto, nsrc.into(), ndst.into()));
    }

    #[test]
    fn ipv6_nat_rewrite(proto in proto(), src in v6(), dst in v6(), sport in any::<u16>(), dport in any::<u16>(),
                        data in proptest::collection::vec(any::<u8>(), 0..64),
                        nsrc in v6(), ndst in v6(), nsport in any::<u16>(), ndport in any::<u16>()) {
        let mut b = build_v6(proto, src, dst, sport, dport, &data);
        let l4 = &mut b[40..];
        if proto == ip_proto::TCP {
            let mut t = tcp::Packet::new_unchecked(&mut l4[..]);
            let c = checksum::update_ipv6_addr(t.checksum(), &src, &nsrc);
            let c = checksum::update_ipv6_addr(c, &dst, &ndst);
            t.set_checksum(c);
            t.rewrite_src_port(nsport);
            t.rewrite_dst_port(ndport);
        } else {
            let mut u = udp::Packet::new_unchecked(&mut l4[..]);
            let c = checksum::udp_update_ipv6_addr(u.checksum(), &src, &nsrc);
            let c = checksum::udp_update_ipv6_addr(c, &dst, &ndst);
            u.set_checksum(c);
            u.rewrite_src_port(nsport);
            u.rewrite_dst_port(ndport);
        }
        prop_assert_eq!(l4_checksum(l4, proto), recomputed(l4, proto, nsrc.into(), ndst.into()));
    }

    #[test]
    fn udp_without_checksum_stays_without(src in v4(), dst in v4(), nsrc in v4(), port in any::<u16>(),
                                          data in proptest::collection::vec(any::<u8>(), 0..32)) {
        let mut b = build_v4(ip_proto::UDP, src, dst, 1, 2, &data);
        let mut u = udp::Packet::new_unchecked(&mut b[20..]);
        u.set_checksum(0);
        let c = checksum::udp_update_ipv4_addr(u.checksum(), src, nsrc);
        u.set_checksum(c);
        u.rewrite_dst_port(port);
        prop_assert_eq!(u.checksum(), 0);
    }

    #[test]
    fn update_bytes_equals_recompute(data in proptest::collection::vec(any::<u8>(), 2..128),
                                     at in any::<prop::sample::Index>(),
                                     new in proptest::collection::vec(any::<u8>(), 1..32)) {
        let at = at.index(data.len() / 2) * 2;
        let n = new.len().min(data.len() - at);
        let before = checksum::finish(checksum::data(&data));
        let mut after = data.clone();
        after[at..at + n].copy_from_slice(&new[..n]);
        // An odd-length replacement is only valid at the end of the data (zero padding).
        prop_assume!(n % 2 == 0 || at + n == data.len());
        let inc = checksum::update_bytes(before, &data[at..at + n], &after[at..at + n]);
        prop_assert_eq!(inc, checksum::finish(checksum::data(&after)));
    }

    #[test]
    fn update_u32_equals_two_u16(c in any::<u16>(), old in any::<u32>(), new in any::<u32>()) {
        let two = checksum::update_u16(checksum::update_u16(c, (old >> 16) as u16, (new >> 16) as u16), old as u16, new as u16);
        prop_assert_eq!(checksum::update_u32(c, old, new), two);
    }
}
