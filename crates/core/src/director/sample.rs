//! A sample configuration that exercises every path of the director (NAT, DR and TUN; IPv4,
//! IPv6 and mixed families; TCP, UDP, SCTP; persistence, a port-0 service), and a driver
//! that feeds it a byte string as a sequence of frames.
//!
//! The fuzz target (`fuzz/fuzz_targets/process.rs`), the corpus replay test and the
//! benchmarks share it, so the fuzzer explores exactly what `cargo test` replays.

use core::net::IpAddr;

use crate::Instant;
use crate::config::Config;
use crate::model::{
    DestConfig, ForwardMethod, Persistence, Protocol, SchedFlags, ServiceConfig, ServiceKey,
    TunnelType,
};
use crate::verdict::Verdict;

use super::{Director, DirectorOptions};

/// Headroom placed before every frame by [`run_frames`] (what AF_XDP gives).
pub const HEADROOM: usize = 256;

fn addr(s: &str) -> IpAddr {
    s.parse()
        .unwrap_or(IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED))
}

fn svc(
    protocol: Protocol,
    vip: &str,
    port: u16,
    scheduler: &str,
    persistence: Option<u32>,
) -> ServiceConfig {
    let v6 = vip.contains(':');
    ServiceConfig {
        key: ServiceKey::Addr {
            protocol,
            addr: addr(vip),
            port,
        },
        scheduler: scheduler.into(),
        sched_flags: SchedFlags::default(),
        persistence: persistence.map(|timeout| Persistence {
            timeout,
            netmask: if v6 { 128 } else { 24 },
        }),
        one_packet: false,
        pe_name: None,
    }
}

fn dest(rip: &str, port: u16, method: ForwardMethod) -> DestConfig {
    DestConfig {
        addr: addr(rip),
        port,
        method,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
        tun_type: TunnelType::Ipip,
        tun_port: 0,
        tun_flags: 0,
    }
}

/// The sample services: `(service, destinations)`.
///
/// | service | method | real servers |
/// |---|---|---|
/// | TCP 203.0.113.10:80 (wlc) | NAT | 198.51.100.20:8080, 198.51.100.21:8080 |
/// | UDP 203.0.113.10:53 (rr) | DR | 198.51.100.30 |
/// | SCTP 203.0.113.10:9 (rr) | NAT | 198.51.100.20:99 |
/// | TCP 203.0.113.11:443 (sh, persistent) | TUN | 198.51.100.40 |
/// | UDP 203.0.113.12:0 (wrr, persistent) | NAT | 198.51.100.50 |
/// | TCP 203.0.113.13:80 (rr) | TUN | 2001:db8:1::40 |
/// | TCP `[2001:db8::10]:80` (wlc) | NAT | `[2001:db8:1::20]:8080` |
/// | UDP `[2001:db8::10]:53` (rr) | TUN | 2001:db8:1::30 |
pub fn sample_services() -> Vec<(ServiceConfig, Vec<DestConfig>)> {
    use ForwardMethod::{Masq, Route, Tunnel};
    vec![
        (
            svc(Protocol::Tcp, "203.0.113.10", 80, "wlc", None),
            vec![
                dest("198.51.100.20", 8080, Masq),
                dest("198.51.100.21", 8080, Masq),
            ],
        ),
        (
            svc(Protocol::Udp, "203.0.113.10", 53, "rr", None),
            vec![dest("198.51.100.30", 0, Route)],
        ),
        (
            svc(Protocol::Sctp, "203.0.113.10", 9, "rr", None),
            vec![dest("198.51.100.20", 99, Masq)],
        ),
        (
            svc(Protocol::Tcp, "203.0.113.11", 443, "sh", Some(300)),
            vec![dest("198.51.100.40", 0, Tunnel)],
        ),
        (
            svc(Protocol::Udp, "203.0.113.12", 0, "wrr", Some(60)),
            vec![dest("198.51.100.50", 0, Masq)],
        ),
        (
            svc(Protocol::Tcp, "203.0.113.13", 80, "rr", None),
            vec![dest("2001:db8:1::40", 0, Tunnel)],
        ),
        (
            svc(Protocol::Tcp, "2001:db8::10", 80, "wlc", None),
            vec![dest("2001:db8:1::20", 8080, Masq)],
        ),
        (
            svc(Protocol::Udp, "2001:db8::10", 53, "rr", None),
            vec![dest("2001:db8:1::30", 0, Tunnel)],
        ),
    ]
}

/// The sample services in a [`Config`].
pub fn sample_config() -> Config {
    let mut c = Config::new();
    for (s, dests) in sample_services() {
        let key = s.key;
        if c.add_service(s).is_ok() {
            for d in dests {
                // The sample is valid; an error here would only shrink the sample.
                let _ = c.add_dest(&key, d);
            }
        }
    }
    c
}

/// A director with the sample configuration and local addresses of both families.
pub fn sample_director() -> Director {
    let mut d = Director::new(DirectorOptions {
        seed: 1,
        max_conns: 4096,
        ..DirectorOptions::default()
    });
    d.set_snapshot(sample_config().snapshot());
    d.set_local_address(addr("198.51.100.254"));
    d.set_local_address(addr("2001:db8:ffff::254"));
    d
}

/// Feed `data` to `director` as frames: each frame is a big-endian `u16` length followed by
/// that many bytes (a short last frame takes what is left). Time advances 250 ms per frame
/// and `tick` runs after each. Returns how many frames were forwarded.
pub fn run_frames(director: &mut Director, data: &[u8]) -> usize {
    let mut buf = vec![0u8; HEADROOM + 2048];
    let mut rest = data;
    let mut now = Instant::from_secs(1);
    let mut forwarded = 0;
    while let [a, b, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*a, *b]))
            .min(tail.len())
            .min(2048);
        let (frame, next) = tail.split_at(n);
        buf[..HEADROOM].fill(0);
        buf[HEADROOM..HEADROOM + n].copy_from_slice(frame);
        if let Verdict::Forward { start, len, .. } = director.process(&mut buf, HEADROOM, n, now) {
            debug_assert!(start + len <= buf.len());
            forwarded += 1;
        }
        now = Instant::from_millis(now.as_millis() + 250);
        director.tick(now);
        rest = next;
    }
    forwarded
}

/// Encode frames in the [`run_frames`] format.
pub fn encode_frames<'a>(frames: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        let n = f.len().min(usize::from(u16::MAX));
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&f[..n]);
    }
    out
}
