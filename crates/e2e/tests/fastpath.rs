//! The XDP fast path in a real lab: established TCP flows are forwarded by the XDP program
//! (hits rise, AF_XDP sees only the first packets), answers stay correct, the statistics
//! still count every packet, a connection whose packets all take the fast path lives past
//! its timeout while active and expires when idle, and `--no-fast-path` turns it off.
//!
//! Root only: `cargo build --bins && cargo test -p rvs-e2e --test fastpath`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rvs_e2e::client::{KeepAlive, url, wrk};
use rvs_e2e::{Lab, root_or_skip, wait_until};
use serde_json::Value;

fn n(v: &Value, path: &[&str]) -> u64 {
    let mut v = v;
    for p in path {
        v = &v[*p];
    }
    v.as_u64()
        .unwrap_or_else(|| panic!("{path:?} is a number in {v}"))
}

/// Keep one connection busy for `secs` seconds, a request every 250 ms; every answer comes
/// from the same real server.
fn busy_connection(lab: &Lab, vip: SocketAddr, secs: u64) -> (KeepAlive, String) {
    let mut ka = KeepAlive::open(lab.client(), vip);
    let first = ka.get("/");
    let start = Instant::now();
    let mut requests = 1;
    while start.elapsed() < Duration::from_secs(secs) && requests < 200 {
        assert_eq!(ka.get("/"), first, "request {requests} on one connection");
        requests += 1;
        std::thread::sleep(Duration::from_millis(250));
    }
    (ka, first)
}

fn listed(lab: &Lab, ka: &KeepAlive) -> bool {
    let port = format!(":{} ", ka.local_addr().port());
    lab.rvsadm(&["-L", "-n", "-c"])
        .lines()
        .any(|l| l.contains(&port) && l.contains("ESTABLISHED"))
}

fn fast_path_carries_established_flows(topology: &str, tag: &str, v6: bool, method: &str) {
    let mut lab = Lab::up(topology, tag, v6);
    // veth: the fast path is off unless asked for.
    lab.start_rvsd_with(&["--fast-path"]);
    let (vip, rip1, rip2) = (lab.vip(v6), lab.rip(1, v6), lab.rip(2, v6));
    let sa = |a: std::net::IpAddr, p: u16| SocketAddr::new(a, p);
    // TCP timeouts of 4 s, so that expiry shows within the test.
    lab.director_sh(&format!(
        "$IPVSADM -A -t {} -s rr\n\
         $IPVSADM -a -t {} -r {} {method}\n\
         $IPVSADM -a -t {} -r {} {method}\n\
         $IPVSADM --set 4 4 4\n",
        sa(vip, 80),
        sa(vip, 80),
        sa(rip1, 80),
        sa(vip, 80),
        sa(rip2, 80),
    ));
    let vip80 = sa(vip, 80);

    // One connection busy for 6 s, longer than its 4 s timeout: all its packets after the
    // first few take the fast path, and it must not expire meanwhile.
    let (ka, server) = busy_connection(&lab, vip80, 6);
    assert!(["rs1", "rs2"].contains(&server.as_str()), "{server}");
    assert!(
        listed(&lab, &ka),
        "the busy connection is still ESTABLISHED"
    );
    let c = lab.counters();
    let hits = n(&c, &["steer", "fast_hits"]);
    let rx = n(&c, &["workers", "rx_packets"]);
    let installs = n(&c, &["workers", "fast_installs"]);
    let expect_installs = if method == "-m" { 2 } else { 1 };
    assert!(installs >= expect_installs, "installs: {c}");
    assert!(
        hits > 20,
        "the fast path forwarded the connection's packets: {c}"
    );
    assert!(
        rx < hits,
        "AF_XDP saw only the first packets ({rx} vs {hits} hits): {c}"
    );
    assert_eq!(n(&c, &["steer", "fast_redirect_errors"]), 0, "{c}");

    // The statistics count the fast path's packets (harvested every tick).
    let mut stats = lab.service_stats("TCP", vip80);
    wait_until(
        "fast-path packets in the statistics",
        Duration::from_secs(5),
        || {
            stats = lab.service_stats("TCP", vip80);
            stats.in_pkts + stats.out_pkts >= hits
        },
    );
    assert_eq!(stats.conns, 1, "{stats:?}");
    if method == "-m" {
        assert!(stats.out_pkts > 0 && stats.out_bytes > 0, "{stats:?}");
    }

    // Idle now: the connection expires after its 4 s and its entries leave the map.
    wait_until(
        "the idle connection to expire",
        Duration::from_secs(12),
        || !listed(&lab, &ka),
    );
    wait_until(
        "its flow entries to be removed",
        Duration::from_secs(5),
        || {
            let c = lab.counters();
            n(&c, &["workers", "fast_flows"]) == 0
                && n(&c, &["workers", "fast_removals"]) >= expect_installs
        },
    );
    drop(ka);

    // Many connections at once: correct answers, no errors, most packets in XDP.
    let r = wrk(lab.client(), &url(vip, 80, "/"), 2, 8);
    assert!(r.requests > 100, "{}", r.text);
    assert_eq!((r.socket_errors, r.non_2xx), (0, 0), "{}", r.text);
    let c = lab.counters();
    assert!(n(&c, &["steer", "fast_hits"]) > hits, "{c}");
}

#[test]
fn nat_ipv4_established_flows_take_the_fast_path() {
    if !root_or_skip("nat_ipv4_established_flows_take_the_fast_path") {
        return;
    }
    fast_path_carries_established_flows("nat", "fpn", false, "-m");
}

#[test]
fn dr_ipv6_established_flows_take_the_fast_path() {
    if !root_or_skip("dr_ipv6_established_flows_take_the_fast_path") {
        return;
    }
    fast_path_carries_established_flows("dr", "fpd", true, "-g");
}

#[test]
fn no_fast_path_sends_everything_through_af_xdp() {
    if !root_or_skip("no_fast_path_sends_everything_through_af_xdp") {
        return;
    }
    let mut lab = Lab::up("nat", "fpo", false);
    lab.start_rvsd_with(&["--no-fast-path"]);
    let (vip, rip1) = (lab.vip(false), lab.rip(1, false));
    lab.director_sh(&format!(
        "$IPVSADM -A -t {vip}:80 -s rr\n$IPVSADM -a -t {vip}:80 -r {rip1}:80 -m\n"
    ));
    let (_ka, server) = busy_connection(&lab, SocketAddr::new(vip, 80), 1);
    assert_eq!(server, "rs1");
    let c = lab.counters();
    assert_eq!(n(&c, &["steer", "fast_hits"]), 0, "{c}");
    assert_eq!(n(&c, &["workers", "fast_installs"]), 0, "{c}");
    assert!(n(&c, &["workers", "rx_packets"]) > 10, "{c}");
}
