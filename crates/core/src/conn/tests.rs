//! Table-level tests on a virtual clock: state machines through the table, counters,
//! expiry, persistence, eviction, port reuse, export.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::persist_tests::persist;
use super::*;
use crate::Instant;
use crate::model::{ForwardMethod, Protocol, Timeouts};

pub(crate) fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Per-destination (active, inactive, persistent) as summed from deltas or read from a table.
pub(crate) type Counts = BTreeMap<u32, (i64, i64, i64)>;

pub(crate) fn apply(c: &mut Counts, d: CounterDelta) {
    let e = c.entry(d.dest).or_default();
    e.0 += i64::from(d.active);
    e.1 += i64::from(d.inactive);
    e.2 += i64::from(d.persistent);
}

/// What the table holds, counted the way the deltas should add up.
pub(crate) fn table_counts(t: &ConnTable) -> Counts {
    let mut c = Counts::new();
    for e in t.iter() {
        let x = c.entry(e.dest_id()).or_default();
        if e.is_template() {
            x.2 += 1;
        } else if e.is_active() {
            x.0 += 1;
        } else {
            x.1 += 1;
        }
    }
    c
}

pub(crate) fn nonzero(c: &Counts) -> Counts {
    c.iter()
        .filter(|(_, v)| **v != (0, 0, 0))
        .map(|(k, v)| (*k, *v))
        .collect()
}

pub(crate) fn table(max: u32) -> ConnTable {
    ConnTable::new(ConnTableConfig {
        max_conns: max,
        seed: 99,
        tick_ms: 100,
        wheel_slots: 1024,
        ..Default::default()
    })
}

pub(crate) fn conn(cport: u16, method: ForwardMethod, dest: u32) -> NewConn {
    NewConn {
        key: InKey::new(
            Protocol::Tcp,
            ip("203.0.113.7"),
            cport,
            ip("198.51.100.1"),
            80,
        ),
        daddr: ip("198.51.100.20"),
        dport: 8080,
        method,
        service: 1,
        dest,
        control: None,
        one_packet: false,
        no_cport: false,
    }
}

pub(crate) fn s(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

pub(crate) fn tcp(f: u8) -> Segment {
    Segment::Tcp(TcpFlags(f))
}

pub(crate) const SYN: u8 = TcpFlags::SYN;
pub(crate) const ACK: u8 = TcpFlags::ACK;
pub(crate) const FIN: u8 = TcpFlags::FIN | TcpFlags::ACK;
pub(crate) const RST: u8 = TcpFlags::RST;

pub(crate) fn state(t: &ConnTable, id: ConnId) -> &'static str {
    t.get(id).unwrap().state().name()
}

#[test]
fn nat_handshake_teardown_and_replies() {
    let mut t = table(100);
    let mut c = Counts::new();
    let mut sink = |d| apply(&mut c, d);
    let id = t
        .insert(&conn(40000, ForwardMethod::Masq, 7), s(0), &mut sink)
        .unwrap();
    assert_eq!(state(&t, id), "NONE");
    t.on_packet(id, Direction::Input, tcp(SYN), s(0), &mut sink);
    assert_eq!(state(&t, id), "SYN_RECV");
    let reply = OutKey::new(
        Protocol::Tcp,
        ip("198.51.100.20"),
        8080,
        ip("203.0.113.7"),
        40000,
    );
    assert_eq!(t.lookup_out(&reply), Some(id));
    let wrong = OutKey::new(
        Protocol::Tcp,
        ip("198.51.100.20"),
        8081,
        ip("203.0.113.7"),
        40000,
    );
    assert_eq!(t.lookup_out(&wrong), None);
    t.on_packet(id, Direction::Output, tcp(SYN | ACK), s(1), &mut sink);
    t.on_packet(id, Direction::Input, tcp(ACK), s(2), &mut sink);
    assert_eq!(state(&t, id), "ESTABLISHED");
    assert_eq!(t.get(id).unwrap().timeout_ms(), 900_000);
    t.on_packet(id, Direction::Input, tcp(FIN), s(3), &mut sink);
    assert_eq!(state(&t, id), "CLOSE_WAIT");
    t.on_packet(id, Direction::Output, tcp(FIN), s(4), &mut sink);
    t.on_packet(id, Direction::Input, tcp(ACK), s(5), &mut sink);
    assert_eq!(state(&t, id), "TIME_WAIT");
    assert_eq!(t.get(id).unwrap().in_pkts(), 4);
    assert_eq!(nonzero(&c), [(7, (0, 1, 0))].into());
    assert_eq!(nonzero(&c), nonzero(&table_counts(&t)));
    // TIME_WAIT lasts 120 s after the last packet.
    assert_eq!(t.expire(s(120_004), &mut |d| apply(&mut c, d)), 0);
    assert_eq!(t.expire(s(120_100), &mut |d| apply(&mut c, d)), 1);
    assert!(t.is_empty());
    assert_eq!(t.lookup_out(&reply), None);
    assert_eq!(nonzero(&c), Counts::new());
}

#[test]
fn dr_sees_input_only_and_ends_in_fin_wait() {
    let mut t = table(100);
    let mut c = Counts::new();
    let mut sink = |d| apply(&mut c, d);
    let id = t
        .insert(&conn(40001, ForwardMethod::Route, 3), s(0), &mut sink)
        .unwrap();
    assert!(t.get(id).unwrap().no_output());
    // DR entries are not in the reply index.
    let reply = OutKey::new(
        Protocol::Tcp,
        ip("198.51.100.20"),
        8080,
        ip("203.0.113.7"),
        40001,
    );
    assert_eq!(t.lookup_out(&reply), None);
    let mut seen = Vec::new();
    for f in [SYN, ACK, FIN, ACK] {
        t.on_packet(id, Direction::Input, tcp(f), s(0), &mut sink);
        seen.push(state(&t, id));
    }
    assert_eq!(seen, ["SYN_RECV", "ESTABLISHED", "FIN_WAIT", "FIN_WAIT"]);
    assert_eq!(t.get(id).unwrap().timeout_ms(), 120_000);
    assert_eq!(nonzero(&c), [(3, (0, 1, 0))].into());
}

#[test]
fn rst_closes_and_expires_after_ten_seconds() {
    let mut t = table(10);
    let mut c = Counts::new();
    let id = t
        .insert(&conn(1, ForwardMethod::Masq, 1), s(0), &mut |d| {
            apply(&mut c, d)
        })
        .unwrap();
    for f in [SYN, ACK] {
        t.on_packet(id, Direction::Input, tcp(f), s(0), &mut |d| {
            apply(&mut c, d)
        });
    }
    assert_eq!(nonzero(&c), [(1, (1, 0, 0))].into());
    t.on_packet(id, Direction::Input, tcp(RST), s(1000), &mut |d| {
        apply(&mut c, d)
    });
    assert_eq!(state(&t, id), "CLOSE");
    assert_eq!(nonzero(&c), [(1, (0, 1, 0))].into());
    assert_eq!(t.expire(s(10_999), &mut |d| apply(&mut c, d)), 0);
    assert_eq!(t.expire(s(11_000), &mut |d| apply(&mut c, d)), 1);
    assert_eq!(nonzero(&c), Counts::new());
    assert_eq!(t.stats().expired, 1);
}

#[test]
fn every_packet_rearms_the_timer() {
    let mut t = table(10);
    let mut sink = |_| {};
    let id = t
        .insert(&conn(2, ForwardMethod::Masq, 1), s(0), &mut sink)
        .unwrap();
    t.on_packet(id, Direction::Input, tcp(SYN), s(0), &mut sink);
    // SYN_RECV: 60 s, re-armed by each retransmitted SYN.
    for k in 1..=5u64 {
        t.expire(s(k * 50_000), &mut sink);
        t.on_packet(id, Direction::Input, tcp(SYN), s(k * 50_000), &mut sink);
    }
    assert_eq!(t.get(id).unwrap().expires_in_ms(s(250_000)), 60_000);
    t.expire(s(309_900), &mut sink);
    assert_eq!(t.len(), 1);
    t.expire(s(310_000), &mut sink);
    assert_eq!(t.len(), 0);
}

#[test]
fn udp_timeout_and_set_timeouts() {
    let mut t = table(10);
    let mut c = Counts::new();
    let mut n = conn(53000, ForwardMethod::Masq, 2);
    n.key = InKey::new(
        Protocol::Udp,
        ip("203.0.113.7"),
        53000,
        ip("198.51.100.1"),
        53,
    );
    let id = t.insert(&n, s(0), &mut |d| apply(&mut c, d)).unwrap();
    t.on_packet(id, Direction::Input, Segment::Udp, s(0), &mut |d| {
        apply(&mut c, d)
    });
    assert_eq!(state(&t, id), "UDP");
    assert_eq!(t.get(id).unwrap().protocol_name(), "UDP");
    assert_eq!(t.get(id).unwrap().timeout_ms(), 300_000);
    assert_eq!(nonzero(&c), [(2, (0, 1, 0))].into());
    t.set_timeouts(Timeouts {
        tcp: 0,
        tcp_fin: 0,
        udp: 10,
    });
    assert_eq!(
        t.timeouts(),
        Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 10
        }
    );
    t.on_packet(id, Direction::Output, Segment::Udp, s(1000), &mut |d| {
        apply(&mut c, d)
    });
    t.expire(s(10_999), &mut |d| apply(&mut c, d));
    assert_eq!(t.len(), 1);
    t.expire(s(11_000), &mut |d| apply(&mut c, d));
    assert_eq!(t.len(), 0);
    assert_eq!(nonzero(&c), Counts::new());
}

#[test]
fn sctp_association_counts_active_only_when_established() {
    let mut t = table(10);
    let mut c = Counts::new();
    let mut n = conn(5000, ForwardMethod::Masq, 4);
    n.key = InKey::new(
        Protocol::Sctp,
        ip("203.0.113.7"),
        5000,
        ip("198.51.100.1"),
        3868,
    );
    let id = t.insert(&n, s(0), &mut |d| apply(&mut c, d)).unwrap();
    let ev = [
        (Direction::Input, SctpEvent::Init, "INIT1"),
        (Direction::Output, SctpEvent::InitAck, "C-SENT"),
        (Direction::Input, SctpEvent::CookieEcho, "C-REPLIED"),
        (Direction::Output, SctpEvent::CookieAck, "ESTABLISHED"),
    ];
    for (dir, e, name) in ev {
        t.on_packet(id, dir, Segment::Sctp(e), s(0), &mut |d| apply(&mut c, d));
        assert_eq!(state(&t, id), name);
    }
    assert_eq!(nonzero(&c), [(4, (1, 0, 0))].into());
    t.on_packet(
        id,
        Direction::Input,
        Segment::Sctp(SctpEvent::Abort),
        s(0),
        &mut |d| apply(&mut c, d),
    );
    assert_eq!(state(&t, id), "CLOSED");
    assert_eq!(nonzero(&c), [(4, (0, 1, 0))].into());
}

#[test]
fn full_table_evicts_oldest_non_established_then_refuses() {
    let mut t = table(4);
    let mut c = Counts::new();
    let mut ids = Vec::new();
    for p in 0..4 {
        let id = t.insert(&conn(p, ForwardMethod::Masq, 1), s(p as u64), &mut |d| {
            apply(&mut c, d)
        });
        let id = id.unwrap();
        t.on_packet(id, Direction::Input, tcp(SYN), s(p as u64), &mut |d| {
            apply(&mut c, d)
        });
        ids.push(id);
    }
    // Establish 1 and 2; 0 and 3 stay SYN_RECV. 0 is the oldest evictable.
    for &i in &ids[1..3] {
        t.on_packet(i, Direction::Input, tcp(ACK), s(10), &mut |d| {
            apply(&mut c, d)
        });
    }
    let k = conn(4, ForwardMethod::Masq, 1).key;
    let new = t.insert(&conn(4, ForwardMethod::Masq, 1), s(20), &mut |d| {
        apply(&mut c, d)
    });
    assert!(new.is_ok());
    assert_eq!(t.len(), 4);
    assert_eq!(
        t.lookup_in(&conn(0, ForwardMethod::Masq, 1).key),
        None,
        "oldest evicted"
    );
    assert_eq!(t.lookup_in(&k), new.ok());
    assert_eq!(t.stats().evicted, 1);
    for p in [3, 4] {
        let id = t.lookup_in(&conn(p, ForwardMethod::Masq, 1).key).unwrap();
        t.on_packet(id, Direction::Input, tcp(ACK), s(30), &mut |d| {
            apply(&mut c, d)
        });
    }
    let r = t.insert(&conn(5, ForwardMethod::Masq, 1), s(40), &mut |d| {
        apply(&mut c, d)
    });
    assert_eq!(r, Err(InsertError::TableFull));
    assert_eq!(t.stats().refused_full, 1);
    assert_eq!(nonzero(&c), nonzero(&table_counts(&t)));
    // Once entries expire, inserts succeed again without eviction.
    let r = t.insert(&conn(5, ForwardMethod::Masq, 1), s(1_000_000), &mut |d| {
        apply(&mut c, d)
    });
    assert!(r.is_ok());
    assert_eq!(t.len(), 1);
    assert_eq!(nonzero(&c), nonzero(&table_counts(&t)));
}

#[test]
fn duplicate_insert_is_refused() {
    let mut t = table(4);
    let mut sink = |_| {};
    let id = t
        .insert(&conn(9, ForwardMethod::Masq, 1), s(0), &mut sink)
        .unwrap();
    assert_eq!(
        t.insert(&conn(9, ForwardMethod::Masq, 1), s(0), &mut sink),
        Err(InsertError::Exists(id))
    );
    let mut bad = conn(10, ForwardMethod::Masq, 1);
    bad.control = Some(id);
    assert_eq!(
        t.insert(&bad, s(0), &mut sink),
        Err(InsertError::InvalidControl)
    );
}

#[test]
fn conn_reuse_mode_rules() {
    let mut t = table(10);
    let mut sink = |_| {};
    let syn = tcp(SYN);
    let pol = |mode, nodest| ReusePolicy {
        conn_reuse_mode: mode,
        expire_nodest_conn: nodest,
    };
    // NAT entry driven to TIME_WAIT.
    let a = t
        .insert(&conn(1, ForwardMethod::Masq, 1), s(0), &mut sink)
        .unwrap();
    for (d, f) in [
        (Direction::Input, SYN),
        (Direction::Output, SYN | ACK),
        (Direction::Input, ACK),
    ] {
        t.on_packet(a, d, tcp(f), s(0), &mut sink);
    }
    assert!(
        !t.should_reschedule(a, syn, pol(1, false), false),
        "ESTABLISHED"
    );
    assert!(
        t.should_reschedule(a, syn, pol(0, true), true),
        "expire_nodest_conn + weight 0"
    );
    assert!(
        !t.should_reschedule(a, tcp(ACK), pol(0, true), true),
        "only new-conn packets"
    );
    for (d, f) in [(Direction::Input, FIN), (Direction::Output, FIN)] {
        t.on_packet(a, d, tcp(f), s(0), &mut sink);
    }
    assert_eq!(state(&t, a), "TIME_WAIT");
    assert!(t.should_reschedule(a, syn, pol(1, false), false));
    assert!(!t.should_reschedule(a, syn, pol(0, false), false));
    // DR entry in FIN_WAIT: only with bit 2.
    let b = t
        .insert(&conn(2, ForwardMethod::Route, 1), s(0), &mut sink)
        .unwrap();
    for f in [SYN, ACK, FIN] {
        t.on_packet(b, Direction::Input, tcp(f), s(0), &mut sink);
    }
    assert_eq!(state(&t, b), "FIN_WAIT");
    assert!(!t.should_reschedule(b, syn, pol(1, false), false));
    assert!(t.should_reschedule(b, syn, pol(3, false), false));
    t.expire_now(b, s(0), &mut sink);
    assert_eq!(t.len(), 1);
    // Controlled connections are never rescheduled.
    let mut c = Counts::new();
    let (p, _, _) = persist(&mut t, "203.0.113.9", 7, 5, s(0), &mut c);
    t.on_packet(p, Direction::Input, tcp(RST), s(0), &mut sink);
    t.on_packet(p, Direction::Input, tcp(0), s(0), &mut sink);
    assert_eq!(state(&t, p), "CLOSE");
    assert!(!t.should_reschedule(p, syn, pol(3, true), true));
}

#[test]
fn one_packet_entries_are_released() {
    let mut t = table(10);
    let mut c = Counts::new();
    let mut n = conn(53, ForwardMethod::Masq, 6);
    n.key = InKey::new(Protocol::Udp, ip("203.0.113.7"), 53, ip("198.51.100.1"), 53);
    n.one_packet = true;
    let a = t.insert(&n, s(0), &mut |d| apply(&mut c, d)).unwrap();
    // Not hashed: the same datagram flow gets a fresh entry each time.
    assert_eq!(t.lookup_in(&n.key), None);
    let b = t.insert(&n, s(0), &mut |d| apply(&mut c, d)).unwrap();
    assert_eq!(nonzero(&c), [(6, (0, 2, 0))].into());
    t.release(a, &mut |d| apply(&mut c, d));
    t.release(b, &mut |d| apply(&mut c, d));
    assert!(t.is_empty());
    assert_eq!(nonzero(&c), Counts::new());
}

#[test]
fn no_cport_entries_match_until_filled() {
    let mut t = table(10);
    let mut sink = |_| {};
    let mut n = conn(0, ForwardMethod::Masq, 1);
    n.no_cport = true;
    let id = t.insert(&n, s(0), &mut sink).unwrap();
    let k = conn(4321, ForwardMethod::Masq, 1).key;
    assert_eq!(t.lookup_in(&k), Some(id));
    t.fill_cport(id, 4321);
    assert_eq!(t.lookup_in(&k), Some(id));
    assert_eq!(t.lookup_in(&conn(4322, ForwardMethod::Masq, 1).key), None);
    let reply = OutKey::new(
        Protocol::Tcp,
        ip("198.51.100.20"),
        8080,
        ip("203.0.113.7"),
        4321,
    );
    assert_eq!(t.lookup_out(&reply), Some(id));
}

#[test]
fn ipv6_connections() {
    let mut t = table(10);
    let mut sink = |_| {};
    let n = NewConn {
        key: InKey::new(
            Protocol::Tcp,
            ip("2001:db8::7"),
            5000,
            ip("2001:db8::1"),
            443,
        ),
        daddr: ip("2001:db8:1::20"),
        dport: 443,
        method: ForwardMethod::Masq,
        service: 1,
        dest: 1,
        control: None,
        one_packet: false,
        no_cport: false,
    };
    let id = t.insert(&n, s(0), &mut sink).unwrap();
    assert_eq!(t.lookup_in(&n.key), Some(id));
    let v4 = InKey::new(
        Protocol::Tcp,
        ip("32.1.13.184"),
        5000,
        ip("32.1.13.184"),
        443,
    );
    assert_eq!(t.lookup_in(&v4), None);
    let reply = OutKey::new(
        Protocol::Tcp,
        ip("2001:db8:1::20"),
        443,
        ip("2001:db8::7"),
        5000,
    );
    assert_eq!(t.lookup_out(&reply), Some(id));
    assert_eq!(
        t.get(id).unwrap().client().to_string(),
        "[2001:db8::7]:5000"
    );
}

#[test]
fn memory_stays_within_the_cap() {
    let mut t = table(1000);
    let mut sink = |_| {};
    for i in 0..5000u16 {
        let _ = t.insert(&conn(i, ForwardMethod::Masq, 1), s(u64::from(i)), &mut sink);
    }
    assert_eq!(t.len(), 1000);
    assert!(t.entries.capacity() <= 1000);
    let per = t.memory_bytes() / 1000;
    assert!(per < 200, "{per} bytes per entry");
}

#[test]
fn indices_follow_growth_and_churn() {
    // Enough entries to grow both indices several times, then remove every third and
    // refill: every live NAT entry is found from both sides, every removed one from none.
    let mut t = table(20_000);
    let mut sink = |_| {};
    let key = |i: u32| {
        let mut n = conn((i % 60_000) as u16 + 1, ForwardMethod::Masq, i % 7);
        n.key = InKey::new(
            Protocol::Tcp,
            IpAddr::from([203, 0, 113, (i / 60_000) as u8]),
            (i % 60_000) as u16 + 1,
            ip("198.51.100.1"),
            80,
        );
        n
    };
    let reply = |t: &ConnTable, id: ConnId| {
        let c = t.get(id).unwrap();
        OutKey::new(
            Protocol::Tcp,
            c.dest_addr().ip(),
            c.dport(),
            c.client().ip(),
            c.cport(),
        )
    };
    let mut ids: Vec<ConnId> = (0..15_000)
        .map(|i| t.insert(&key(i), s(0), &mut sink).unwrap())
        .collect();
    let gone: Vec<(InKey, OutKey)> = (0..15_000)
        .step_by(3)
        .map(|i| {
            let out = reply(&t, ids[i]);
            t.expire_now(ids[i], s(1), &mut sink);
            (key(i as u32).key, out)
        })
        .collect();
    for i in 15_000..20_000 {
        ids.push(t.insert(&key(i), s(2), &mut sink).unwrap());
    }
    assert_eq!(t.len(), 15_000);
    for (i, &id) in ids.iter().enumerate() {
        if i < 15_000 && i % 3 == 0 {
            continue;
        }
        assert_eq!(t.lookup_in(&key(i as u32).key), Some(id), "entry {i}");
        assert_eq!(t.lookup_out(&reply(&t, id)), Some(id), "entry {i}");
    }
    for (k, out) in &gone {
        assert_eq!(t.lookup_in(k), None);
        assert_eq!(t.lookup_out(out), None);
    }
}
