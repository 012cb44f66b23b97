//! TTL / hop limit expiry on forwarding: IPVS's `decrement_ttl` (every method) and
//! `ip_forward` (NAT replies) answer with ICMP time exceeded and drop the packet.

mod common;

use common::*;
use rvs_core::model::{ForwardMethod, Protocol};
use rvs_core::{DropReason, Verdict};

const VIP: &str = "203.0.113.10";
const CIP: &str = "203.0.113.99";
const RIP: &str = "198.51.100.20";
const LOCAL: &str = "198.51.100.254";
const VIP6: &str = "2001:db8::10";
const CIP6: &str = "2001:db8:9::1";
const RIP6: &str = "2001:db8:1::20";

fn lab(method: ForwardMethod, vip: &str, rip: &str) -> Lab {
    let mut lab = Lab::new();
    let port = if method == ForwardMethod::Masq {
        8080
    } else {
        0
    };
    lab.add(
        service(key(Protocol::Tcp, vip, 80), "rr"),
        &[dest(rip, port, method, 1)],
    );
    lab
}

/// Check an ICMP / ICMPv6 time exceeded frame from `src` to `dst` quoting `quoted` (cut to
/// the family's limit), and return the quote it carries.
fn check_time_exceeded(out: &[u8], src: &str, dst: &str, quoted: &[u8]) {
    verify_frame(out).unwrap();
    let (l3, _) = l3(out);
    let ip = &out[l3..];
    let f = facts(ip);
    assert_eq!((f.src, f.dst), (self::ip(src), self::ip(dst)));
    assert_eq!(f.len, ip.len(), "nothing after the ICMP message");
    let (proto, ty, max) = if f.src.is_ipv6() {
        (58, 3, 1280)
    } else {
        (1, 11, 576)
    };
    assert_eq!(f.proto, proto);
    assert_eq!(f.ttl, 64);
    let icmp = &ip[f.l4..];
    assert_eq!(&icmp[..2], &[ty, 0], "type and code");
    assert_eq!(&icmp[4..8], &[0; 4], "unused word");
    // RFC 792 / RFC 1812: as much of the packet as fits in 576 bytes (at least the header
    // and 8 bytes of data); RFC 4443: as much as fits in the minimum IPv6 MTU.
    let want = quoted.len().min(max - f.l4 - 8);
    assert!(want >= 28);
    assert_eq!(&icmp[8..], &quoted[..want], "quote");
    assert_eq!(f.len, (f.l4 + 8 + quoted.len()).min(max));
}

#[test]
fn every_method_answers_ttl_one_with_time_exceeded_from_the_vip() {
    for method in [
        ForwardMethod::Masq,
        ForwardMethod::Route,
        ForwardMethod::Tunnel,
    ] {
        let mut lab = lab(method, VIP, RIP);
        // A new connection and a packet of an established one (the fast path's case).
        for (flags, ttl) in [(SYN, 1), (ACK, 0)] {
            let p = Pkt {
                ttl,
                ..Pkt::tcp(CIP, 4000, VIP, 80, flags).with_payload(b"hello")
            };
            let (v, out) = lab.send(&p);
            assert_eq!(next_hop(&v), ip(CIP), "{method:?}");
            check_time_exceeded(&out.unwrap(), VIP, CIP, &p.ip_bytes());
        }
        // A packet with TTL 2 still goes to the real server.
        let p = Pkt {
            ttl: 2,
            ..Pkt::tcp(CIP, 4000, VIP, 80, ACK)
        };
        assert_eq!(next_hop(&lab.send(&p).0), ip(RIP), "{method:?}");
        let d = &lab.director;
        assert_eq!(d.drops().get(DropReason::TtlExceeded), 2, "{method:?}");
        assert_eq!(d.drops().total(), 2);
        assert_eq!(d.icmp_sent(), 2);
        // The connection created by the first SYN lives on, as in IPVS.
        assert_eq!(d.conn_count(), 1);
    }
}

#[test]
fn ipv6_hop_limit_one_gets_icmpv6_time_exceeded() {
    for method in [
        ForwardMethod::Masq,
        ForwardMethod::Route,
        ForwardMethod::Tunnel,
    ] {
        let mut lab = lab(method, VIP6, RIP6);
        let p = Pkt {
            ttl: 1,
            ..Pkt::tcp(CIP6, 4000, VIP6, 80, SYN).with_payload(b"hello")
        };
        let (v, out) = lab.send(&p);
        assert_eq!(next_hop(&v), ip(CIP6), "{method:?}");
        check_time_exceeded(&out.unwrap(), VIP6, CIP6, &p.ip_bytes());
        assert_eq!(lab.director.drops().get(DropReason::TtlExceeded), 1);
        assert_eq!(lab.director.icmp_sent(), 1);
    }
}

#[test]
fn long_packets_are_quoted_up_to_the_family_limit() {
    let mut lab = lab(ForwardMethod::Route, VIP, RIP);
    let p = Pkt {
        ttl: 1,
        ..Pkt::tcp(CIP, 4000, VIP, 80, SYN).with_payload(&[0x5a; 1000])
    };
    let (_, out) = lab.send(&p);
    let out = out.unwrap();
    check_time_exceeded(&out, VIP, CIP, &p.ip_bytes());
    assert_eq!(out.len(), 14 + 576);

    let mut lab = lab_v6();
    let p = Pkt {
        ttl: 1,
        ..Pkt::udp(CIP6, 4000, VIP6, 53).with_payload(&[0xa5; 1400])
    };
    let (_, out) = lab.send(&p);
    let out = out.unwrap();
    check_time_exceeded(&out, VIP6, CIP6, &p.ip_bytes());
    assert_eq!(out.len(), 14 + 1280);
}

fn lab_v6() -> Lab {
    let mut lab = Lab::new();
    lab.add(
        service(key(Protocol::Udp, VIP6, 53), "rr"),
        &[dest(RIP6, 0, ForwardMethod::Route, 1)],
    );
    lab
}

#[test]
fn nat_reply_with_ttl_one_is_answered_from_the_director() {
    let mut lab = lab(ForwardMethod::Masq, VIP, RIP);
    let (v, _) = lab.send(&Pkt::tcp(CIP, 4000, VIP, 80, SYN));
    assert_eq!(next_hop(&v), ip(RIP));
    let state = lab.director.connections().next().unwrap().state();
    let reply = Pkt {
        ttl: 1,
        ..Pkt::tcp(RIP, 8080, CIP, 4000, SYN | ACK)
    };
    let (v, out) = lab.send(&reply);
    assert_eq!(next_hop(&v), ip(RIP));
    // `ip_forward` quotes the reply as it arrived, before any rewrite.
    check_time_exceeded(&out.unwrap(), LOCAL, RIP, &reply.ip_bytes());
    assert_eq!(lab.director.drops().get(DropReason::TtlExceeded), 1);
    assert_eq!(lab.director.icmp_sent(), 1);
    // The reply never reached IPVS: no state change, not counted as outgoing traffic.
    let c = lab.director.connections().next().unwrap();
    assert_eq!(c.state(), state);
    assert_eq!(lab.director.global_stats().counters.outpkts, 0);
    // The same reply with TTL 2 passes and is counted.
    let reply = Pkt { ttl: 2, ..reply };
    let (v, out) = lab.send(&reply);
    assert_eq!(next_hop(&v), ip(CIP));
    assert_eq!(frame_facts(&out.unwrap()).src, ip(VIP));
    assert_eq!(lab.director.global_stats().counters.outpkts, 1);
}

#[test]
fn expiring_icmp_errors_are_dropped_unanswered() {
    let mut lab = lab(ForwardMethod::Route, VIP, RIP);
    lab.send(&Pkt::tcp(CIP, 4000, VIP, 80, SYN));
    let quoted = Pkt::tcp(VIP, 80, CIP, 4000, SYN | ACK).ip_bytes();
    let mut err = icmp_error(ip(CIP), ip(VIP), 3, 3, [0; 4], &quoted);
    err[8] = 1;
    err[10..12].fill(0);
    let c = rvs_wire::checksum::finish(rvs_wire::checksum::data(&err[..20]));
    err[10..12].copy_from_slice(&c.to_be_bytes());
    let (v, _) = lab.send_frame(&ether(None, &err));
    assert_eq!(v, Verdict::Drop(DropReason::TtlExceeded));
    assert_eq!(lab.director.icmp_sent(), 0);
    assert_eq!(lab.director.drops().get(DropReason::TtlExceeded), 1);
}

#[test]
fn without_headroom_the_packet_is_only_dropped() {
    let mut lab = lab(ForwardMethod::Route, VIP, RIP);
    let frame = Pkt {
        ttl: 1,
        ..Pkt::tcp(CIP, 4000, VIP, 80, SYN)
    }
    .frame();
    let mut buf = frame.clone();
    let (v, _) = lab.send_raw(&mut buf, 0, frame.len());
    assert_eq!(v, Verdict::Drop(DropReason::TtlExceeded));
    assert_eq!(buf, frame, "the frame is left alone");
    assert_eq!(lab.director.drops().get(DropReason::TtlExceeded), 1);
    assert_eq!(lab.director.icmp_sent(), 0);
}
