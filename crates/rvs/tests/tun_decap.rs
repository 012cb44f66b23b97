//! Root tests of the real server's tunnel decapsulation (`rvs realserver tun`, XDP here since
//! the kernel has no ipip) inside a TUN lab: a tunnelled SYN to the VIP, crafted in the
//! director's namespace, is answered by the real server from the VIP straight to the client.

mod support;

use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::socket::{SockaddrStorage, recvfrom};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use support::{Lab, RVS, in_netns, ip_packet, ns_exec, root_or_skip, tcp_syn, unique_name};

const VIP_PORT: u16 = 40001;
const RIP_PORT: u16 = 40002;

/// A TCP segment seen by the client: (source, source port, destination port, flags).
type Seen = (IpAddr, u16, u16, u8);

/// Captures TCP arriving at the client until a SYN/ACK from `vip:80` to VIP_PORT shows up
/// (plus a short drain), or a bounded deadline passes.
fn capture(
    client_ns: &str,
    vip: IpAddr,
    ready: mpsc::Sender<()>,
) -> std::thread::JoinHandle<Vec<Seen>> {
    let ns = client_ns.to_string();
    std::thread::spawn(move || {
        in_netns(&ns, move || {
            let domain = if vip.is_ipv4() {
                Domain::IPV4
            } else {
                Domain::IPV6
            };
            let socket = Socket::new(domain, Type::RAW, Some(Protocol::TCP)).expect("raw socket");
            socket
                .set_read_timeout(Some(Duration::from_millis(100)))
                .expect("timeout");
            ready.send(()).expect("signal");
            let mut seen = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut drain_until: Option<Instant> = None;
            while Instant::now() < drain_until.unwrap_or(deadline) {
                let mut buf = [0u8; 1500];
                let Ok((n, from)) = recvfrom::<SockaddrStorage>(socket.as_raw_fd(), &mut buf)
                else {
                    continue;
                };
                let bytes = &buf[..n];
                let (src, tcp) = if vip.is_ipv4() {
                    let ihl = usize::from(bytes[0] & 0x0f) * 4;
                    (
                        IpAddr::from([bytes[12], bytes[13], bytes[14], bytes[15]]),
                        &bytes[ihl..],
                    )
                } else {
                    let from = from
                        .and_then(|f| f.as_sockaddr_in6().map(|a| a.ip()))
                        .expect("v6 source");
                    (IpAddr::V6(from), bytes)
                };
                if tcp.len() < 14 {
                    continue;
                }
                let entry = (
                    src,
                    u16::from_be_bytes([tcp[0], tcp[1]]),
                    u16::from_be_bytes([tcp[2], tcp[3]]),
                    tcp[13],
                );
                if entry.0 == vip && entry.2 == VIP_PORT && drain_until.is_none() {
                    drain_until = Some(Instant::now() + Duration::from_millis(300));
                }
                seen.push(entry);
            }
            seen
        })
    })
}

/// Sends from the director: first a tunnelled SYN to the real server's own address (not a
/// VIP: must not be decapsulated), then one to the VIP.
fn send_tunnelled(director_ns: &str, client: IpAddr, vip: IpAddr, rip: IpAddr) {
    in_netns(director_ns, move || {
        let (domain, proto) = if rip.is_ipv4() {
            (Domain::IPV4, 4)
        } else {
            (Domain::IPV6, 41)
        };
        let socket =
            Socket::new(domain, Type::RAW, Some(Protocol::from(proto))).expect("raw socket");
        let to = SockAddr::from(SocketAddr::new(rip, 0));
        for (dst, port) in [(rip, RIP_PORT), (vip, VIP_PORT)] {
            let inner = ip_packet(client, dst, &tcp_syn(client, dst, port, 80));
            socket.send_to(&inner, &to).expect("send tunnelled packet");
        }
    });
}

fn check_decap(ipv6: bool) {
    let lab = Lab::up(
        "tun",
        &unique_name(if ipv6 { "d6" } else { "d4" }),
        &["--ipv6"],
    );
    let a = &lab.info.addresses;
    let pick = |d: &rvs::lab::info::DualAddr| -> IpAddr {
        if ipv6 {
            IpAddr::V6(d.v6.expect("v6"))
        } else {
            IpAddr::V4(d.v4)
        }
    };
    let (client, vip, rip) = (pick(&a.client), pick(&a.vip), pick(&a.rs1));
    let (tx, rx) = mpsc::channel();
    let capturing = capture(&lab.info.namespaces.client, vip, tx);
    rx.recv().expect("capture ready");
    send_tunnelled(&lab.info.namespaces.director, client, vip, rip);
    let seen = capturing.join().expect("capture thread");
    assert!(
        seen.iter().any(|&(src, sport, dport, flags)| src == vip
            && sport == 80
            && dport == VIP_PORT
            && flags & 0x12 == 0x12),
        "no SYN/ACK from the VIP reached the client: {seen:?}"
    );
    assert!(
        !seen.iter().any(|s| s.2 == RIP_PORT),
        "a packet for a non-VIP was decapsulated: {seen:?}"
    );
}

#[test]
fn xdp_decap_delivers_ipip_to_the_vip_only() {
    if root_or_skip("xdp_decap_delivers_ipip_to_the_vip_only") {
        check_decap(false);
    }
}

#[test]
fn xdp_decap_delivers_ip6ip6_to_the_vip_only() {
    if root_or_skip("xdp_decap_delivers_ip6ip6_to_the_vip_only") {
        check_decap(true);
    }
}

fn xdp_prog(ns: &str) -> Option<u64> {
    let out = ns_exec(ns, &["ip", "-j", "-d", "link", "show", "eth0"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ip -j");
    json[0]["xdp"]["prog"]["id"].as_u64()
}

fn sysctl(ns: &str, key: &str) -> String {
    String::from_utf8_lossy(&ns_exec(ns, &["sysctl", "-n", key]).stdout)
        .trim()
        .to_string()
}

#[test]
fn realserver_tun_is_idempotent_and_undo_restores_the_host() {
    if !root_or_skip("realserver_tun_is_idempotent_and_undo_restores_the_host") {
        return;
    }
    let lab = Lab::up("tun", &unique_name("undo"), &["--ipv6"]);
    let ns = lab.info.namespaces.rs1.clone();
    let v4 = lab.info.addresses.vip.v4.to_string();
    let v6 = lab.info.addresses.vip.v6.expect("v6").to_string();
    let first = xdp_prog(&ns).expect("lab up attached tun_decap");
    let again = ns_exec(&ns, &[RVS, "realserver", "tun", "--vip", &v4]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        xdp_prog(&ns),
        Some(first),
        "a second set-up reuses the attached program"
    );

    // Removing one VIP keeps the program for the other; removing both detaches it.
    let out = ns_exec(&ns, &[RVS, "realserver", "tun", "--vip", &v4, "--undo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(xdp_prog(&ns), Some(first));
    let out = ns_exec(&ns, &[RVS, "realserver", "tun", "--vip", &v6, "--undo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(xdp_prog(&ns), None, "program detached once no VIP is left");
    let lo =
        String::from_utf8_lossy(&ns_exec(&ns, &["ip", "addr", "show", "lo"]).stdout).into_owned();
    assert!(!lo.contains(&v4) && !lo.contains(&v6), "{lo}");
    assert_eq!(sysctl(&ns, "net.ipv4.conf.all.arp_ignore"), "0");
    assert_eq!(sysctl(&ns, "net.ipv4.conf.all.arp_announce"), "0");

    // A typo in the interface changes nothing.
    let out = ns_exec(
        &ns,
        &[
            RVS,
            "realserver",
            "tun",
            "--vip",
            &v4,
            "--interface",
            "nope0",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope0"));
    let lo =
        String::from_utf8_lossy(&ns_exec(&ns, &["ip", "addr", "show", "lo"]).stdout).into_owned();
    assert!(!lo.contains(&v4), "{lo}");
}

#[test]
fn realserver_dr_sets_and_undoes_vip_and_arp() {
    if !root_or_skip("realserver_dr_sets_and_undoes_vip_and_arp") {
        return;
    }
    let lab = Lab::up("nat", &unique_name("rsdr"), &[]);
    let ns = lab.info.namespaces.rs2.clone();
    let vip = "203.0.113.77";
    // The host's own choice before the set-up comes back with --undo.
    ns_exec(&ns, &["sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=2"]);
    ns_exec(&ns, &["sysctl", "-qw", "net.ipv4.conf.all.arp_announce=1"]);
    let out = ns_exec(&ns, &[RVS, "realserver", "dr", "--vip", vip]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lo =
        String::from_utf8_lossy(&ns_exec(&ns, &["ip", "addr", "show", "lo"]).stdout).into_owned();
    assert!(lo.contains(&format!("inet {vip}/32")), "{lo}");
    assert_eq!(sysctl(&ns, "net.ipv4.conf.all.arp_ignore"), "1");
    assert_eq!(sysctl(&ns, "net.ipv4.conf.lo.arp_announce"), "2");
    let out = ns_exec(&ns, &[RVS, "realserver", "dr", "--vip", vip, "--undo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lo =
        String::from_utf8_lossy(&ns_exec(&ns, &["ip", "addr", "show", "lo"]).stdout).into_owned();
    assert!(!lo.contains(vip), "{lo}");
    assert_eq!(sysctl(&ns, "net.ipv4.conf.all.arp_ignore"), "2");
    assert_eq!(sysctl(&ns, "net.ipv4.conf.all.arp_announce"), "1");
    assert_eq!(sysctl(&ns, "net.ipv4.conf.lo.arp_ignore"), "0");
}
