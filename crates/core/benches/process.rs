//! Per-packet cost of `Director::process`.
//!
//! * established flows, 10 000 and 1 000 000 live connections: NAT client → server, NAT
//!   server → client, DR, TUN. Each iteration copies one frame (78 bytes) from a ring of
//!   pre-built frames of distinct flows into the receive buffer, then processes it; the copy
//!   is included (a few ns), as a driver would pay it too.
//! * new connections through each of the 14 schedulers with 64 destinations: UDP with
//!   one-packet scheduling, so every datagram is scheduled, inserted and released (the
//!   table stays at a steady size).
//!
//! Run: `cargo bench -p rvs-core --bench process`.
//!
//! Instruction counts (stable on a loaded machine): set `RVS_PROCESS_COUNT` to one of
//! `nat_in`, `nat_out`, `dr`, `tun` (10 000 live connections; `…@1m` for 1 000 000) or
//! `new:<scheduler>` and run the bench binary under callgrind, collecting only inside the
//! measured calls:
//!
//! ```text
//! RVS_PROCESS_COUNT=nat_in valgrind --tool=callgrind --collect-atstart=no \
//!     --toggle-collect='*process_one*' target/release/deps/process-HASH
//! ```
//!
//! It processes [`COUNT_PACKETS`] packets (`RVS_PROCESS_N` to change); instructions per
//! packet = total Ir / that number. The same mode under `perf stat -e task-clock`, once with
//! `RVS_PROCESS_N=0` and once with many packets, gives CPU time per packet on a machine too
//! loaded for wall-clock benchmarks.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, criterion_group};
use rvs_core::config::Config;
use rvs_core::director::{Director, DirectorOptions};
use rvs_core::model::{
    DestConfig, ForwardMethod, Protocol, SchedFlags, ServiceConfig, ServiceKey, TunnelType,
};
use rvs_core::{Instant, Verdict};
use rvs_wire::checksum;

const HEADROOM: usize = 256;

fn svc(
    protocol: Protocol,
    vip: [u8; 4],
    port: u16,
    sched: &str,
    one_packet: bool,
) -> ServiceConfig {
    ServiceConfig {
        key: ServiceKey::Addr {
            protocol,
            addr: IpAddr::from(vip),
            port,
        },
        scheduler: sched.into(),
        sched_flags: SchedFlags::default(),
        persistence: None,
        one_packet,
        pe_name: None,
    }
}

fn dest(rip: u32, port: u16, method: ForwardMethod, weight: i32) -> DestConfig {
    DestConfig {
        addr: IpAddr::V4(Ipv4Addr::from(rip)),
        port,
        method,
        weight,
        u_threshold: 0,
        l_threshold: 0,
        tun_type: TunnelType::Ipip,
        tun_port: 0,
        tun_flags: 0,
    }
}

/// An Ethernet + IPv4 + TCP (ACK, 24 bytes of data) or UDP frame with valid checksums.
fn frame(src: u32, sport: u16, dst: u32, dport: u16, tcp: bool) -> Vec<u8> {
    let payload = [0x61u8; 24];
    let l4len = if tcp { 20 } else { 8 } + payload.len();
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0];
    let mut ip = vec![
        0x45,
        0,
        0,
        0,
        0,
        1,
        0x40,
        0,
        64,
        if tcp { 6 } else { 17 },
        0,
        0,
    ];
    ip[2..4].copy_from_slice(&((20 + l4len) as u16).to_be_bytes());
    ip.extend_from_slice(&src.to_be_bytes());
    ip.extend_from_slice(&dst.to_be_bytes());
    let c = checksum::finish(checksum::data(&ip));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut l4 = vec![0u8; l4len - payload.len()];
    l4[0..2].copy_from_slice(&sport.to_be_bytes());
    l4[2..4].copy_from_slice(&dport.to_be_bytes());
    if tcp {
        l4[12] = 0x50;
        l4[13] = 0x10;
    } else {
        l4[4..6].copy_from_slice(&(l4len as u16).to_be_bytes());
    }
    l4.extend_from_slice(&payload);
    let (s, d) = (
        IpAddr::from(src.to_be_bytes()),
        IpAddr::from(dst.to_be_bytes()),
    );
    let c = checksum::finish(checksum::combine(&[
        checksum::pseudo_header(&s, &d, if tcp { 6 } else { 17 }, l4len as u32),
        checksum::data(&l4),
    ]));
    l4[if tcp { 16 } else { 6 }..][..2].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&l4);
    f
}

fn with_syn(f: &[u8]) -> Vec<u8> {
    let mut g = f.to_vec();
    // ACK → SYN: patch flags and the TCP checksum word (offsets 14+20+12..14).
    let old = u16::from_be_bytes([g[46], g[47]]);
    g[47] = 0x02;
    let new = u16::from_be_bytes([g[46], g[47]]);
    let c = checksum::update_u16(u16::from_be_bytes([g[50], g[51]]), old, new);
    g[50..52].copy_from_slice(&c.to_be_bytes());
    g
}

const VIP_NAT: u32 = 0xCB00_710A; // 203.0.113.10
const VIP_DR: u32 = 0xCB00_710B;
const VIP_TUN: u32 = 0xCB00_710C;
const RIP: u32 = 0xC633_6414; // 198.51.100.20

struct Setup {
    director: Director,
    nat_in: Vec<Vec<u8>>,
    nat_out: Vec<Vec<u8>>,
    dr: Vec<Vec<u8>>,
    tun: Vec<Vec<u8>>,
}

/// A director with NAT, DR and TUN services (4 real servers each) and `n` established
/// connections spread over the three, plus the frames of up to 10 000 of each kind.
fn setup(n: usize) -> Setup {
    let mut c = Config::new();
    for (vip, m, port) in [
        (VIP_NAT, ForwardMethod::Masq, 8080),
        (VIP_DR, ForwardMethod::Route, 0),
        (VIP_TUN, ForwardMethod::Tunnel, 0),
    ] {
        let s = svc(Protocol::Tcp, vip.to_be_bytes(), 80, "rr", false);
        let k = s.key;
        c.add_service(s).unwrap();
        for i in 0..4 {
            c.add_dest(&k, dest(RIP + i + (vip - VIP_NAT) * 16, port, m, 1))
                .unwrap();
        }
    }
    let mut d = Director::new(DirectorOptions {
        seed: 3,
        max_conns: n * 2 + 1024,
        ..Default::default()
    });
    d.set_snapshot(c.snapshot());
    d.set_local_address("198.51.100.254".parse().unwrap());
    let mut buf = vec![0u8; HEADROOM + 256];
    let (mut nat_in, mut nat_out, mut dr, mut tun) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let now = Instant::from_secs(1);
    for i in 0..n {
        let client = 0x0A00_0000 + (i as u32 / 50_000);
        let cport = 10_000 + (i % 50_000) as u16;
        let vip = [VIP_NAT, VIP_DR, VIP_TUN][i % 3];
        let est = frame(client, cport, vip, 80, true);
        let syn = with_syn(&est);
        buf[HEADROOM..HEADROOM + syn.len()].copy_from_slice(&syn);
        let v = d.process(&mut buf, HEADROOM, syn.len(), now);
        let Verdict::Forward { next_hop, .. } = v else {
            panic!("setup: {v:?}")
        };
        let keep = |v: &Vec<Vec<u8>>| v.len() < 10_000;
        match i % 3 {
            0 if keep(&nat_in) => {
                let IpAddr::V4(rip) = next_hop else {
                    unreachable!()
                };
                nat_out.push(frame(u32::from(rip), 8080, client, cport, true));
                nat_in.push(est);
            }
            1 if keep(&dr) => dr.push(est),
            2 if keep(&tun) => tun.push(est),
            _ => {}
        }
    }
    Setup {
        director: d,
        nat_in,
        nat_out,
        dr,
        tun,
    }
}

fn bench_established(c: &mut Criterion, n: usize, label: &str) {
    let mut s = setup(n);
    let mut g = c.benchmark_group(format!("established/{label}"));
    let mut buf = vec![0u8; HEADROOM + 256];
    let now = Instant::from_secs(2);
    for (name, frames) in [
        ("nat_in", &s.nat_in),
        ("nat_out", &s.nat_out),
        ("dr", &s.dr),
        ("tun", &s.tun),
    ] {
        let mut i = 0;
        let d = &mut s.director;
        g.bench_function(name, |b| {
            b.iter(|| {
                let f = &frames[i];
                i = if i + 1 == frames.len() { 0 } else { i + 1 };
                buf[HEADROOM..HEADROOM + f.len()].copy_from_slice(f);
                let v = d.process(&mut buf, HEADROOM, f.len(), now);
                debug_assert!(matches!(v, Verdict::Forward { .. }));
                black_box(v)
            })
        });
    }
    g.finish();
}

fn established_10k(c: &mut Criterion) {
    bench_established(c, 10_000, "10k");
}

fn established_1m(c: &mut Criterion) {
    bench_established(c, 1_000_000, "1m");
}

/// A UDP one-packet service with 64 NAT destinations scheduled by `sched`, and 4096 frames
/// of distinct clients.
fn new_conn_setup(sched: &str) -> (Director, Vec<Vec<u8>>) {
    let mut cfg = Config::new();
    let s = svc(Protocol::Udp, VIP_NAT.to_be_bytes(), 53, sched, true);
    let k = s.key;
    cfg.add_service(s).unwrap();
    for i in 0..64u32 {
        cfg.add_dest(
            &k,
            dest(RIP + i, 5353, ForwardMethod::Masq, 1 + (i % 5) as i32),
        )
        .unwrap();
    }
    let mut d = Director::new(DirectorOptions {
        seed: 9,
        max_conns: 1 << 16,
        ..Default::default()
    });
    d.set_snapshot(cfg.snapshot());
    let frames: Vec<Vec<u8>> = (0..4096u32)
        .map(|i| frame(0x0A00_0000 + i * 7, 1024 + i as u16, VIP_NAT, 53, false))
        .collect();
    (d, frames)
}

fn new_connection(c: &mut Criterion) {
    let mut g = c.benchmark_group("new_conn_64_dests");
    let mut buf = vec![0u8; HEADROOM + 256];
    for name in rvs_core::sched::NAMES {
        let (mut d, frames) = new_conn_setup(name);
        let now = Instant::from_secs(1);
        let mut i = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                let f = &frames[i];
                i = (i + 1) & 4095;
                buf[HEADROOM..HEADROOM + f.len()].copy_from_slice(f);
                let v = d.process(&mut buf, HEADROOM, f.len(), now);
                debug_assert!(matches!(v, Verdict::Forward { .. }));
                black_box(v)
            })
        });
    }
    g.finish();
}

/// Packets processed in `RVS_PROCESS_COUNT` mode.
const COUNT_PACKETS: usize = 100_000;

/// The measured call, kept out of line so callgrind can collect exactly it.
#[inline(never)]
fn process_one(d: &mut Director, buf: &mut [u8], len: usize, now: Instant) -> Verdict {
    d.process(buf, HEADROOM, len, now)
}

/// `RVS_PROCESS_COUNT` mode: process [`COUNT_PACKETS`] packets of one kind, no timing.
fn count_mode(what: &str) {
    let mut buf = vec![0u8; HEADROOM + 256];
    let (mut d, frames, now) = if let Some(sched) = what.strip_prefix("new:") {
        let (d, frames) = new_conn_setup(sched);
        (d, frames, Instant::from_secs(1))
    } else {
        let (kind, n) = match what.split_once('@') {
            Some((k, "1m")) => (k, 1_000_000),
            _ => (what, 10_000),
        };
        let s = setup(n);
        let frames = match kind {
            "nat_in" => s.nat_in,
            "nat_out" => s.nat_out,
            "dr" => s.dr,
            "tun" => s.tun,
            _ => panic!("RVS_PROCESS_COUNT: unknown kind {kind}"),
        };
        (s.director, frames, Instant::from_secs(2))
    };
    let n = std::env::var("RVS_PROCESS_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(COUNT_PACKETS);
    let mut forwarded = 0usize;
    for i in 0..n {
        let f = &frames[i % frames.len()];
        buf[HEADROOM..HEADROOM + f.len()].copy_from_slice(f);
        let v = process_one(&mut d, &mut buf, f.len(), now);
        forwarded += usize::from(matches!(v, Verdict::Forward { .. }));
    }
    assert_eq!(forwarded, n, "every packet must be forwarded");
    println!("{what}: {n} packets");
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(2)).warm_up_time(std::time::Duration::from_millis(500));
    targets = established_10k, established_1m, new_connection
}
fn main() {
    if let Ok(what) = std::env::var("RVS_PROCESS_COUNT") {
        count_mode(&what);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
