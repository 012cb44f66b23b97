//! IPVS semantics seen through `process`: weights, persistence, deleted destinations,
//! thresholds, one-packet scheduling, drops.

mod common;

use common::*;
use rvs_core::director::Sysctls;
use rvs_core::model::{ForwardMethod::Masq, ForwardMethod::Route, Protocol, Timeouts};
use rvs_core::{DropReason, Verdict};

const VIP: &str = "203.0.113.10";
const R1: &str = "198.51.100.21";
const R2: &str = "198.51.100.22";

fn two_dests(svc: rvs_core::model::ServiceConfig) -> Lab {
    let mut lab = Lab::new();
    lab.add(svc, &[dest(R1, 80, Route, 1), dest(R2, 80, Route, 1)]);
    lab
}

fn client(n: u8) -> String {
    format!("203.0.113.{n}")
}

#[test]
fn weight_zero_keeps_existing_and_takes_no_new() {
    let k = key(Protocol::Tcp, VIP, 80);
    let mut lab = two_dests(service(k, "rr"));
    let mut hops = Vec::new();
    for c in 1..=4 {
        let (v, _) = lab.send(&Pkt::tcp(&client(c), 1000, VIP, 80, SYN));
        hops.push(next_hop(&v));
    }
    assert!(hops.contains(&ip(R1)) && hops.contains(&ip(R2)));
    lab.config.edit_dest(&k, dest(R1, 80, Route, 0)).unwrap();
    lab.sync();
    // Existing connections keep their server.
    for (c, hop) in (1..=4).zip(&hops) {
        let (v, _) = lab.send(&Pkt::tcp(&client(c), 1000, VIP, 80, ACK));
        assert_eq!(next_hop(&v), *hop);
    }
    // New ones all go to the other server.
    for c in 10..20 {
        let (v, _) = lab.send(&Pkt::tcp(&client(c), 1000, VIP, 80, SYN));
        assert_eq!(next_hop(&v), ip(R2));
    }
    // With both quiesced, the client gets a port unreachable from the VIP.
    lab.config.edit_dest(&k, dest(R2, 80, Route, 0)).unwrap();
    lab.sync();
    let (v, out) = lab.send(&Pkt::tcp(&client(30), 1000, VIP, 80, SYN));
    assert_eq!(next_hop(&v), ip(&client(30)));
    let out = out.unwrap();
    verify_frame(&out).unwrap();
    let f = frame_facts(&out);
    assert_eq!((f.proto, f.src), (1, ip(VIP)));
    assert_eq!((out[34], out[35]), (3, 3));
    assert_eq!(lab.director.drops().get(DropReason::NoDestination), 1);
}

#[test]
fn persistence_holds_until_the_template_expires() {
    let k = key(Protocol::Tcp, VIP, 80);
    let mut lab = two_dests(persistent(k, "rr", 60));
    let first = next_hop(&lab.send(&Pkt::tcp(&client(1), 1000, VIP, 80, SYN)).0);
    let other = next_hop(&lab.send(&Pkt::tcp(&client(2), 1000, VIP, 80, SYN)).0);
    assert_ne!(first, other, "rr alternates between clients");
    let svc = lab.config.service(&k).unwrap();
    let persist: u32 = svc
        .dests
        .iter()
        .map(|d| lab.director.dest_conns(d.id).unwrap().persistent)
        .sum();
    assert_eq!(persist, 2, "one template per client");
    // Client 1 comes back on other ports: same server, though rr would move on.
    for port in 1001..1010 {
        assert_eq!(
            next_hop(&lab.send(&Pkt::tcp(&client(1), port, VIP, 80, SYN)).0),
            first
        );
        lab.advance(10);
    }
    // After silence longer than every timeout, the templates are gone.
    lab.advance(600);
    assert_eq!(lab.director.conn_count(), 0);
    let picks: Vec<_> = (0..2)
        .map(|i| next_hop(&lab.send(&Pkt::tcp(&client(1), 2000 + i, VIP, 80, SYN)).0))
        .collect();
    assert_eq!(picks[0], picks[1]);
    // rr continued its cycle: one pick per template creation.
    let third = next_hop(&lab.send(&Pkt::tcp(&client(3), 1000, VIP, 80, SYN)).0);
    assert_ne!(third, picks[0]);
}

#[test]
fn deleted_destination_drops_or_expires() {
    let k = key(Protocol::Udp, VIP, 53);
    let mut lab = Lab::new();
    lab.add(
        service(k, "rr"),
        &[dest(R1, 53, Masq, 1), dest(R2, 53, Masq, 1)],
    );
    let mut by_client = Vec::new();
    for c in 1..=4 {
        by_client.push(next_hop(&lab.send(&Pkt::udp(&client(c), 1000, VIP, 53)).0));
    }
    lab.config.del_dest(&k, ip(R1), 53).unwrap();
    lab.sync();
    let gone: Vec<u8> = (1..=4)
        .filter(|&c| by_client[usize::from(c) - 1] == ip(R1))
        .collect();
    assert!(!gone.is_empty());
    for &c in &gone {
        let (v, _) = lab.send(&Pkt::udp(&client(c), 1000, VIP, 53));
        assert_eq!(v, Verdict::Drop(DropReason::DestinationGone));
    }
    // With expire_nodest_conn the stale entry goes and the datagram is scheduled again.
    lab.director.set_sysctls(Sysctls {
        expire_nodest_conn: true,
        ..Sysctls::default()
    });
    for &c in &gone {
        let (v, _) = lab.send(&Pkt::udp(&client(c), 1000, VIP, 53));
        assert_eq!(next_hop(&v), ip(R2));
    }
    // Deleting with expire_nodest_conn set flushes the entries at once.
    let before = lab.director.conn_count();
    lab.config.del_dest(&k, ip(R2), 53).unwrap();
    lab.sync();
    assert_eq!(lab.director.conn_count(), before - 4);
    assert_eq!(lab.director.conn_count(), 0);
}

#[test]
fn deleted_destination_tcp_non_syn_is_gone() {
    let k = key(Protocol::Tcp, VIP, 80);
    let mut lab = Lab::new();
    lab.add(service(k, "rr"), &[dest(R1, 80, Route, 1)]);
    lab.send(&Pkt::tcp(&client(1), 1000, VIP, 80, SYN));
    lab.config.del_dest(&k, ip(R1), 80).unwrap();
    lab.sync();
    let (v, _) = lab.send(&Pkt::tcp(&client(1), 1000, VIP, 80, ACK));
    assert_eq!(v, Verdict::Drop(DropReason::DestinationGone));
    lab.director.set_sysctls(Sysctls {
        expire_nodest_conn: true,
        ..Sysctls::default()
    });
    let (v, _) = lab.send(&Pkt::tcp(&client(1), 1000, VIP, 80, ACK));
    assert_eq!(v, Verdict::Drop(DropReason::DestinationGone));
    assert_eq!(lab.director.conn_count(), 0);
}

#[test]
fn drops_are_counted() {
    let mut lab = Lab::new();
    lab.add(
        service(key(Protocol::Tcp, VIP, 80), "wlc"),
        &[dest(R1, 80, Route, 1)],
    );
    let (v, _) = lab.send(&Pkt::tcp(&client(1), 1000, "203.0.113.11", 80, SYN));
    assert_eq!(v, Verdict::Drop(DropReason::NoService));
    // Answered with an ICMP time exceeded (tests/ttl.rs), and counted as a drop.
    let (v, _) = lab.send(&Pkt {
        ttl: 1,
        ..Pkt::tcp(&client(1), 1000, VIP, 80, SYN)
    });
    assert_eq!(next_hop(&v), ip(&client(1)));
    let (v, _) = lab.send(&Pkt::tcp(&client(2), 1000, VIP, 80, ACK));
    assert_eq!(v, Verdict::Drop(DropReason::NoConnection));
    // IPv4 fragments: more-fragments set, or an offset.
    for (flags, off) in [(0x20u8, 0u8), (0x00, 0x10), (0x20, 0x01)] {
        let mut frame = Pkt::tcp(&client(3), 1000, VIP, 80, SYN).frame();
        frame[14 + 6] = flags;
        frame[14 + 7] = off;
        frame[14 + 10..14 + 12].fill(0);
        let c = rvs_wire::checksum::finish(rvs_wire::checksum::data(&frame[14..34]));
        frame[14 + 10..14 + 12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(
            lab.send_frame(&frame).0,
            Verdict::Drop(DropReason::Fragment)
        );
    }
    // IPv6 fragment header.
    let inner = Pkt::udp("2001:db8::1", 5, "2001:db8::10", 53).ip_bytes();
    let mut payload = vec![17, 0, 0, 0, 0, 0, 0, 1];
    payload.extend_from_slice(&inner[40..]);
    let frag = ip_header(
        ip("2001:db8::1"),
        ip("2001:db8::10"),
        44,
        64,
        false,
        0,
        payload,
    );
    assert_eq!(
        lab.send_frame(&ether(None, &frag)).0,
        Verdict::Drop(DropReason::Fragment)
    );
    let mut bad = Pkt::tcp(&client(1), 1000, VIP, 80, SYN).frame();
    bad[14 + 10] ^= 0xff;
    assert_eq!(
        lab.send_frame(&bad).0,
        Verdict::Drop(DropReason::BadChecksum)
    );
    assert_eq!(
        lab.send_frame(&bad[..30]).0,
        Verdict::Drop(DropReason::Malformed)
    );
    let d = lab.director.drops();
    assert_eq!(d.get(DropReason::NoService), 1);
    assert_eq!(d.get(DropReason::TtlExceeded), 1);
    assert_eq!(d.get(DropReason::NoConnection), 1);
    assert_eq!(d.get(DropReason::Fragment), 4);
    assert_eq!(d.total(), 9);
}

#[test]
fn upper_threshold_overloads_and_lower_clears() {
    let k = key(Protocol::Udp, VIP, 53);
    let mut lab = Lab::new();
    let mut d1 = dest(R1, 53, Route, 100);
    d1.u_threshold = 2;
    d1.l_threshold = 1;
    lab.add(service(k, "wrr"), &[dest(R2, 53, Route, 1), d1]);
    let id1 = lab.config.service(&k).unwrap().dests[0].id;
    let mut hops = Vec::new();
    for c in 1..=6 {
        hops.push(next_hop(&lab.send(&Pkt::udp(&client(c), 1000, VIP, 53)).0));
    }
    assert_eq!(hops.iter().filter(|h| **h == ip(R1)).count(), 2, "{hops:?}");
    assert_eq!(lab.director.dest_overloaded(id1), Some(true));
    lab.advance(400);
    assert_eq!(lab.director.dest_overloaded(id1), Some(false));
    assert_eq!(
        next_hop(&lab.send(&Pkt::udp(&client(50), 1000, VIP, 53)).0),
        ip(R1)
    );
}

#[test]
fn one_packet_scheduling_schedules_every_datagram() {
    let k = key(Protocol::Udp, VIP, 53);
    let mut svc = service(k, "rr");
    svc.one_packet = true;
    let mut lab = Lab::new();
    lab.add(svc, &[dest(R1, 53, Route, 1), dest(R2, 53, Route, 1)]);
    let hops: Vec<_> = (0..4)
        .map(|_| next_hop(&lab.send(&Pkt::udp(&client(1), 1000, VIP, 53)).0))
        .collect();
    assert_ne!(hops[0], hops[1]);
    assert_eq!(hops[0], hops[2]);
    assert_eq!(lab.director.conn_count(), 0);
    let sid = lab.config.service(&k).unwrap().id;
    assert_eq!(lab.director.service_stats(sid).unwrap().counters.conns, 4);
}

#[test]
fn syn_on_time_wait_is_rescheduled() {
    let k = key(Protocol::Tcp, VIP, 80);
    let mut lab = Lab::new();
    lab.add(
        service(k, "rr"),
        &[dest(R1, 8080, Masq, 1), dest(R2, 8080, Masq, 1)],
    );
    let c = client(1);
    let first = next_hop(&lab.send(&Pkt::tcp(&c, 1000, VIP, 80, SYN)).0);
    lab.send(&Pkt::tcp(&first.to_string(), 8080, &c, 1000, SYN | ACK));
    lab.send(&Pkt::tcp(&c, 1000, VIP, 80, ACK));
    lab.send(&Pkt::tcp(&c, 1000, VIP, 80, FIN | ACK));
    lab.send(&Pkt::tcp(&first.to_string(), 8080, &c, 1000, FIN | ACK));
    let again = next_hop(&lab.send(&Pkt::tcp(&c, 1000, VIP, 80, SYN)).0);
    assert_ne!(
        first, again,
        "the TIME_WAIT entry was replaced by a new connection"
    );
}

#[test]
fn timeouts_and_zero_and_rates() {
    let k = key(Protocol::Udp, VIP, 53);
    let mut lab = Lab::new();
    lab.add(service(k, "rr"), &[dest(R1, 53, Route, 1)]);
    lab.config
        .set_timeouts(Timeouts {
            tcp: 0,
            tcp_fin: 0,
            udp: 10,
        })
        .unwrap();
    lab.sync();
    let sid = lab.config.service(&k).unwrap().id;
    for i in 0..20 {
        lab.send(&Pkt::udp(&client(1), 1000 + i, VIP, 53).with_payload(&[0; 72]));
        lab.advance(1);
    }
    let r = lab.director.service_stats(sid).unwrap();
    assert_eq!(r.counters.inpkts, 20);
    assert_eq!(r.counters.inbytes, 20 * 100);
    assert!(
        r.rates().inpps >= 1 && r.rates().inbps > 0,
        "{:?}",
        r.rates()
    );
    // Flows sent at 1011..1019 s are alive at 1020 s; the one of 1010 s just expired.
    assert_eq!(lab.director.conn_count(), 9);
    lab.config.zero(Some(&k)).unwrap();
    lab.sync();
    let r = lab.director.service_stats(sid).unwrap();
    assert_eq!(r.counters, Default::default());
    assert_eq!(r.rates(), Default::default());
    assert_eq!(
        lab.director.global_stats().counters.inpkts,
        20,
        "global counters only zero with -Z alone"
    );
    lab.config.zero(None).unwrap();
    lab.sync();
    assert_eq!(lab.director.global_stats().counters.inpkts, 0);
}
