//! Root tests of `rvs lab`: each builds its own uniquely named lab and removes it (guard).
//!
//! Run as root: `cargo test -p rvs --test lab`. They skip when not root unless CI=true or
//! RVS_REQUIRE_ROOT_TESTS=1.

mod support;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use rvs::lab::LabInfo;
use rvs::lab::info::DualAddr;
use support::{
    Downer, Lab, alive, http_get, in_netns, netns_exists, ns_exec, root_or_skip, rvs, udp_echo,
    unique_name,
};

fn families(a: &DualAddr) -> Vec<IpAddr> {
    let mut v = vec![IpAddr::V4(a.v4)];
    v.extend(a.v6.map(IpAddr::V6));
    v
}

/// The namespace the real servers are probed from: on their LAN, not through the director.
fn probe_ns(info: &LabInfo) -> String {
    info.namespaces
        .router
        .clone()
        .unwrap_or_else(|| info.namespaces.director.clone())
}

fn all_namespaces(info: &LabInfo) -> Vec<String> {
    let n = &info.namespaces;
    let mut v = vec![
        n.client.clone(),
        n.director.clone(),
        n.lan.clone(),
        n.rs1.clone(),
        n.rs2.clone(),
    ];
    v.extend(n.router.clone());
    v.extend(n.director2.clone());
    v
}

fn ip_out(args: &[&str]) -> String {
    let out = std::process::Command::new("ip")
        .args(args)
        .output()
        .expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds a lab, checks everything the issue promises, removes it and checks it is gone.
fn check_lab(topology: &str, ipv6: bool) {
    let name = unique_name(topology);
    let extra: &[&str] = if ipv6 { &["--ipv6"] } else { &[] };
    let lab = Lab::up(topology, &name, extra);
    let info = lab.info.clone();

    assert_eq!(info.name, name);
    assert_eq!(info.topology.as_str(), topology);
    assert_eq!(info.namespaces.router.is_some(), topology != "nat");
    assert_eq!(info.namespaces.director2.is_some(), topology == "ha");
    assert_eq!(info.interfaces.director2.is_some(), topology == "ha");
    for addr in [
        &info.addresses.client,
        &info.addresses.vip,
        &info.addresses.dip,
        &info.addresses.rs1,
        &info.addresses.rs2,
    ] {
        assert_eq!(addr.v6.is_some(), ipv6, "{addr:?}");
    }
    let namespaces = all_namespaces(&info);
    for ns in &namespaces {
        assert!(netns_exists(ns), "namespace {ns} missing");
        assert!(ns.starts_with(&format!("{name}-")), "{ns}");
    }
    let expected_ifs: &[&str] = if topology == "nat" {
        &["eth0", "eth1"]
    } else {
        &["eth0"]
    };
    assert_eq!(info.interfaces.director, expected_ifs);
    for dev in &info.interfaces.director {
        ip_out(&["-n", &info.namespaces.director, "link", "show", dev]);
    }

    // Each real server answers HTTP and UDP with its name, in every configured family.
    let probe = probe_ns(&info);
    for (rs, addr) in [("rs1", &info.addresses.rs1), ("rs2", &info.addresses.rs2)] {
        for ip in families(addr) {
            let (head, body) = http_get(&probe, ip, "/");
            assert_eq!(body, format!("{rs}\n"), "HTTP body of {rs} at {ip}");
            assert!(head.contains(&format!("\r\nX-Server: {rs}")), "{head}");
            let (_, whoami) = http_get(&probe, ip, "/whoami");
            let peer: SocketAddr = whoami.trim().parse().expect("whoami is ip:port");
            if topology == "nat" {
                let dip = if ip.is_ipv4() {
                    IpAddr::V4(info.addresses.dip.v4)
                } else {
                    info.addresses.dip.v6.map(IpAddr::V6).expect("v6 dip")
                };
                assert_eq!(peer.ip(), dip, "the real server sees the director's DIP");
            }
            assert_eq!(
                udp_echo(&probe, ip),
                format!("{rs}\n"),
                "UDP answer of {rs} at {ip}"
            );
        }
    }

    // No route out: nothing connects the lab to the host, and only the real servers have a
    // default route, which ends at a gateway inside the lab.
    let root_links = ip_out(&["-o", "link", "show"]);
    assert!(
        !root_links.contains(&format!("link-netns {name}-")),
        "{root_links}"
    );
    let mut gateways = vec![
        info.namespaces.client.clone(),
        info.namespaces.director.clone(),
    ];
    gateways.extend(info.namespaces.router.clone());
    gateways.extend(info.namespaces.director2.clone());
    for ns in &gateways {
        let out = ns_exec(ns, &["ip", "route", "get", "8.8.8.8"]);
        assert!(
            !out.status.success(),
            "{ns} has a route out: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let out = ns_exec(ns, &["ip", "-6", "route", "get", "2001:4860:4860::8888"]);
        assert!(!out.status.success(), "{ns} has an IPv6 route out");
    }
    for ns in [&info.namespaces.rs1, &info.namespaces.rs2] {
        let out = ns_exec(ns, &["ip", "route", "get", "8.8.8.8"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("via 198.51.100."),
            "{ns}: default route leaves the lab: {text}"
        );
    }

    // Down removes namespaces, servers and state.
    let pids = lab.server_pids();
    assert_eq!(pids.len(), 2, "two servers recorded");
    assert!(pids.iter().all(|&p| alive(p)));
    let state_dir = info.state_dir.clone();
    drop(lab);
    for ns in &namespaces {
        assert!(!netns_exists(ns), "{ns} left behind");
    }
    for pid in pids {
        assert!(!alive(pid), "server {pid} left running");
    }
    assert!(
        !std::path::Path::new(&state_dir).exists(),
        "{state_dir} left behind"
    );
}

#[test]
fn nat_lab_v4() {
    if root_or_skip("nat_lab_v4") {
        check_lab("nat", false);
    }
}

#[test]
fn nat_lab_v6() {
    if root_or_skip("nat_lab_v6") {
        check_lab("nat", true);
    }
}

#[test]
fn dr_lab_v4() {
    if root_or_skip("dr_lab_v4") {
        check_lab("dr", false);
    }
}

#[test]
fn dr_lab_v6() {
    if root_or_skip("dr_lab_v6") {
        check_lab("dr", true);
    }
}

#[test]
fn tun_lab_v4() {
    if root_or_skip("tun_lab_v4") {
        check_lab("tun", false);
    }
}

#[test]
fn tun_lab_v6() {
    if root_or_skip("tun_lab_v6") {
        check_lab("tun", true);
    }
}

#[test]
fn ha_lab() {
    if root_or_skip("ha_lab") {
        check_lab("ha", true);
    }
}

fn mac_of(ns: &str, dev: &str) -> String {
    let json: serde_json::Value =
        serde_json::from_str(&ip_out(&["-n", ns, "-j", "link", "show", dev])).expect("ip -j");
    json[0]["address"].as_str().expect("mac").to_string()
}

/// The router resolves `vip` with ARP (a datagram triggers it) and returns the MAC, if any.
fn resolve_from_router(info: &LabInfo, vip: IpAddr) -> Option<String> {
    let router = info.namespaces.router.clone().expect("router");
    in_netns(&router, move || {
        let socket = std::net::UdpSocket::bind("0.0.0.0:0").expect("bind");
        let _ = socket.send_to(b"arp", (vip, 9));
    });
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let out = ip_out(&["-n", &router, "-j", "neigh", "show", &vip.to_string()]);
        let json: serde_json::Value = serde_json::from_str(&out).expect("ip -j neigh");
        if let Some(mac) = json[0]["lladdr"].as_str() {
            return Some(mac.to_string());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn dr_lab_vip_is_on_the_director_and_hidden_on_the_real_servers() {
    if !root_or_skip("dr_lab_vip_is_on_the_director_and_hidden_on_the_real_servers") {
        return;
    }
    let lab = Lab::up("dr", &unique_name("vip"), &[]);
    let info = &lab.info;
    let vip = info.addresses.vip.v4.to_string();
    let director = ip_out(&["-n", &info.namespaces.director, "addr", "show", "eth0"]);
    assert!(
        director.contains(&format!("inet {vip}/32")) && director.contains("eth0:0"),
        "{director}"
    );
    for ns in [&info.namespaces.rs1, &info.namespaces.rs2] {
        let lo = ip_out(&["-n", ns, "addr", "show", "lo"]);
        assert!(lo.contains(&format!("inet {vip}/32")), "{ns}: {lo}");
        let arp = ns_exec(
            ns,
            &[
                "sysctl",
                "-n",
                "net.ipv4.conf.all.arp_ignore",
                "net.ipv4.conf.all.arp_announce",
            ],
        );
        assert_eq!(
            String::from_utf8_lossy(&arp.stdout)
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["1", "2"]
        );
    }
    let mac = resolve_from_router(info, IpAddr::V4(info.addresses.vip.v4));
    assert_eq!(
        mac,
        Some(mac_of(&info.namespaces.director, "eth0")),
        "only the director answers ARP for the VIP"
    );
}

#[test]
fn ha_lab_neither_director_holds_the_vip() {
    if !root_or_skip("ha_lab_neither_director_holds_the_vip") {
        return;
    }
    let lab = Lab::up("ha", &unique_name("havip"), &["--ipv6"]);
    let info = &lab.info;
    let director2 = info.namespaces.director2.clone().expect("director2");
    assert_eq!(
        info.interfaces.director2.as_deref(),
        Some(&["eth0".to_string()][..])
    );
    let d2 = info.addresses.director2.expect("director2 address");
    for (ns, own) in [
        (&info.namespaces.director, info.addresses.dip),
        (&director2, d2),
    ] {
        let addrs = ip_out(&["-n", ns, "addr", "show", "eth0"]);
        assert!(addrs.contains(&format!("inet {}/24", own.v4)), "{addrs}");
        assert!(
            !addrs.contains(&format!("inet {}/", info.addresses.vip.v4)),
            "{ns} holds the VIP: {addrs}"
        );
        let v6 = info.addresses.vip.v6.expect("v6 vip");
        assert!(
            !addrs.contains(&format!("inet6 {v6}/")),
            "{ns} holds the IPv6 VIP"
        );
    }
    assert_eq!(
        resolve_from_router(info, IpAddr::V4(info.addresses.vip.v4)),
        None,
        "nobody answers ARP for the VIP"
    );
}

#[test]
fn built_in_http_server_keeps_connections_alive() {
    if !root_or_skip("built_in_http_server_keeps_connections_alive") {
        return;
    }
    let lab = Lab::up(
        "nat",
        &unique_name("ka"),
        &["--http-port", "80", "--http-port", "8081"],
    );
    assert_eq!(lab.info.ports.http, [80, 8081]);
    let rs1 = IpAddr::V4(lab.info.addresses.rs1.v4);
    let replies = in_netns(&lab.info.namespaces.director, move || {
        let mut replies = Vec::new();
        for port in [80, 8081] {
            let mut s =
                TcpStream::connect_timeout(&SocketAddr::new(rs1, port), Duration::from_secs(5))
                    .expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            // Two pipelined requests on one connection, the second one closing it.
            s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                .expect("send");
            let mut text = String::new();
            s.read_to_string(&mut text).expect("read");
            replies.push(text);
        }
        replies
    });
    for text in replies {
        assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
        assert!(
            text.contains("Connection: keep-alive") && text.ends_with("\r\n\r\nrs1\n"),
            "{text}"
        );
    }
}

#[test]
fn two_labs_run_at_once_and_go_down_separately() {
    if !root_or_skip("two_labs_run_at_once_and_go_down_separately") {
        return;
    }
    let a = Lab::up("nat", &unique_name("a"), &[]);
    let b = Lab::up("dr", &unique_name("b"), &[]);
    let ask = |lab: &Lab| {
        http_get(
            &probe_ns(&lab.info),
            IpAddr::V4(lab.info.addresses.rs2.v4),
            "/",
        )
        .1
    };
    assert_eq!(ask(&a), "rs2\n");
    assert_eq!(ask(&b), "rs2\n");
    let a_namespaces = all_namespaces(&a.info);
    drop(a);
    assert!(a_namespaces.iter().all(|ns| !netns_exists(ns)));
    assert_eq!(ask(&b), "rs2\n", "the other lab is untouched");
}

#[test]
fn up_with_an_existing_name_fails_and_leaves_the_lab_alone() {
    if !root_or_skip("up_with_an_existing_name_fails_and_leaves_the_lab_alone") {
        return;
    }
    let name = unique_name("dup");
    let lab = Lab::up("nat", &name, &[]);
    let out = rvs(&["lab", "up", "dr", "--name", &name]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already exists") && err.contains("lab down"),
        "{err}"
    );
    let (_, body) = http_get(
        &lab.info.namespaces.director,
        IpAddr::V4(lab.info.addresses.rs1.v4),
        "/",
    );
    assert_eq!(body, "rs1\n");
}

#[test]
fn failed_up_rolls_back_everything() {
    if !root_or_skip("failed_up_rolls_back_everything") {
        return;
    }
    let name = unique_name("fail");
    let _guard = Downer(name.clone());
    // The same HTTP port twice: the built-in server cannot bind and `lab up` must undo all.
    let out = rvs(&[
        "lab",
        "up",
        "dr",
        "--name",
        &name,
        "--http-port",
        "80",
        "--http-port",
        "80",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did not start"), "{err}");
    for role in ["client", "router", "lan", "director", "rs1", "rs2"] {
        assert!(
            !netns_exists(&format!("{name}-{role}")),
            "{role} left behind"
        );
    }
    assert!(!std::path::Path::new("/run/rvs/lab").join(&name).exists());
}

#[test]
fn down_removes_a_half_built_lab() {
    if !root_or_skip("down_removes_a_half_built_lab") {
        return;
    }
    let name = unique_name("half");
    let _guard = Downer(name.clone());
    for role in ["lan", "rs2"] {
        ip_out(&["netns", "add", &format!("{name}-{role}")]);
    }
    let out = rvs(&["lab", "up", "nat", "--name", &name]);
    assert!(!out.status.success(), "up must refuse a name in use");
    let out = rvs(&["lab", "down", "--name", &name]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!netns_exists(&format!("{name}-lan")) && !netns_exists(&format!("{name}-rs2")));
    let lab = Lab::up("nat", &name, &[]);
    assert_eq!(lab.info.name, name);
}
