//! §10 DR (and §7 TUN), for real: requests go through the director, replies go from the
//! real servers straight to the client. IPv4 and IPv6, curl and wrk.
//!
//! Root only: `cargo build --bins && cargo test -p rvs-e2e --test dr`.

use std::net::{IpAddr, SocketAddr};

use rvs_e2e::client::{assert_alternates, curl_body, curl_put, curl_servers, url, wrk};
use rvs_e2e::peers::{Capture, Nginx, big_body};
use rvs_e2e::{Lab, root_or_skip};

/// The seed's director script (lvs_dr.sh, §10, with `-g` where the article has a stray
/// `-m`), with the lab's addresses and `method` (`-g`, `-i`, `-m`); the lab already holds
/// the VIP on `eth0:0` with its host route.
fn http_service(lab: &Lab, v6: bool, method: &str) -> IpAddr {
    let (vip, rip1, rip2) = (lab.vip(v6), lab.rip(1, v6), lab.rip(2, v6));
    let (svc, r1, r2) = (
        SocketAddr::new(vip, 80),
        SocketAddr::new(rip1, 80),
        SocketAddr::new(rip2, 80),
    );
    lab.director_sh(&format!(
        "echo 1 > /proc/sys/net/ipv4/ip_forward\n\
         $IPVSADM -C\n\
         $IPVSADM -A -t {svc} -s wrr\n\
         $IPVSADM -a -t {svc} -r {r1} {method} -w 1\n\
         $IPVSADM -a -t {svc} -r {r2} {method} -w 1\n"
    ));
    vip
}

/// DR or TUN: answers alternate, and not one reply passes through the director (its out
/// counters stay 0 and a capture of what it sends holds no packet from VIP:80).
fn replies_bypass_the_director(topology: &str, tag: &str, v6: bool, method: &str) {
    let mut lab = Lab::up(topology, tag, v6);
    lab.start_rvsd();
    let vip = http_service(&lab, v6, method);
    let cip = lab.cip(v6);
    // Capture what the director transmits: on its far end (the LAN bridge port in the DR lab,
    // the router's leg in the TUN lab) everything it sends arrives as ingress, whether the
    // kernel or the AF_XDP data plane sent it.
    let (ns, iface) = match topology {
        "tun" => (lab.info.namespaces.router.clone().expect("router"), "eth1"),
        _ => (lab.lan().to_string(), "director"),
    };
    // TCP to or from port 80, or tunnelled (IPIP / IPv6-in-IPv6).
    let filter = if v6 {
        "ip6 and (tcp port 80 or ip6 proto 41)"
    } else {
        "ip and (tcp port 80 or ip proto 4)"
    };
    let capture = Capture::start(
        &ns,
        iface,
        Some("in"),
        filter,
        lab.path("director-out.pcap"),
    );
    let servers = curl_servers(lab.client(), &url(vip, 80, "/"), 6);
    assert_alternates(&servers, ["rs1", "rs2"]);
    let lines = capture.finish();

    let reply = format!("{vip}.80 > {cip}.");
    let leaked: Vec<&String> = lines.iter().filter(|l| l.contains(&reply)).collect();
    assert!(leaked.is_empty(), "replies left the director: {leaked:#?}");
    // The capture worked: it saw the director pass the requests on.
    let request = format!(" > {vip}.80:");
    assert!(
        lines.iter().any(|l| l.contains(&request)),
        "the capture saw no request forwarded by the director: {lines:#?}"
    );
    let stats = lab.service_stats("TCP", SocketAddr::new(vip, 80));
    assert_eq!(stats.conns, 6, "{stats:?}");
    assert!(stats.in_pkts > 0, "{stats:?}");
    assert_eq!(stats.out_pkts, 0, "no reply passed the director: {stats:?}");
    assert_eq!(stats.out_bytes, 0, "{stats:?}");
}

#[test]
fn dr_replies_bypass_the_director() {
    if root_or_skip("dr_replies_bypass_the_director") {
        replies_bypass_the_director("dr", "dr", false, "-g");
    }
}

#[test]
fn dr_ipv6_replies_bypass_the_director() {
    if root_or_skip("dr_ipv6_replies_bypass_the_director") {
        replies_bypass_the_director("dr", "dr6", true, "-g");
    }
}

#[test]
fn tun_replies_bypass_the_director() {
    if root_or_skip("tun_replies_bypass_the_director") {
        replies_bypass_the_director("tun", "tun", false, "-i");
    }
}

#[test]
fn nat_ipv6_alternates_and_keeps_the_client_address() {
    if !root_or_skip("nat_ipv6_alternates_and_keeps_the_client_address") {
        return;
    }
    let mut lab = Lab::up("nat", "nat6", true);
    lab.start_rvsd();
    let vip = http_service(&lab, true, "-m");
    let servers = curl_servers(lab.client(), &url(vip, 80, "/"), 6);
    assert_alternates(&servers, ["rs1", "rs2"]);
    let who = rvs_e2e::client::curl(lab.client(), &url(vip, 80, "/whoami"));
    let who: SocketAddr = who.body.trim().parse().expect("whoami is [IP]:port");
    assert_eq!(who.ip(), lab.cip(true));
    let stats = lab.service_stats("TCP", SocketAddr::new(vip, 80));
    assert!(stats.in_pkts > 0 && stats.out_pkts > 0, "{stats:?}");
}

#[test]
fn dr_wrk_through_the_vip_has_no_errors() {
    if !root_or_skip("dr_wrk_through_the_vip_has_no_errors") {
        return;
    }
    let mut lab = Lab::up("dr", "drwrk", false);
    lab.start_rvsd();
    let vip = http_service(&lab, false, "-g");
    let report = wrk(lab.client(), &url(vip, 80, "/"), 10, 50);
    eprintln!("{}", report.text);
    assert!(report.requests > 0, "{}", report.text);
    assert_eq!(report.socket_errors, 0, "{}", report.text);
    assert_eq!(report.non_2xx, 0, "{}", report.text);
    let stats = lab.service_stats("TCP", SocketAddr::new(vip, 80));
    assert_eq!(stats.out_pkts, 0, "{stats:?}");
    assert!(lab.rvsd_running(), "rvsd survived the load");
}

#[test]
fn tun_ipv6_replies_bypass_the_director() {
    if root_or_skip("tun_ipv6_replies_bypass_the_director") {
        replies_bypass_the_director("tun", "tun6", true, "-i");
    }
}

#[test]
fn dr_udp_service_answers_from_both_real_servers_via_the_vip() {
    if !root_or_skip("dr_udp_service_answers_from_both_real_servers_via_the_vip") {
        return;
    }
    let mut lab = Lab::up("dr", "drudp", true);
    lab.start_rvsd();
    for v6 in [false, true] {
        let (vip, rip1, rip2) = (lab.vip(v6), lab.rip(1, v6), lab.rip(2, v6));
        let (svc, r1, r2) = (
            SocketAddr::new(vip, 7),
            SocketAddr::new(rip1, 7),
            SocketAddr::new(rip2, 7),
        );
        lab.director_sh(&format!(
            "$IPVSADM -A -u {svc} -s rr\n\
             $IPVSADM -a -u {svc} -r {r1} -g\n\
             $IPVSADM -a -u {svc} -r {r2} -g\n"
        ));
        // The answer must come from the VIP (udp_ask checks the source).
        let answers: Vec<String> = (0..4)
            .map(|_| rvs_e2e::client::udp_ask(lab.client(), svc).expect("a UDP answer"))
            .collect();
        assert_alternates(&answers, ["rs1", "rs2"]);
        let stats = lab.service_stats("UDP", svc);
        assert_eq!((stats.conns, stats.out_pkts), (4, 0), "{stats:?}");
    }
}

/// 2 MiB downloads and uploads through `VIP:8080` → nginx on `RIP:8080`: full-sized segments
/// every one, and for TUN the path MTU shrinks by the tunnel header (the director answers
/// "fragmentation needed" and the client adapts).
fn large_transfers_arrive_intact(topology: &str, tag: &str, v6: bool, method: &str) {
    let mut lab = Lab::up(topology, tag, v6);
    let n1 = Nginx::start(lab.rs(1), "rs1-nginx", 8080);
    let n2 = Nginx::start(lab.rs(2), "rs2-nginx", 8080);
    lab.start_rvsd();
    let (vip, rip1, rip2) = (lab.vip(v6), lab.rip(1, v6), lab.rip(2, v6));
    let (svc, r1, r2) = (
        SocketAddr::new(vip, 8080),
        SocketAddr::new(rip1, 8080),
        SocketAddr::new(rip2, 8080),
    );
    lab.director_sh(&format!(
        "$IPVSADM -A -t {svc} -s rr\n\
         $IPVSADM -a -t {svc} -r {r1} {method}\n\
         $IPVSADM -a -t {svc} -r {r2} {method}\n"
    ));
    let servers = curl_servers(lab.client(), &url(vip, 8080, "/"), 4);
    assert_alternates(&servers, ["rs1-nginx", "rs2-nginx"]);
    let big = big_body();
    for _ in 0..2 {
        let body = curl_body(lab.client(), &url(vip, 8080, "/big.bin"));
        assert!(
            body == big,
            "big.bin arrived changed ({} bytes)",
            body.len()
        );
    }
    // Uploads: the direction that passes the director (and, for TUN, the tunnel).
    let file = lab.path("upload.bin");
    std::fs::write(&file, &big).expect("write upload.bin");
    for i in 0..2 {
        curl_put(
            lab.client(),
            &url(vip, 8080, &format!("/up/u{i}.bin")),
            &file,
        );
    }
    for (n, name) in [(&n1, "rs1"), (&n2, "rs2")] {
        let stored: Vec<_> = std::fs::read_dir(n.uploads())
            .expect("uploads")
            .map(|e| std::fs::read(e.expect("entry").path()).expect("read upload"))
            .collect();
        assert_eq!(stored.len(), 1, "{name} got one upload (rr)");
        assert!(stored[0] == big, "the upload to {name} arrived changed");
    }
    if topology == "tun" {
        // Full-sized segments plus the tunnel header exceed the MTU: the director dropped
        // them with "fragmentation needed" and the client's smaller segments then got through.
        let c = lab.counters();
        assert!(c["drops"]["too_big"].as_u64() > Some(0), "{c}");
        assert!(c["icmp_sent"].as_u64() > Some(0), "{c}");
    }
}

#[test]
fn dr_large_transfers_to_nginx_arrive_intact() {
    if root_or_skip("dr_large_transfers_to_nginx_arrive_intact") {
        large_transfers_arrive_intact("dr", "drbig", false, "-g");
    }
}

#[test]
fn tun_large_transfers_to_nginx_arrive_intact() {
    if root_or_skip("tun_large_transfers_to_nginx_arrive_intact") {
        large_transfers_arrive_intact("tun", "tunbig", false, "-i");
    }
}

#[test]
fn nat_ipv6_large_transfers_to_nginx_arrive_intact() {
    if root_or_skip("nat_ipv6_large_transfers_to_nginx_arrive_intact") {
        large_transfers_arrive_intact("nat", "natbig6", true, "-m");
    }
}

#[test]
fn tun_ipv6_large_transfers_to_nginx_arrive_intact() {
    if root_or_skip("tun_ipv6_large_transfers_to_nginx_arrive_intact") {
        large_transfers_arrive_intact("tun", "tunbig6", true, "-i");
    }
}
