//! Scheduling as clients see it, in the NAT lab: least connections with long-lived
//! connections, source hashing, persistence, weight 0 (quiesced), deleting a destination.
//!
//! Root only: `cargo build --bins && cargo test -p rvs-e2e --test sched`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rvs_e2e::client::{KeepAlive, curl_servers, url};
use rvs_e2e::{Lab, root_or_skip, wait_until};

/// A NAT lab with rvsd and `VIP:80` scheduled by `sched_args` over both real servers.
fn lab_with_service(tag: &str, sched_args: &str) -> (Lab, IpAddr) {
    let mut lab = Lab::up("nat", tag, false);
    lab.start_rvsd();
    let (vip, rip1, rip2) = (lab.vip(false), lab.rip(1, false), lab.rip(2, false));
    lab.director_sh(&format!(
        "$IPVSADM -A -t {vip}:80 {sched_args}\n\
         $IPVSADM -a -t {vip}:80 -r {rip1}:80 -m -w 1\n\
         $IPVSADM -a -t {vip}:80 -r {rip2}:80 -m -w 1\n"
    ));
    (lab, vip)
}

fn rip(lab: &Lab, name: &str) -> SocketAddr {
    let i = if name == "rs1" { 1 } else { 2 };
    SocketAddr::new(lab.rip(i, false), 80)
}

#[test]
fn lc_sends_new_connections_to_the_less_loaded_server() {
    if !root_or_skip("lc_sends_new_connections_to_the_less_loaded_server") {
        return;
    }
    let (lab, vip) = lab_with_service("lc", "-s lc");
    let to = SocketAddr::new(vip, 80);
    // Six long-lived connections: least connections splits them evenly.
    let mut held: Vec<(String, KeepAlive)> = (0..6)
        .map(|_| {
            let mut c = KeepAlive::open(lab.client(), to);
            (c.get("/"), c)
        })
        .collect();
    let on = |held: &[(String, KeepAlive)], s: &str| held.iter().filter(|(n, _)| n == s).count();
    assert_eq!((on(&held, "rs1"), on(&held, "rs2")), (3, 3), "lc balances");
    // Close the ones on rs2: it becomes the less loaded server.
    held.retain(|(n, _)| n == "rs1");
    let rs2 = rip(&lab, "rs2");
    wait_until(
        "rs2's connections to close",
        Duration::from_secs(10),
        || lab.dest_conns(rs2).0 == 0,
    );
    assert_eq!(lab.dest_conns(rip(&lab, "rs1")).0, 3);
    // rs1 has 3 active, rs2 none: the next three new connections all go to rs2.
    let mut fresh: Vec<KeepAlive> = Vec::new();
    for i in 0..3 {
        let mut c = KeepAlive::open(lab.client(), to);
        assert_eq!(
            c.get("/"),
            "rs2",
            "new connection {i} goes to the less loaded server"
        );
        fresh.push(c);
    }
    // The long-lived ones still work, each on its own server.
    for (name, c) in &mut held {
        assert_eq!(&c.get("/"), name);
    }
    assert_eq!(lab.dest_conns(rs2).0, 3);
}

#[test]
fn sh_keeps_a_client_on_one_server() {
    if !root_or_skip("sh_keeps_a_client_on_one_server") {
        return;
    }
    let (lab, vip) = lab_with_service("sh", "-s sh");
    let servers = curl_servers(lab.client(), &url(vip, 80, "/"), 8);
    assert!(
        servers.iter().all(|s| s == &servers[0]),
        "source hashing keeps one client on one server: {servers:?}"
    );
}

#[test]
fn persistence_keeps_a_client_on_one_server() {
    if !root_or_skip("persistence_keeps_a_client_on_one_server") {
        return;
    }
    // rr alone would alternate; -p makes the first choice stick for this client.
    let (lab, vip) = lab_with_service("per", "-s rr -p 60");
    let listing = lab.rvsadm(&["-L", "-n"]);
    assert!(listing.contains("persistent 60"), "{listing}");
    let servers = curl_servers(lab.client(), &url(vip, 80, "/"), 8);
    assert!(
        servers.iter().all(|s| s == &servers[0]),
        "persistence keeps one client on one server: {servers:?}"
    );
    // The template: the client's address with port 0, to the server it sticks to.
    let conns = lab.rvsadm(&["-L", "-n", "-c"]);
    let template = format!("{}:0 ", lab.cip(false));
    let server = rip(&lab, &servers[0]).to_string();
    assert!(
        conns
            .lines()
            .any(|l| l.contains(&template) && l.contains(&server)),
        "a persistence template for the client is listed: {conns}"
    );
}

#[test]
fn weight_zero_keeps_existing_connections_and_takes_no_new_ones() {
    if !root_or_skip("weight_zero_keeps_existing_connections_and_takes_no_new_ones") {
        return;
    }
    let (lab, vip) = lab_with_service("w0", "-s wrr");
    let to = SocketAddr::new(vip, 80);
    let mut a = KeepAlive::open(lab.client(), to);
    let mut b = KeepAlive::open(lab.client(), to);
    let (na, nb) = (a.get("/"), b.get("/"));
    assert_ne!(na, nb, "wrr with equal weights uses both servers");
    let (mut on_rs1, mut on_rs2) = if na == "rs1" { (a, b) } else { (b, a) };

    let rip1 = rip(&lab, "rs1");
    lab.rvsadm(&[
        "-e",
        "-t",
        &to.to_string(),
        "-r",
        &rip1.to_string(),
        "-m",
        "-w",
        "0",
    ]);
    assert!(lab.rvsadm(&["-L", "-n"]).contains(&format!("-> {rip1}")));
    let servers = curl_servers(lab.client(), &url(vip, 80, "/"), 6);
    assert!(
        servers.iter().all(|s| s == "rs2"),
        "a quiesced server takes no new connections: {servers:?}"
    );
    for _ in 0..3 {
        assert_eq!(on_rs1.get("/"), "rs1", "its existing connection goes on");
        assert_eq!(on_rs2.get("/"), "rs2");
    }
}

#[test]
fn deleting_a_destination_sends_new_connections_to_the_rest() {
    if !root_or_skip("deleting_a_destination_sends_new_connections_to_the_rest") {
        return;
    }
    let (lab, vip) = lab_with_service("del", "-s rr");
    let before = curl_servers(lab.client(), &url(vip, 80, "/"), 2);
    assert_ne!(before[0], before[1], "both servers serve first: {before:?}");
    let rip1 = rip(&lab, "rs1");
    lab.rvsadm(&["-d", "-t", &format!("{vip}:80"), "-r", &rip1.to_string()]);
    let listing = lab.rvsadm(&["-L", "-n"]);
    assert!(!listing.contains(&format!("-> {rip1}")), "{listing}");
    let servers = curl_servers(lab.client(), &url(vip, 80, "/"), 6);
    assert!(
        servers.iter().all(|s| s == "rs2"),
        "new connections go to the remaining server: {servers:?}"
    );
}
