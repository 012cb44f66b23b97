//! Property: arbitrary bytes never make a checked constructor or any accessor panic.
//! Inputs are biased toward plausible first bytes (version 4/6, sane header lengths) so
//! the checks pass often and the accessors really run.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use rvs_wire::{arp, ethernet, icmpv4, icmpv6, ipip, ipv4, ipv6, ndisc, sctp, tcp, udp};

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..160)
}

/// Random bytes whose first byte is replaced by `first` (to get past version checks).
fn with_first(first: impl Strategy<Value = u8>) -> impl Strategy<Value = Vec<u8>> {
    (first, bytes()).prop_map(|(f, mut b)| {
        if let Some(x) = b.first_mut() {
            *x = f;
        }
        b
    })
}

/// Makes the IP length field agree with the buffer (minus `cut`), so checks pass often.
fn fix_len(mut b: Vec<u8>, cut: usize) -> Vec<u8> {
    let n = b.len().saturating_sub(cut);
    match b.first().map(|x| x >> 4) {
        Some(4) if b.len() >= 4 => b[2..4].copy_from_slice(&(n as u16).to_be_bytes()),
        Some(6) if b.len() >= 6 => {
            b[4..6].copy_from_slice(&(n.saturating_sub(40) as u16).to_be_bytes())
        }
        _ => {}
    }
    b
}

fn touch_ipv4(b: &[u8]) {
    for p in [
        ipv4::Packet::new_checked(b),
        ipv4::Packet::new_checked_partial(b),
    ]
    .into_iter()
    .flatten()
    {
        let _ = (
            p.version(),
            p.header_len(),
            p.tos(),
            p.dscp(),
            p.ecn(),
            p.total_len(),
            p.ident(),
        );
        let _ = (
            p.dont_frag(),
            p.more_frags(),
            p.frag_offset(),
            p.is_fragment(),
            p.is_non_first_fragment(),
        );
        let _ = (
            p.ttl(),
            p.protocol(),
            p.checksum(),
            p.src_addr(),
            p.dst_addr(),
            p.options(),
            p.payload(),
        );
        let _ = (p.verify_checksum(), ipv4::Repr::parse(&p));
        let mut copy = b.to_vec();
        let mut m = ipv4::Packet::new_unchecked(&mut copy[..]);
        m.rewrite_dst_addr(Ipv4Addr::new(198, 51, 100, 9));
        let _ = m.decrement_ttl();
        m.fill_checksum();
        let _ = m.payload_mut().len();
        touch_l4(p.payload(), p.src_addr().into(), p.dst_addr().into());
        let _ = icmpv4::ErrorRepr::frag_needed(Ipv4Addr::LOCALHOST, b, 1280)
            .map(|r| r.emit(b, &mut [0u8; 600]));
    }
}

fn touch_ipv6(b: &[u8]) {
    for p in [
        ipv6::Packet::new_checked(b),
        ipv6::Packet::new_checked_partial(b),
    ]
    .into_iter()
    .flatten()
    {
        let _ = (
            p.version(),
            p.traffic_class(),
            p.flow_label(),
            p.payload_len(),
            p.next_header(),
        );
        let _ = (
            p.hop_limit(),
            p.src_addr(),
            p.dst_addr(),
            p.payload(),
            ipv6::Repr::parse(&p),
        );
        if let Ok(ul) = p.upper_layer() {
            assert!(ul.offset <= b.len());
            let _ = ul.has_transport_header();
            touch_l4(
                &b[ul.offset..p.payload_range().end.max(ul.offset)],
                p.src_addr().into(),
                p.dst_addr().into(),
            );
            if let Ok(m) = icmpv6::Packet::new_checked(&b[ul.offset..]) {
                let _ = (
                    m.mtu(),
                    m.pointer(),
                    m.echo_ident(),
                    m.echo_seq_no(),
                    m.original_datagram(),
                );
                let _ = m.verify_checksum(&p.src_addr(), &p.dst_addr());
                let _ = (
                    ndisc::target_addr(&m),
                    ndisc::link_layer_option(&m, ndisc::OPT_TARGET_LL_ADDR),
                );
            }
        }
        let mut copy = b.to_vec();
        let mut m = ipv6::Packet::new_unchecked(&mut copy[..]);
        let _ = m.decrement_hop_limit();
        let _ = m.payload_mut().len();
        let _ = icmpv6::ErrorRepr::packet_too_big(Ipv6Addr::LOCALHOST, b, 1280)
            .map(|r| r.emit(b, &mut [0u8; 1300]));
    }
    let _ = ipip::decap(b);
}

fn touch_l4(b: &[u8], src: IpAddr, dst: IpAddr) {
    let _ = rvs_wire::transport_ports(b);
    if let Ok(t) = tcp::Packet::new_checked(b) {
        let _ = (
            t.src_port(),
            t.dst_port(),
            t.seq_number(),
            t.ack_number(),
            t.header_len(),
            t.flags(),
        );
        let _ = (
            t.fin(),
            t.syn(),
            t.rst(),
            t.psh(),
            t.ack(),
            t.urg(),
            t.window_len(),
            t.checksum(),
        );
        let _ = (
            t.urgent_at(),
            t.options(),
            t.mss(),
            t.payload(),
            t.verify_checksum(&src, &dst),
        );
        let mut copy = b.to_vec();
        let mut m = tcp::Packet::new_unchecked(&mut copy[..]);
        m.rewrite_dst_port(80);
        m.fill_checksum(&src, &dst);
        let _ = m.payload_mut().len();
    }
    if let Ok(u) = udp::Packet::new_checked(b) {
        let _ = (
            u.src_port(),
            u.dst_port(),
            u.len(),
            u.is_empty(),
            u.checksum(),
            u.payload(),
        );
        let _ = u.verify_checksum(&src, &dst);
        let mut copy = b.to_vec();
        let mut m = udp::Packet::new_unchecked(&mut copy[..]);
        m.rewrite_src_port(53);
        m.fill_checksum(&src, &dst);
        let _ = m.payload_mut().len();
    }
    if let Ok(s) = sctp::Packet::new_checked(b) {
        let _ = (
            s.src_port(),
            s.dst_port(),
            s.verification_tag(),
            s.checksum(),
            s.verify_checksum(),
        );
        let _ = (
            s.first_chunk_type(),
            s.chunks().map(|c| c.value.len()).sum::<usize>(),
        );
    }
    if let Ok(i) = icmpv4::Packet::new_checked(b) {
        let _ = (
            i.msg_type(),
            i.msg_code(),
            i.rest_of_header(),
            i.next_hop_mtu(),
            i.echo_ident(),
        );
        let _ = (i.echo_seq_no(), i.is_error(), i.verify_checksum());
        if let Some(q) = i.original_datagram() {
            touch_ipv4(q);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn ipv4_never_panics(b in with_first(0x40u8..0x50), cut in 0usize..8) {
        touch_ipv4(&b);
        touch_ipv4(&fix_len(b, cut));
    }

    #[test]
    fn ipv6_never_panics(b in with_first(0x60u8..0x70), cut in 0usize..8) {
        touch_ipv6(&b);
        touch_ipv6(&fix_len(b, cut));
    }

    #[test]
    fn frames_never_panic(b in bytes()) {
        if let Ok(f) = ethernet::Frame::new_checked(&b[..]) {
            let _ = (f.dst_addr(), f.src_addr(), f.ethertype(), f.vlan_id(), f.payload());
        }
        if let Ok(l3) = ethernet::l3_offset(&b) {
            assert!(l3.offset <= b.len());
        }
        if let Ok(a) = arp::Packet::new_checked(&b[..]) {
            let _ = (a.operation(), a.source_hardware_addr(), a.target_protocol_addr(), arp::Repr::parse(&a));
        }
        touch_ipv4(&b);
        touch_ipv6(&b);
        touch_l4(&b, IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST));
    }

    #[test]
    fn encap_never_panics(b in with_first(0x40u8..0x70), off in 0usize..80, len in 0usize..200) {
        let mut buf = vec![0u8; 80];
        buf.extend_from_slice(&b);
        let o4 = ipip::OuterV4 { src_addr: Ipv4Addr::LOCALHOST, dst_addr: Ipv4Addr::LOCALHOST, ttl: 1, dont_frag: false, ident: 0 };
        let o6 = ipip::OuterV6 { src_addr: Ipv6Addr::LOCALHOST, dst_addr: Ipv6Addr::LOCALHOST, hop_limit: 1, flow_label: 0 };
        if let Ok(start) = ipip::encap_ipv4(&mut buf.clone(), off, len, &o4) {
            assert_eq!(start + 20, off);
        }
        if let Ok(start) = ipip::encap_ipv6(&mut buf, off, len, &o6) {
            assert_eq!(start + 40, off);
            let _ = ipip::decap(&buf[start..]);
        }
    }
}
