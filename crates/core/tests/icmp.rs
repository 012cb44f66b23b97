//! ICMP errors about tracked connections, in both directions, and tunnel error relaying.

mod common;

use common::*;
use rvs_core::model::{ForwardMethod::Masq, ForwardMethod::Route, ForwardMethod::Tunnel, Protocol};
use rvs_core::{DropReason, Verdict};

const VIP: &str = "203.0.113.10";
const CIP: &str = "203.0.113.99";
const RIP: &str = "198.51.100.20";
const LOCAL: &str = "198.51.100.254";

fn nat_lab() -> Lab {
    let mut lab = Lab::new();
    lab.add(
        service(key(Protocol::Udp, VIP, 53), "rr"),
        &[dest(RIP, 5353, Masq, 1)],
    );
    let (v, _) = lab.send(&Pkt::udp(CIP, 5000, VIP, 53).with_payload(b"query"));
    assert_eq!(next_hop(&v), ip(RIP));
    lab
}

#[test]
fn nat_error_from_real_server_goes_to_client_as_from_vip() {
    let mut lab = nat_lab();
    // What the real server received, quoted in its port unreachable.
    let quoted = Pkt {
        ttl: 63,
        ..Pkt::udp(CIP, 5000, RIP, 5353).with_payload(b"query")
    }
    .ip_bytes();
    let err = icmp_error(ip(RIP), ip(CIP), 3, 3, [0; 4], &quoted);
    let (v, out) = lab.send_frame(&ether(None, &err));
    assert_eq!(next_hop(&v), ip(CIP));
    let out = out.unwrap();
    verify_frame(&out).unwrap();
    let outer = frame_facts(&out);
    assert_eq!((outer.src, outer.dst), (ip(VIP), ip(CIP)));
    let inner = facts(&out[14 + 28..]);
    assert_eq!((inner.src, inner.sport), (ip(CIP), 5000));
    assert_eq!((inner.dst, inner.dport), (ip(VIP), 53));
}

#[test]
fn nat_error_from_client_goes_to_real_server() {
    let mut lab = nat_lab();
    // The reply the client received (from the VIP), quoted in the client's error.
    let quoted = Pkt::udp(VIP, 53, CIP, 5000)
        .with_payload(b"answer")
        .ip_bytes();
    let err = icmp_error(ip(CIP), ip(VIP), 3, 3, [0; 4], &quoted);
    let (v, out) = lab.send_frame(&ether(None, &err));
    assert_eq!(next_hop(&v), ip(RIP));
    let out = out.unwrap();
    verify_frame(&out).unwrap();
    let outer = frame_facts(&out);
    assert_eq!((outer.src, outer.dst), (ip(CIP), ip(RIP)));
    let inner = facts(&out[14 + 28..]);
    assert_eq!((inner.src, inner.sport), (ip(RIP), 5353));
    assert_eq!((inner.dst, inner.dport), (ip(CIP), 5000));
}

#[test]
fn nat_error_ipv6() {
    let mut lab = Lab::new();
    let (vip, cip, rip) = ("2001:db8::10", "2001:db8:9::1", "2001:db8:1::20");
    lab.add(
        service(key(Protocol::Tcp, vip, 80), "rr"),
        &[dest(rip, 8080, Masq, 1)],
    );
    lab.send(&Pkt::tcp(cip, 5000, vip, 80, SYN));
    let quoted = Pkt::tcp(cip, 5000, rip, 8080, SYN).ip_bytes();
    let err = icmp_error(ip(rip), ip(cip), 1, 4, [0; 4], &quoted);
    let (v, out) = lab.send_frame(&ether(None, &err));
    assert_eq!(next_hop(&v), ip(cip));
    let out = out.unwrap();
    verify_frame(&out).unwrap();
    assert_eq!(frame_facts(&out).src, ip(vip));
    let inner = facts(&out[14 + 48..]);
    assert_eq!((inner.dst, inner.dport), (ip(vip), 80));
}

#[test]
fn dr_error_from_client_is_forwarded_unchanged() {
    let mut lab = Lab::new();
    lab.add(
        service(key(Protocol::Tcp, VIP, 80), "rr"),
        &[dest(RIP, 80, Route, 1)],
    );
    lab.send(&Pkt::tcp(CIP, 5000, VIP, 80, SYN));
    let quoted = Pkt::tcp(VIP, 80, CIP, 5000, SYN | ACK).ip_bytes();
    let frame = ether(
        None,
        &icmp_error(ip(CIP), ip(VIP), 3, 4, [0, 0, 5, 0], &quoted),
    );
    let (v, out) = lab.send_frame(&frame);
    assert_eq!(next_hop(&v), ip(RIP));
    let out = out.unwrap();
    verify_frame(&out).unwrap();
    assert_eq!(out[14 + 20..], frame[14 + 20..]);
}

#[test]
fn tunnel_error_is_relayed_to_the_client() {
    let mut lab = Lab::new();
    lab.add(
        service(key(Protocol::Tcp, VIP, 80), "rr"),
        &[dest(RIP, 0, Tunnel, 1)],
    );
    let client_pkt = Pkt::tcp(CIP, 5000, VIP, 80, SYN);
    lab.send(&client_pkt);
    // A router between director and real server says the tunnelled packet was too big.
    let inner = Pkt {
        ttl: 63,
        ..client_pkt.clone()
    }
    .ip_bytes();
    let ipip = ip_header(ip(LOCAL), ip(RIP), 4, 63, true, 0, inner.clone());
    let err = icmp_error(
        ip("198.51.100.1"),
        ip(LOCAL),
        3,
        4,
        [0, 0, 0x05, 0xdc],
        &ipip,
    );
    let (v, out) = lab.send_frame(&ether(None, &err));
    assert_eq!(next_hop(&v), ip(CIP));
    let out = out.unwrap();
    verify_frame(&out).unwrap();
    let f = frame_facts(&out);
    assert_eq!((f.src, f.dst, f.proto), (ip(VIP), ip(CIP), 1));
    assert_eq!((out[34], out[35]), (3, 4));
    assert_eq!(u16::from_be_bytes([out[40], out[41]]), 1480);
    assert_eq!(out[42..42 + 20], inner[..20]);
    // The same error about a packet without DF is consumed.
    let inner = Pkt {
        ttl: 63,
        df: false,
        ..client_pkt
    }
    .ip_bytes();
    let ipip = ip_header(ip(LOCAL), ip(RIP), 4, 63, false, 0, inner);
    let err = icmp_error(
        ip("198.51.100.1"),
        ip(LOCAL),
        3,
        4,
        [0, 0, 0x05, 0xdc],
        &ipip,
    );
    assert_eq!(
        lab.send_frame(&ether(None, &err)).0,
        Verdict::Drop(DropReason::IcmpConsumed)
    );
}

#[test]
fn unrelated_and_broken_icmp() {
    let mut lab = nat_lab();
    let echo = icmp_error(ip(CIP), ip(VIP), 8, 0, [0, 1, 0, 1], b"ping");
    assert_eq!(
        lab.send_frame(&ether(None, &echo)).0,
        Verdict::Drop(DropReason::IcmpUnrelated)
    );
    let quoted = Pkt::udp(VIP, 53, "203.0.113.50", 5000).ip_bytes();
    let unknown = icmp_error(ip(CIP), ip(VIP), 3, 3, [0; 4], &quoted);
    assert_eq!(
        lab.send_frame(&ether(None, &unknown)).0,
        Verdict::Drop(DropReason::IcmpUnrelated)
    );
    let mut bad = icmp_error(
        ip(CIP),
        ip(VIP),
        3,
        3,
        [0; 4],
        &Pkt::udp(VIP, 53, CIP, 5000).ip_bytes(),
    );
    bad[22] ^= 1;
    assert_eq!(
        lab.send_frame(&ether(None, &bad)).0,
        Verdict::Drop(DropReason::BadChecksum)
    );
    let short = icmp_error(ip(CIP), ip(VIP), 3, 3, [0; 4], &[0x45, 0, 0]);
    assert_eq!(
        lab.send_frame(&ether(None, &short)).0,
        Verdict::Drop(DropReason::Malformed)
    );
}
