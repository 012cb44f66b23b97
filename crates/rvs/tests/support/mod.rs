//! Shared helpers of the root tests: the root gate, a lab guard that always runs `lab down`,
//! running code inside a lab namespace, and small HTTP/UDP clients.
#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::process::{Command, Output};
use std::time::Duration;

use rvs::lab::LabInfo;
// Not every test binary uses each of these.
#[allow(unused_imports)]
pub use rvs_testkit::{in_netns, ns_exec, root_or_skip};

/// The binary under test.
pub const RVS: &str = env!("CARGO_BIN_EXE_rvs");

/// A lab name unique to this test process and call: `t<pid><tag><n>`.
pub fn unique_name(tag: &str) -> String {
    rvs_testkit::unique_name("t", tag)
}

/// Runs `rvs ARGS`.
pub fn rvs(args: &[&str]) -> Output {
    Command::new(RVS).args(args).output().expect("run rvs")
}

/// A lab that is removed (`rvs lab down`) when dropped, also on panic.
pub struct Lab {
    /// What `lab up` printed.
    pub info: LabInfo,
}

impl Lab {
    /// `rvs lab up TOPOLOGY --name NAME EXTRA...`; panics with stderr on failure.
    pub fn up(topology: &str, name: &str, extra: &[&str]) -> Lab {
        let mut args = vec!["lab", "up", topology, "--name", name];
        args.extend_from_slice(extra);
        let out = rvs(&args);
        // Guard first, so a half-built lab is removed even if the checks below fail.
        let guard = Downer(name.to_string());
        assert!(
            out.status.success(),
            "lab up {topology} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let info: LabInfo = serde_json::from_slice(&out.stdout).expect("lab up prints JSON");
        std::mem::forget(guard);
        Lab { info }
    }

    /// The PIDs of the built-in servers as recorded in the state directory.
    pub fn server_pids(&self) -> Vec<i32> {
        ["rs1", "rs2"]
            .iter()
            .filter_map(|s| fs::read_to_string(format!("{}/{s}.pid", self.info.state_dir)).ok())
            .filter_map(|t| t.trim().parse().ok())
            .collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        drop(Downer(self.info.name.clone()));
    }
}

/// Runs `lab down --name NAME --kill-all` on drop.
pub struct Downer(pub String);

impl Drop for Downer {
    fn drop(&mut self) {
        let out = rvs(&["lab", "down", "--name", &self.0, "--kill-all"]);
        if !out.status.success() {
            eprintln!(
                "lab down {}: {}",
                self.0,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Whether a named namespace exists.
pub fn netns_exists(name: &str) -> bool {
    std::path::Path::new("/run/netns").join(name).exists()
}

/// Whether a process is alive (zombies count as gone).
pub fn alive(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next())
            .is_some_and(|st| st != "Z" && st != "X")
    })
}

/// `GET path` with `Connection: close` from namespace `ns`: (header block, body).
pub fn http_get(ns: &str, addr: IpAddr, path: &str) -> (String, String) {
    let path = path.to_string();
    in_netns(ns, move || {
        let mut s = TcpStream::connect_timeout(&SocketAddr::new(addr, 80), Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut text = String::new();
        s.read_to_string(&mut text).expect("read response");
        let (head, body) = text.split_once("\r\n\r\n").expect("response has a head");
        (head.to_string(), body.to_string())
    })
}

/// Sends a datagram to `addr:7` from `ns` and returns the answer (a few tries, bounded).
pub fn udp_echo(ns: &str, addr: IpAddr) -> String {
    in_netns(ns, move || {
        let bind: SocketAddr = if addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        }
        .parse()
        .expect("addr");
        let socket = UdpSocket::bind(bind).expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let mut buf = [0u8; 256];
        for _ in 0..3 {
            socket.send_to(b"ping", (addr, 7)).expect("send");
            if let Ok((n, from)) = socket.recv_from(&mut buf) {
                assert_eq!(from.ip(), addr, "answer from the address asked");
                return String::from_utf8_lossy(&buf[..n]).into_owned();
            }
        }
        panic!("no UDP answer from {addr}");
    })
}

/// The Internet checksum of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// A TCP SYN segment (no options) from `src:sport` to `dst:dport` with a valid checksum.
pub fn tcp_syn(src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> Vec<u8> {
    let mut tcp = Vec::with_capacity(20);
    tcp.extend_from_slice(&sport.to_be_bytes());
    tcp.extend_from_slice(&dport.to_be_bytes());
    tcp.extend_from_slice(&1000u32.to_be_bytes());
    tcp.extend_from_slice(&0u32.to_be_bytes());
    tcp.extend_from_slice(&[5 << 4, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
    let mut pseudo = Vec::new();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&[0, 6, 0, 20]);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&[0, 0, 0, 20, 0, 0, 0, 6]);
        }
        _ => panic!("mixed families"),
    }
    pseudo.extend_from_slice(&tcp);
    let sum = checksum(&pseudo);
    tcp[16..18].copy_from_slice(&sum.to_be_bytes());
    tcp
}

/// A whole IP packet (IPv4 or IPv6 header + `tcp`) from `src` to `dst`.
pub fn ip_packet(src: IpAddr, dst: IpAddr, tcp: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let len = (20 + tcp.len()) as u16;
            p.extend_from_slice(&[0x45, 0]);
            p.extend_from_slice(&len.to_be_bytes());
            p.extend_from_slice(&[0, 1, 0, 0, 64, 6, 0, 0]);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            let sum = checksum(&p);
            p[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            p.extend_from_slice(&[0x60, 0, 0, 0]);
            p.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
            p.extend_from_slice(&[6, 64]);
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
        }
        _ => panic!("mixed families"),
    }
    p.extend_from_slice(tcp);
    p
}
