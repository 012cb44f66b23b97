//! Property: after any rewrite (NAT in and out, DR, TUN, ICMP errors) every checksum of the
//! output verifies against a full recompute.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::*;
use proptest::prelude::*;
use rvs_core::Verdict;
use rvs_core::model::{ForwardMethod, Protocol};

fn addr(v6: bool, raw: u128) -> IpAddr {
    // Keep addresses unicast (the configuration refuses others).
    if v6 {
        IpAddr::V6(Ipv6Addr::from(
            (raw & !(0xffu128 << 120)) | (0x20u128 << 120),
        ))
    } else {
        IpAddr::V4(Ipv4Addr::from(((raw as u32) & 0x7fff_ffff) | 0x0100_0000))
    }
}

fn method(n: u8) -> ForwardMethod {
    [
        ForwardMethod::Masq,
        ForwardMethod::Route,
        ForwardMethod::Tunnel,
    ][usize::from(n % 3)]
}

#[derive(Debug, Clone)]
struct Case {
    v6: bool,
    proto: u8,
    method: u8,
    vip: u128,
    cip: u128,
    rip: u128,
    vport: u16,
    cport: u16,
    rport: u16,
    payload: Vec<u8>,
    ttl: u8,
    udp_zero: bool,
    vlan: Option<u16>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        0u8..3,
        0u8..3,
        any::<(u128, u128, u128)>(),
        (1u16.., 1u16.., 1u16..),
        proptest::collection::vec(any::<u8>(), 0..300),
        2u8..,
        any::<bool>(),
        proptest::option::of(0u16..4096),
    )
        .prop_filter("distinct addresses", |(_, _, _, (a, b, c), ..)| {
            a != b && b != c && a != c
        })
        .prop_map(
            |(
                v6,
                proto,
                method,
                (vip, cip, rip),
                (vport, cport, rport),
                payload,
                ttl,
                udp_zero,
                vlan,
            )| Case {
                v6,
                proto,
                method,
                vip,
                cip,
                rip,
                vport,
                cport,
                rport,
                payload,
                ttl,
                udp_zero,
                vlan,
            },
        )
}

fn pkt(c: &Case, src: IpAddr, sport: u16, dst: IpAddr, dport: u16, flags: u8) -> Pkt {
    let l4 = match c.proto {
        0 => L4::Tcp(flags),
        1 => L4::Udp,
        _ => L4::Sctp(if flags & SYN != 0 { 1 } else { 0 }),
    };
    Pkt {
        src,
        dst,
        sport,
        dport,
        l4,
        payload: c.payload.clone(),
        ttl: c.ttl,
        df: false,
        vlan: c.vlan,
        tos: 0,
    }
}

fn frame_of(c: &Case, p: &Pkt) -> Vec<u8> {
    let mut f = p.frame();
    if c.udp_zero && p.l4 == L4::Udp && !c.v6 {
        let (off, _) = l3(&f);
        f[off + 26..off + 28].fill(0);
    }
    f
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_rewrite_keeps_checksums_valid(c in case()) {
        let (vip, cip, rip) = (addr(c.v6, c.vip), addr(c.v6, c.cip), addr(c.v6, c.rip));
        let protocol = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp][usize::from(c.proto)];
        let m = method(c.method);
        let mut lab = Lab::new();
        lab.add(
            service(rvs_core::model::ServiceKey::Addr { protocol, addr: vip, port: c.vport }, "wlc"),
            &[dest(&rip.to_string(), c.rport, m, 1)],
        );
        lab.director.set_default_mtu(9000);
        // Client → VIP.
        let p = pkt(&c, cip, c.cport, vip, c.vport, SYN);
        let (v, out) = lab.send_frame(&frame_of(&c, &p));
        let out = out.unwrap_or_else(|| panic!("{v:?}"));
        prop_assert_eq!(next_hop(&v), rip);
        prop_assert!(verify_frame(&out).is_ok(), "{:?}", verify_frame(&out));
        let rport = if m == ForwardMethod::Masq { c.rport } else { c.vport };
        if m == ForwardMethod::Masq {
            // Reply and ICMP errors in both directions.
            let r = pkt(&c, rip, rport, cip, c.cport, SYN | ACK);
            let (v, out) = lab.send_frame(&frame_of(&c, &r));
            prop_assert_eq!(next_hop(&v), cip);
            let out = out.unwrap();
            prop_assert!(verify_frame(&out).is_ok(), "{:?}", verify_frame(&out));
            prop_assert_eq!(frame_facts(&out).src, vip);
            let quoted = pkt(&c, cip, c.cport, rip, rport, ACK).ip_bytes();
            let cut = quoted.len().min(28 + c.payload.len() % 64 + 20);
            let err = icmp_error(rip, cip, if c.v6 { 1 } else { 3 }, 3, [0; 4], &quoted[..cut]);
            let (v, out) = lab.send_frame(&ether(c.vlan, &err));
            prop_assert_eq!(next_hop(&v), cip);
            let out = out.unwrap();
            prop_assert!(verify_frame(&out).is_ok(), "{:?}", verify_frame(&out));
            let quoted = pkt(&c, vip, c.vport, cip, c.cport, ACK).ip_bytes();
            let err = icmp_error(cip, vip, if c.v6 { 1 } else { 3 }, 3, [0; 4], &quoted[..cut]);
            let (v, out) = lab.send_frame(&ether(c.vlan, &err));
            prop_assert_eq!(next_hop(&v), rip);
            let out = out.unwrap();
            prop_assert!(verify_frame(&out).is_ok(), "{:?}", verify_frame(&out));
        }
    }

    #[test]
    fn frag_needed_and_port_unreachable_verify(c in case()) {
        let (vip, cip, rip) = (addr(c.v6, c.vip), addr(c.v6, c.cip), addr(c.v6, c.rip));
        let mut lab = Lab::new();
        let k = rvs_core::model::ServiceKey::Addr { protocol: Protocol::Tcp, addr: vip, port: c.vport };
        lab.add(service(k, "rr"), &[dest(&rip.to_string(), 0, ForwardMethod::Tunnel, 1)]);
        lab.director.set_default_mtu(300);
        let p = Pkt { df: true, ..pkt(&Case { proto: 0, ..c.clone() }, cip, c.cport, vip, c.vport, SYN) };
        let (v, out) = lab.send(&p);
        if let Verdict::Forward { .. } = v {
            prop_assert!(verify_frame(&out.unwrap()).is_ok());
        }
        lab.config.edit_dest(&k, dest(&rip.to_string(), 0, ForwardMethod::Tunnel, 0)).unwrap();
        lab.sync();
        let p = pkt(&Case { proto: 0, ..c.clone() }, cip, c.cport.wrapping_add(1).max(1), vip, c.vport, SYN);
        let (v, out) = lab.send(&p);
        prop_assert_eq!(next_hop(&v), cip);
        prop_assert!(verify_frame(&out.unwrap()).is_ok());
    }
}
