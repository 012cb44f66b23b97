//! DR leaves the frame alone (but the TTL); TUN adds a correct outer header and honours DF.

mod common;

use common::*;
use rvs_core::forward::PathInfo;
use rvs_core::model::{ForwardMethod::Route, ForwardMethod::Tunnel, Protocol};
use rvs_core::{DropReason, Verdict};

const VIP: &str = "203.0.113.10";
const CIP: &str = "203.0.113.99";
const RIP: &str = "198.51.100.20";
const LOCAL: &str = "198.51.100.254";

#[test]
fn dr_changes_only_the_ttl() {
    let mut lab = Lab::new();
    lab.add(
        service(key(Protocol::Tcp, VIP, 80), "wrr"),
        &[dest(RIP, 0, Route, 1)],
    );
    for p in [
        Pkt::tcp(CIP, 40000, VIP, 80, SYN),
        Pkt::tcp(CIP, 40000, VIP, 80, ACK | PSH).with_payload(&[7; 700]),
    ] {
        let before = p.frame();
        let (v, out) = lab.send(&p);
        assert_eq!(next_hop(&v), ip(RIP));
        let out = out.unwrap();
        verify_frame(&out).unwrap();
        assert_eq!(out.len(), before.len());
        let (off, _) = l3(&out);
        for (i, (a, b)) in before.iter().zip(&out).enumerate() {
            // TTL and the header checksum may differ, nothing else.
            if i != off + 8 && i != off + 10 && i != off + 11 {
                assert_eq!(a, b, "byte {i} changed");
            }
        }
        assert_eq!(out[off + 8], before[off + 8] - 1);
    }
}

#[test]
fn dr_ipv6_decrements_hop_limit() {
    let mut lab = Lab::new();
    lab.add(
        service(key(Protocol::Udp, "2001:db8::10", 53), "rr"),
        &[dest("2001:db8::20", 53, Route, 1)],
    );
    let p = Pkt::udp("2001:db8:9::1", 999, "2001:db8::10", 53).with_payload(b"x");
    let before = p.frame();
    let (v, out) = lab.send(&p);
    assert_eq!(next_hop(&v), ip("2001:db8::20"));
    let out = out.unwrap();
    assert_eq!(out[14 + 7], 63);
    assert_eq!(out[..21], before[..21]);
    assert_eq!(out[22..], before[22..]);
}

fn tun_lab() -> Lab {
    let mut lab = Lab::new();
    lab.add(
        service(key(Protocol::Tcp, VIP, 80), "rr"),
        &[dest(RIP, 0, Tunnel, 1)],
    );
    lab
}

#[test]
fn tun_outer_header() {
    let mut lab = tun_lab();
    let p = Pkt {
        tos: 0xb8 | 3,
        ..Pkt::tcp(CIP, 40000, VIP, 80, SYN)
    };
    let inner = p.ip_bytes();
    let (mut b, s, l) = p.buffer();
    let v = lab.director.process(&mut b, s, l, lab.now);
    let Verdict::Forward {
        next_hop,
        start,
        len,
    } = v
    else {
        panic!("{v:?}")
    };
    assert_eq!(next_hop, ip(RIP));
    assert_eq!(start, s - 20);
    assert_eq!(len, l + 20);
    let out = out_frame(&b, start, len);
    verify_frame(&out).unwrap();
    assert_eq!(&out[12..14], &[0x08, 0x00]);
    let outer = facts(&out[14..]);
    assert_eq!((outer.src, outer.dst, outer.proto), (ip(LOCAL), ip(RIP), 4));
    assert_eq!(outer.len, inner.len() + 20);
    assert_eq!(outer.ttl, 63);
    assert_eq!(
        out[14 + 1],
        0xb8 | 2,
        "DSCP copied, CE encapsulated as ECT(0)"
    );
    assert_eq!(out[14 + 6] & 0x40, 0x40, "DF copied from the inner header");
    let got = &out[34..];
    assert_eq!(got[8], inner[8] - 1);
    assert_eq!(got[12..], inner[12..]);
}

#[test]
fn tun_uses_route_source_and_mtu() {
    let mut lab = tun_lab();
    lab.director.set_path(
        ip(RIP),
        PathInfo {
            source: Some(ip("198.51.100.1")),
            mtu: 600,
        },
    );
    let (_, out) = lab.send(&Pkt::tcp(CIP, 40000, VIP, 80, SYN));
    assert_eq!(frame_facts(&out.unwrap()).src, ip("198.51.100.1"));
    // 580 bytes of inner packet fit in 600 - 20; 581 do not.
    let (v, _) = lab.send(&Pkt::tcp(CIP, 40000, VIP, 80, ACK).with_payload(&[0; 540]));
    assert!(matches!(v, Verdict::Forward { .. }));
    let (v, out) = lab.send(&Pkt::tcp(CIP, 40000, VIP, 80, ACK).with_payload(&[0; 541]));
    assert_eq!(next_hop(&v), ip(CIP));
    let out = out.unwrap();
    let f = frame_facts(&out);
    assert_eq!((f.proto, f.src, f.dst), (1, ip(VIP), ip(CIP)));
    assert_eq!(out[34], 3);
    assert_eq!(out[35], 4);
    assert_eq!(u16::from_be_bytes([out[40], out[41]]), 580);
}

#[test]
fn tun_df_gives_frag_needed_and_no_df_is_dropped() {
    let mut lab = tun_lab();
    let big = Pkt::tcp(CIP, 40000, VIP, 80, SYN).with_payload(&[1; 1460]);
    let original = big.ip_bytes();
    let (v, out) = lab.send(&big);
    assert_eq!(next_hop(&v), ip(CIP));
    let out = out.unwrap();
    verify_frame(&out).unwrap();
    let f = frame_facts(&out);
    assert_eq!((f.src, f.dst, f.proto), (ip(VIP), ip(CIP), 1));
    assert!(f.len <= 576);
    let icmp = &out[34..];
    assert_eq!((icmp[0], icmp[1]), (3, 4));
    assert_eq!(u16::from_be_bytes([icmp[6], icmp[7]]), 1480);
    // The quote is the client's packet (its TTL already decremented).
    assert_eq!(icmp[8 + 12..8 + 40], original[12..40]);
    assert_eq!(lab.director.drops().get(DropReason::TooBig), 1);
    let no_df = Pkt {
        df: false,
        ..big.clone()
    };
    let (v, _) = lab.send(&no_df);
    assert_eq!(v, Verdict::Drop(DropReason::TooBig));
    assert_eq!(lab.director.drops().get(DropReason::TooBig), 2);
}

#[test]
fn tun_ipv6_packet_too_big() {
    let mut lab = Lab::new();
    lab.add(
        service(key(Protocol::Tcp, "2001:db8::10", 80), "rr"),
        &[dest("2001:db8::20", 0, Tunnel, 1)],
    );
    let (v, out) = lab.send(&Pkt::tcp("2001:db8:9::1", 5000, "2001:db8::10", 80, SYN));
    assert_eq!(next_hop(&v), ip("2001:db8::20"));
    let out = out.unwrap();
    verify_frame(&out).unwrap();
    let outer = frame_facts(&out);
    assert_eq!((outer.proto, outer.src), (41, ip("2001:db8:ffff::254")));
    let big = Pkt::tcp("2001:db8:9::1", 5000, "2001:db8::10", 80, ACK).with_payload(&[0; 1440]);
    let (v, out) = lab.send(&big);
    assert_eq!(next_hop(&v), ip("2001:db8:9::1"));
    let out = out.unwrap();
    verify_frame(&out).unwrap();
    let f = frame_facts(&out);
    assert_eq!((f.proto, f.src), (58, ip("2001:db8::10")));
    assert!(f.len <= 1280);
    assert_eq!(out[54], 2);
    assert_eq!(
        u32::from_be_bytes([out[58], out[59], out[60], out[61]]),
        1460
    );
}

#[test]
fn tun_mixed_family() {
    let mut lab = Lab::new();
    lab.add(
        service(key(Protocol::Udp, VIP, 53), "rr"),
        &[dest("2001:db8::20", 0, Tunnel, 1)],
    );
    let (v, out) = lab.send(&Pkt::udp(CIP, 5000, VIP, 53).with_payload(b"q"));
    assert_eq!(next_hop(&v), ip("2001:db8::20"));
    let out = out.unwrap();
    verify_frame(&out).unwrap();
    assert_eq!(&out[12..14], &[0x86, 0xdd]);
    let outer = frame_facts(&out);
    assert_eq!((outer.proto, outer.dst), (4, ip("2001:db8::20")));
}

#[test]
fn tun_without_source_or_headroom() {
    let mut lab = Lab::new();
    lab.director = rvs_core::director::Director::new(Default::default());
    lab.add(
        service(key(Protocol::Tcp, VIP, 80), "rr"),
        &[dest(RIP, 0, Tunnel, 1)],
    );
    let (v, _) = lab.send(&Pkt::tcp(CIP, 40000, VIP, 80, SYN));
    assert_eq!(v, Verdict::Drop(DropReason::NoSourceAddress));
    lab.director.set_local_address(ip(LOCAL));
    let mut frame = Pkt::tcp(CIP, 40001, VIP, 80, SYN).frame();
    let len = frame.len();
    let v = lab.director.process(&mut frame, 0, len, lab.now);
    assert_eq!(v, Verdict::Drop(DropReason::NoHeadroom));
}
