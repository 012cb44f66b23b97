//! The fast path against the general one: two directors with the same configuration and
//! seed, one with the fast path and one without, get the same frames; every verdict, every
//! byte of the buffer, every counter and every connection must come out the same.

use core::net::IpAddr;

use proptest::prelude::*;
use rvs_wire::checksum;

use crate::Instant;
use crate::config::Config;
use crate::forward::PathInfo;
use crate::model::{Protocol, ServiceKey};
use crate::verdict::Verdict;

use super::sample::{HEADROOM, sample_config, sample_director};
use super::{Director, Sysctls};

/// One IPv4 TCP or UDP frame, valid unless the test breaks it on purpose.
#[derive(Debug, Clone)]
struct Frame {
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    udp: bool,
    flags: u8,
    ttl: u8,
    df: bool,
    payload: usize,
    vlan: bool,
    ip_options: bool,
    zero_udp_csum: bool,
}

impl Frame {
    fn bytes(&self) -> Vec<u8> {
        let opt_len = if self.ip_options { 4 } else { 0 };
        let l4_hdr = if self.udp { 8 } else { 20 };
        let l4_len = l4_hdr + self.payload;
        let mut l4 = vec![0u8; l4_len];
        l4[0..2].copy_from_slice(&self.sport.to_be_bytes());
        l4[2..4].copy_from_slice(&self.dport.to_be_bytes());
        for (i, b) in l4[l4_hdr..].iter_mut().enumerate() {
            *b = i as u8 ^ 0x5c;
        }
        let proto = if self.udp { 17 } else { 6 };
        if self.udp {
            l4[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
        } else {
            l4[12] = 0x50;
            l4[13] = self.flags;
            l4[14] = 0x20;
        }
        if !(self.udp && self.zero_udp_csum) {
            let c = checksum::finish(checksum::combine(&[
                checksum::pseudo_header(
                    &IpAddr::from(self.src),
                    &IpAddr::from(self.dst),
                    proto,
                    l4_len as u32,
                ),
                checksum::data(&l4),
            ]));
            let at = if self.udp { 6 } else { 16 };
            l4[at..at + 2].copy_from_slice(&checksum::udp_wire(c).to_be_bytes());
        }
        let ihl = 20 + opt_len;
        let mut ip = vec![0u8; ihl];
        ip[0] = 0x40 | (ihl / 4) as u8;
        ip[1] = 0x03;
        ip[2..4].copy_from_slice(&((ihl + l4_len) as u16).to_be_bytes());
        ip[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
        ip[6] = if self.df { 0x40 } else { 0 };
        ip[8] = self.ttl;
        ip[9] = proto;
        ip[12..16].copy_from_slice(&self.src);
        ip[16..20].copy_from_slice(&self.dst);
        if self.ip_options {
            ip[20] = 1; // NOP options
            ip[21] = 1;
            ip[22] = 1;
            ip[23] = 0;
        }
        let c = checksum::finish(checksum::data(&ip));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
        if self.vlan {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
        }
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&ip);
        f.extend_from_slice(&l4);
        f
    }
}

/// Where a generated frame goes (the sample configuration's IPv4 services and NAT servers).
const TARGETS: [([u8; 4], u16, bool); 6] = [
    ([203, 0, 113, 10], 80, false),  // NAT (two real servers)
    ([203, 0, 113, 10], 53, true),   // DR
    ([203, 0, 113, 11], 443, false), // TUN, persistent
    ([203, 0, 113, 12], 5000, true), // NAT, port 0, persistent
    ([203, 0, 113, 13], 80, false),  // TUN to an IPv6 real server
    ([203, 0, 113, 99], 80, false),  // no service
];

/// NAT real servers replying: (RIP, port, UDP).
const SERVERS: [([u8; 4], u16, bool); 3] = [
    ([198, 51, 100, 20], 8080, false),
    ([198, 51, 100, 21], 8080, false),
    ([198, 51, 100, 50], 5000, true),
];

/// One step of a scenario.
#[derive(Debug, Clone)]
enum Step {
    /// A client packet.
    Client {
        client: u8,
        cport: u8,
        target: usize,
        frame: Frame,
        headroom_small: bool,
    },
    /// A real server's reply to a client.
    Reply {
        server: usize,
        client: u8,
        cport: u8,
        frame: Frame,
    },
    /// Time passes.
    Wait(u16),
    /// A configuration or driver change.
    Change(u8),
}

fn frame_strategy() -> impl Strategy<Value = Frame> {
    (
        prop_oneof![
            6 => Just(0x10u8),
            2 => Just(0x18),
            3 => Just(0x02),
            1 => Just(0x12),
            1 => Just(0x11),
            1 => Just(0x04),
            1 => Just(0x14),
        ],
        prop_oneof![8 => Just(64u8), 1 => Just(2), 1 => Just(1), 1 => Just(0)],
        any::<bool>(),
        prop_oneof![6 => Just(24usize), 2 => Just(0), 1 => Just(600), 1 => Just(1460)],
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(flags, ttl, df, payload, vlan, ip_options, zero_udp_csum)| Frame {
                src: [0; 4],
                sport: 0,
                dst: [0; 4],
                dport: 0,
                udp: false,
                flags,
                ttl,
                df,
                payload,
                vlan,
                ip_options,
                zero_udp_csum,
            },
        )
}

/// An index into [`TARGETS`], the flows the fast path takes more often.
fn target_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![4 => Just(0usize), 2 => Just(1), 2 => Just(2), 2 => Just(3), 1 => Just(4), 1 => Just(5)]
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u8..2, 0u8..2, target_strategy(), frame_strategy(), prop::bool::weighted(0.05))
            .prop_map(|(client, cport, target, frame, headroom_small)| Step::Client {
                client,
                cport,
                target,
                frame,
                headroom_small,
            }),
        3 => (0..SERVERS.len(), 0u8..2, 0u8..2, frame_strategy()).prop_map(
            |(server, client, cport, frame)| Step::Reply {
                server,
                client,
                cport,
                frame,
            }
        ),
        1 => (0u16..120).prop_map(Step::Wait),
        1 => (0u8..8).prop_map(Step::Change),
    ]
}

fn client_addr(client: u8) -> [u8; 4] {
    [198, 51, 100, 100 + client]
}

fn client_port(cport: u8) -> u16 {
    40_000 + u16::from(cport)
}

/// Apply a change to both directors (and the shared configuration).
fn change(which: u8, cfg: &mut Config, ds: &mut [Director; 2]) {
    let nat = ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "203.0.113.10".parse().unwrap_or(IpAddr::from([0; 4])),
        port: 80,
    };
    let rip: IpAddr = "198.51.100.21".parse().unwrap_or(IpAddr::from([0; 4]));
    let tun_rip: IpAddr = "198.51.100.40".parse().unwrap_or(IpAddr::from([0; 4]));
    for d in ds.iter_mut() {
        match which {
            0 => d.set_default_mtu(576),
            1 => d.set_default_mtu(1500),
            2 => d.set_path(
                tun_rip,
                PathInfo {
                    source: Some("198.51.100.253".parse().unwrap_or(IpAddr::from([0; 4]))),
                    mtu: 1000,
                },
            ),
            3 => d.clear_path(tun_rip),
            4 => d.set_sysctls(Sysctls {
                expire_nodest_conn: true,
                ..Sysctls::default()
            }),
            5 => d.set_sysctls(Sysctls {
                sloppy_tcp: true,
                pmtu_disc: false,
                ..Sysctls::default()
            }),
            _ => {}
        }
    }
    let snap = match which {
        6 => cfg.del_dest(&nat, rip, 8080).ok().map(|()| cfg.snapshot()),
        7 => {
            let mut d = super::sample::sample_services()[0].1[1].clone();
            d.weight = 0;
            cfg.add_dest(&nat, d.clone())
                .or_else(|_| cfg.edit_dest(&nat, d).map(|()| 0))
                .ok()
                .map(|_| cfg.snapshot())
        }
        _ => None,
    };
    if let Some(s) = snap {
        for d in ds.iter_mut() {
            d.set_snapshot(s.clone());
        }
    }
}

/// Everything observable about a director, for comparison.
fn observe(d: &Director) -> String {
    let mut out = format!(
        "{:?}\n{:?}\n{}\n{}\n{:?}\n",
        d.drops(),
        d.global_stats(),
        d.icmp_sent(),
        d.conn_count(),
        d.table_stats()
    );
    for id in 0..8 {
        out += &format!(
            "svc {id} {:?}\ndest {id} {:?} {:?} {:?}\n",
            d.service_stats(id),
            d.dest_stats(id),
            d.dest_conns(id),
            d.dest_overloaded(id)
        );
    }
    let now = Instant::from_secs(10_000);
    let mut conns: Vec<String> = d
        .connections()
        .map(|c| {
            format!(
                "{} {} {} {} {:?} {:?} {} {} {}",
                c.protocol_name(),
                c.client(),
                c.virtual_addr(),
                c.dest_addr(),
                c.method(),
                c.state(),
                c.in_pkts(),
                c.timeout_ms(),
                c.expires_in_ms(now)
            )
        })
        .collect();
    conns.sort();
    out + &conns.join("\n")
}

/// Run a scenario through both directors; returns how many packets took the fast path.
fn run(steps: &[Step]) -> Result<u64, TestCaseError> {
    let mut cfg = sample_config();
    let mut ds = [sample_director(), sample_director()];
    ds[1].fast_path = false;
    let mut now = Instant::from_secs(1);
    for (n, step) in steps.iter().enumerate() {
        let (frame, start) = match step {
            Step::Client {
                client,
                cport,
                target,
                frame,
                headroom_small,
            } => {
                let (dst, dport, udp) = TARGETS[*target];
                let mut f = frame.clone();
                (f.src, f.sport) = (client_addr(*client), client_port(*cport));
                (f.dst, f.dport, f.udp) = (dst, dport, udp);
                (f.bytes(), if *headroom_small { 10 } else { HEADROOM })
            }
            Step::Reply {
                server,
                client,
                cport,
                frame,
            } => {
                let (src, sport, udp) = SERVERS[*server];
                let mut f = frame.clone();
                (f.src, f.sport, f.udp) = (src, sport, udp);
                (f.dst, f.dport) = (client_addr(*client), client_port(*cport));
                (f.bytes(), HEADROOM)
            }
            Step::Wait(secs) => {
                now = Instant::from_millis(now.as_millis() + u64::from(*secs) * 1000);
                for d in ds.iter_mut() {
                    d.tick(now);
                }
                continue;
            }
            Step::Change(which) => {
                change(*which, &mut cfg, &mut ds);
                continue;
            }
        };
        let mut bufs = [vec![0u8; HEADROOM + 2048], vec![0u8; HEADROOM + 2048]];
        let mut verdicts = Vec::new();
        for (d, buf) in ds.iter_mut().zip(bufs.iter_mut()) {
            buf[start..start + frame.len()].copy_from_slice(&frame);
            verdicts.push(d.process(buf, start, frame.len(), now));
        }
        prop_assert_eq!(verdicts[0], verdicts[1], "step {}: {:?}", n, step);
        prop_assert!(bufs[0] == bufs[1], "step {}: buffers differ: {:?}", n, step);
        prop_assert_eq!(observe(&ds[0]), observe(&ds[1]), "step {}", n);
    }
    prop_assert_eq!(ds[1].fast_hits, 0);
    Ok(ds[0].fast_hits)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fast_path_matches_general_path(steps in prop::collection::vec(step_strategy(), 1..80)) {
        run(&steps)?;
    }
}

/// A plain NAT flow: handshake, data both ways, so the fast path is certainly exercised
/// (and not just agreeing with the general path by never running).
#[test]
fn fast_path_runs_for_an_established_nat_flow() {
    let f = |src: [u8; 4], sport, dst: [u8; 4], dport, flags| Frame {
        src,
        sport,
        dst,
        dport,
        udp: false,
        flags,
        ttl: 64,
        df: true,
        payload: 24,
        vlan: false,
        ip_options: false,
        zero_udp_csum: false,
    };
    let client = [198, 51, 100, 100];
    let vip = [203, 0, 113, 10];
    let mut d = sample_director();
    let mut buf = vec![0u8; HEADROOM + 2048];
    let mut send = |d: &mut Director, fr: Frame| {
        let b = fr.bytes();
        buf[HEADROOM..HEADROOM + b.len()].copy_from_slice(&b);
        d.process(&mut buf, HEADROOM, b.len(), Instant::from_secs(1))
    };
    let Verdict::Forward {
        next_hop: IpAddr::V4(rip),
        ..
    } = send(&mut d, f(client, 40_000, vip, 80, 0x02))
    else {
        panic!("SYN not forwarded");
    };
    let Verdict::Forward { .. } = send(&mut d, f(rip.octets(), 8080, client, 40_000, 0x12)) else {
        panic!("SYN-ACK not forwarded");
    };
    // Both directions of the established flow, counted by the fast path.
    for _ in 0..3 {
        let v = send(&mut d, f(client, 40_000, vip, 80, 0x10));
        assert!(matches!(v, Verdict::Forward { next_hop, .. } if next_hop == IpAddr::V4(rip)));
        let v = send(&mut d, f(rip.octets(), 8080, client, 40_000, 0x10));
        assert!(matches!(v, Verdict::Forward { next_hop, .. } if next_hop == IpAddr::from(client)));
    }
    // The SYN-ACK too: replies have no SYN rule.
    assert_eq!(d.fast_hits, 7);
}

/// The generated scenarios do reach the fast path (else the comparison proves nothing).
#[test]
fn scenarios_exercise_the_fast_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut hits = 0;
    for _ in 0..32 {
        let steps = prop::collection::vec(step_strategy(), 40..80)
            .new_tree(&mut runner)
            .map(|t| t.current())
            .unwrap_or_default();
        hits += run(&steps).unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(hits >= 100, "only {hits} fast-path packets");
}

/// A NAT real server deleted while a connection still uses it: its replies are still
/// recognised (the reply-side filter keeps the addresses of lingering destinations).
#[test]
fn replies_from_a_deleted_nat_server_are_still_forwarded() {
    let f = |src: [u8; 4], sport, dst: [u8; 4], dport, flags| Frame {
        src,
        sport,
        dst,
        dport,
        udp: false,
        flags,
        ttl: 64,
        df: true,
        payload: 0,
        vlan: false,
        ip_options: false,
        zero_udp_csum: false,
    };
    let client = [198, 51, 100, 100];
    let vip = [203, 0, 113, 10];
    let mut cfg = sample_config();
    let mut d = sample_director();
    let mut buf = vec![0u8; HEADROOM + 2048];
    let mut send = |d: &mut Director, fr: Frame| {
        let b = fr.bytes();
        buf[HEADROOM..HEADROOM + b.len()].copy_from_slice(&b);
        d.process(&mut buf, HEADROOM, b.len(), Instant::from_secs(1))
    };
    let Verdict::Forward {
        next_hop: IpAddr::V4(rip),
        ..
    } = send(&mut d, f(client, 40_000, vip, 80, 0x02))
    else {
        panic!("SYN not forwarded");
    };
    let nat = ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: IpAddr::from(vip),
        port: 80,
    };
    assert!(cfg.del_dest(&nat, IpAddr::V4(rip), 8080).is_ok());
    d.set_snapshot(cfg.snapshot());
    let v = send(&mut d, f(rip.octets(), 8080, client, 40_000, 0x12));
    assert!(
        matches!(v, Verdict::Forward { next_hop, .. } if next_hop == IpAddr::from(client)),
        "{v:?}"
    );
}
