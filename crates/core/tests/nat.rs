//! NAT: a whole TCP conversation through the director, in both directions.

mod common;

use common::*;
use rvs_core::model::{ForwardMethod::Masq, Protocol};
use rvs_core::{DropReason, Verdict};

const VIP: &str = "203.0.113.10";
const CIP: &str = "203.0.113.99";
const RIP: &str = "198.51.100.20";

fn lab() -> Lab {
    let mut lab = Lab::new();
    lab.add(
        service(key(Protocol::Tcp, VIP, 80), "rr"),
        &[dest(RIP, 8080, Masq, 1)],
    );
    lab
}

fn check_in(lab: &mut Lab, p: &Pkt) {
    let (v, out) = lab.send(p);
    assert_eq!(next_hop(&v), ip(RIP));
    let out = out.unwrap();
    verify_frame(&out).unwrap();
    let f = frame_facts(&out);
    assert_eq!((f.src, f.sport), (ip(CIP), 40000));
    assert_eq!((f.dst, f.dport), (ip(RIP), 8080));
    assert_eq!(f.ttl, p.ttl - 1);
}

fn check_out(lab: &mut Lab, p: &Pkt) {
    let (v, out) = lab.send(p);
    assert_eq!(next_hop(&v), ip(CIP));
    let out = out.unwrap();
    verify_frame(&out).unwrap();
    let f = frame_facts(&out);
    assert_eq!((f.src, f.sport), (ip(VIP), 80));
    assert_eq!((f.dst, f.dport), (ip(CIP), 40000));
}

#[test]
fn tcp_conversation_round_trip() {
    let mut lab = lab();
    let k = key(Protocol::Tcp, VIP, 80);
    let sid = lab.config.service(&k).unwrap().id;
    let did = lab.config.service(&k).unwrap().dests[0].id;
    check_in(&mut lab, &Pkt::tcp(CIP, 40000, VIP, 80, SYN));
    check_out(&mut lab, &Pkt::tcp(RIP, 8080, CIP, 40000, SYN | ACK));
    check_in(&mut lab, &Pkt::tcp(CIP, 40000, VIP, 80, ACK));
    assert_eq!(lab.director.dest_conns(did).unwrap().active, 1);
    check_in(
        &mut lab,
        &Pkt::tcp(CIP, 40000, VIP, 80, ACK | PSH).with_payload(b"GET / HTTP/1.0\r\n\r\n"),
    );
    check_out(
        &mut lab,
        &Pkt::tcp(RIP, 8080, CIP, 40000, ACK | PSH).with_payload(b"HTTP/1.0 200 OK\r\n\r\nhello"),
    );
    check_in(&mut lab, &Pkt::tcp(CIP, 40000, VIP, 80, FIN | ACK));
    check_out(&mut lab, &Pkt::tcp(RIP, 8080, CIP, 40000, FIN | ACK));
    check_in(&mut lab, &Pkt::tcp(CIP, 40000, VIP, 80, ACK));
    let conns = lab.director.dest_conns(did).unwrap();
    assert_eq!((conns.active, conns.inactive), (0, 1));
    let s = lab.director.service_stats(sid).unwrap().counters;
    assert_eq!(s.conns, 1);
    assert_eq!(s.inpkts, 5);
    assert_eq!(s.outpkts, 3);
    assert_eq!(s.inbytes, 4 * 40 + 40 + 18);
    assert_eq!(s.outbytes, 40 + 40 + 24 + 40);
    assert_eq!(lab.director.global_stats().counters, s);
    // TIME_WAIT / CLOSE entries expire; the connection count goes back to zero.
    lab.advance(200);
    assert_eq!(lab.director.conn_count(), 0);
    assert_eq!(lab.director.dest_conns(did).unwrap(), Default::default());
}

#[test]
fn reply_without_connection_is_not_a_client() {
    let mut lab = lab();
    let (v, _) = lab.send(&Pkt::tcp(RIP, 8080, CIP, 40000, ACK));
    assert_eq!(v, Verdict::Drop(DropReason::NoConnection));
    // The real server is a NAT server of a TCP service only.
    let (v, _) = lab.send(&Pkt::udp(RIP, 8080, CIP, 40000));
    assert_eq!(v, Verdict::Drop(DropReason::NoService));
    let (v, _) = lab.send(&Pkt::udp("198.51.100.77", 53, CIP, 40000));
    assert_eq!(v, Verdict::Drop(DropReason::NoService));
}

#[test]
fn udp_and_sctp_and_ipv6() {
    let mut lab = Lab::new();
    lab.add(
        service(key(Protocol::Udp, VIP, 53), "wlc"),
        &[dest(RIP, 5353, Masq, 1)],
    );
    lab.add(
        service(key(Protocol::Sctp, VIP, 9), "wlc"),
        &[dest(RIP, 99, Masq, 1)],
    );
    lab.add(
        service(key(Protocol::Tcp, "2001:db8::10", 443), "wlc"),
        &[dest("2001:db8:1::20", 8443, Masq, 1)],
    );
    for p in [
        Pkt::udp(CIP, 5000, VIP, 53).with_payload(b"query"),
        Pkt::sctp(CIP, 5000, VIP, 9, 1),
        Pkt::tcp("2001:db8:2::99", 5000, "2001:db8::10", 443, SYN),
    ] {
        let (v, out) = lab.send(&p);
        let out = out.unwrap_or_else(|| panic!("{v:?}"));
        verify_frame(&out).unwrap();
        let f = frame_facts(&out);
        assert_eq!(f.src, p.src);
        assert_ne!(f.dst, p.dst);
        assert_eq!(next_hop(&v), f.dst);
    }
    let (v, out) = lab.send(&Pkt::udp(RIP, 5353, CIP, 5000).with_payload(b"answer"));
    assert_eq!(next_hop(&v), ip(CIP));
    let f = frame_facts(&out.unwrap());
    assert_eq!((f.src, f.sport), (ip(VIP), 53));
    let (v, out) = lab.send(&Pkt::sctp(RIP, 99, CIP, 5000, 2));
    assert_eq!(next_hop(&v), ip(CIP));
    verify_frame(&out.unwrap()).unwrap();
    let (_, out) = lab.send(&Pkt::tcp(
        "2001:db8:1::20",
        8443,
        "2001:db8:2::99",
        5000,
        SYN | ACK,
    ));
    let out = out.unwrap();
    verify_frame(&out).unwrap();
    let f = frame_facts(&out);
    assert_eq!((f.src, f.sport), (ip("2001:db8::10"), 443));
}

#[test]
fn udp_zero_checksum_stays_zero() {
    let mut lab = Lab::new();
    lab.add(
        service(key(Protocol::Udp, VIP, 53), "wlc"),
        &[dest(RIP, 5353, Masq, 1)],
    );
    let mut frame = Pkt::udp(CIP, 5000, VIP, 53).with_payload(b"q").frame();
    let (off, _) = l3(&frame);
    frame[off + 26..off + 28].fill(0);
    let (_, out) = lab.send_frame(&frame);
    let out = out.unwrap();
    assert_eq!(&out[off + 26..off + 28], &[0, 0]);
    verify_frame(&out).unwrap();
}

#[test]
fn vlan_tag_is_kept() {
    let mut lab = lab();
    let p = Pkt {
        vlan: Some(42),
        ..Pkt::tcp(CIP, 40000, VIP, 80, SYN)
    };
    let (_, out) = lab.send(&p);
    let out = out.unwrap();
    assert_eq!(&out[12..16], &[0x81, 0, 0, 42]);
    verify_frame(&out).unwrap();
    assert_eq!(frame_facts(&out).dst, ip(RIP));
}
