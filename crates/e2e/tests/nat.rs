//! §9 NAT, for real: the seed's lvs_nat.sh with rvsadm as IPVSADM, curl from the client,
//! nginx behind a port mapping, UDP echo, and wrk through the VIP.
//!
//! Root only: `cargo build --bins && cargo test -p rvs-e2e --test nat`.

use std::net::SocketAddr;

use rvs_e2e::client::{assert_alternates, curl, curl_body, curl_servers, udp_ask, url, wrk};
use rvs_e2e::peers::{Nginx, big_body};
use rvs_e2e::{Lab, root_or_skip};

#[test]
fn seed_lvs_nat_script_alternates_and_real_servers_see_the_client() {
    if !root_or_skip("seed_lvs_nat_script_alternates_and_real_servers_see_the_client") {
        return;
    }
    let mut lab = Lab::up("nat", "nat", false);
    lab.start_rvsd();
    let (vip, rip1, rip2) = (lab.vip(false), lab.rip(1, false), lab.rip(2, false));
    // lvs_nat.sh (§9) with the lab's addresses; the MASQUERADE rule only serves the real
    // servers' own outbound traffic and is left out (no iptables here).
    lab.director_sh(&format!(
        "echo 1 > /proc/sys/net/ipv4/ip_forward\n\
         echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects\n\
         $IPVSADM -C\n\
         $IPVSADM -A -t {vip}:80 -s wrr\n\
         $IPVSADM -a -t {vip}:80 -r {rip1}:80 -m -w 1\n\
         $IPVSADM -a -t {vip}:80 -r {rip2}:80 -m -w 1\n"
    ));
    let listing = lab.rvsadm(&["-L", "-n"]);
    assert!(listing.contains(&format!("TCP  {vip}:80 wrr")), "{listing}");
    assert_eq!(listing.matches("Masq    1").count(), 2, "{listing}");

    let servers = curl_servers(lab.client(), &url(vip, 80, "/"), 6);
    assert_alternates(&servers, ["rs1", "rs2"]);

    let cip = lab.cip(false);
    let r = curl(lab.client(), &url(vip, 80, "/"));
    let seen: SocketAddr = r
        .header("X-Client")
        .expect("X-Client header")
        .parse()
        .expect("X-Client is IP:port");
    assert_eq!(seen.ip(), cip, "the real server sees the client's address");
    let who = curl(lab.client(), &url(vip, 80, "/whoami"));
    let who: SocketAddr = who.body.trim().parse().expect("whoami is IP:port");
    assert_eq!(who.ip(), cip);

    let stats = lab.service_stats("TCP", SocketAddr::new(vip, 80));
    assert_eq!(stats.conns, 8, "8 connections scheduled: {stats:?}");
    assert!(
        stats.in_pkts > 0 && stats.out_pkts > 0,
        "NAT counts both directions: {stats:?}"
    );
}

#[test]
fn port_mapping_reaches_nginx_on_8080() {
    if !root_or_skip("port_mapping_reaches_nginx_on_8080") {
        return;
    }
    let mut lab = Lab::up("nat", "ngx", false);
    let _n1 = Nginx::start(lab.rs(1), "rs1-nginx", 8080);
    let _n2 = Nginx::start(lab.rs(2), "rs2-nginx", 8080);
    lab.start_rvsd();
    let (vip, rip1, rip2) = (lab.vip(false), lab.rip(1, false), lab.rip(2, false));
    lab.director_sh(&format!(
        "$IPVSADM -A -t {vip}:80 -s rr\n\
         $IPVSADM -a -t {vip}:80 -r {rip1}:8080 -m\n\
         $IPVSADM -a -t {vip}:80 -r {rip2}:8080 -m\n"
    ));
    let servers = curl_servers(lab.client(), &url(vip, 80, "/"), 6);
    assert_alternates(&servers, ["rs1-nginx", "rs2-nginx"]);
    // 2 MiB from each server: every segment rewritten and in order.
    let big = big_body();
    for _ in 0..2 {
        let body = curl_body(lab.client(), &url(vip, 80, "/big.bin"));
        assert!(
            body == big,
            "big.bin arrived changed ({} bytes)",
            body.len()
        );
    }
}

#[test]
fn udp_service_answers_from_both_real_servers() {
    if !root_or_skip("udp_service_answers_from_both_real_servers") {
        return;
    }
    let mut lab = Lab::up("nat", "udp", false);
    lab.start_rvsd();
    let (vip, rip1, rip2) = (lab.vip(false), lab.rip(1, false), lab.rip(2, false));
    lab.director_sh(&format!(
        "$IPVSADM -A -u {vip}:7 -s rr\n\
         $IPVSADM -a -u {vip}:7 -r {rip1}:7 -m\n\
         $IPVSADM -a -u {vip}:7 -r {rip2}:7 -m\n"
    ));
    // A new socket (new source port) per question: each is a new UDP connection.
    let answers: Vec<String> = (0..6)
        .map(|_| udp_ask(lab.client(), SocketAddr::new(vip, 7)).expect("a UDP answer"))
        .collect();
    assert_alternates(&answers, ["rs1", "rs2"]);
}

#[test]
fn wrk_through_the_vip_has_no_errors() {
    if !root_or_skip("wrk_through_the_vip_has_no_errors") {
        return;
    }
    let mut lab = Lab::up("nat", "wrk", false);
    lab.start_rvsd();
    let (vip, rip1, rip2) = (lab.vip(false), lab.rip(1, false), lab.rip(2, false));
    lab.director_sh(&format!(
        "$IPVSADM -A -t {vip}:80 -s wlc\n\
         $IPVSADM -a -t {vip}:80 -r {rip1}:80 -m\n\
         $IPVSADM -a -t {vip}:80 -r {rip2}:80 -m\n"
    ));
    let report = wrk(lab.client(), &url(vip, 80, "/"), 10, 50);
    eprintln!("{}", report.text);
    assert!(report.requests > 0, "{}", report.text);
    assert_eq!(report.socket_errors, 0, "{}", report.text);
    assert_eq!(report.non_2xx, 0, "{}", report.text);
    assert!(lab.rvsd_running(), "rvsd survived the load");
}
