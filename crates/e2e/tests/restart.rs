//! rvsd's life cycle on a lab: SIGKILL and restart with `--state` (the configuration comes
//! back, traffic flows again, the program is new), SIGTERM (no XDP program is left), and a
//! stale netlink-attached program of ours (replaced at start).
//!
//! Root only: `cargo build --bins && cargo test -p rvs-e2e --test restart`.

use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use rvs_dataplane::netlink::{self, NlSocket};
use rvs_e2e::client::{assert_alternates, curl_servers, try_curl, url};
use rvs_e2e::lab::xdp_programs;
use rvs_e2e::{Lab, in_netns, root_or_skip, run_ok, wait_until};

/// `rvsadm -L -n` without the connection counters (a restarted rvsd starts with an empty
/// connection table): the rules, flags, forwarding methods and weights.
fn rules(lab: &Lab) -> Vec<String> {
    lab.rvsadm(&["-L", "-n"])
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("->") && !l.contains("RemoteAddress") {
                l.split_whitespace().take(4).collect::<Vec<_>>().join(" ")
            } else {
                l.to_string()
            }
        })
        .collect()
}

/// The ids of the rvs_steer programs attached in the director's namespace, by interface.
fn steer_ids(lab: &Lab) -> Vec<(String, u32)> {
    xdp_programs(lab.director())
        .into_iter()
        .inspect(|(iface, _, name)| assert_eq!(name, "rvs_steer", "{iface}: a foreign program"))
        .map(|(iface, id, _)| (iface, id))
        .collect()
}

#[test]
fn sigkill_and_restart_with_state_restore_the_configuration_and_traffic() {
    if !root_or_skip("sigkill_and_restart_with_state_restore_the_configuration_and_traffic") {
        return;
    }
    let mut lab = Lab::up("nat", "kill", false);
    lab.start_rvsd_with_state();
    let (vip, rip1, rip2) = (lab.vip(false), lab.rip(1, false), lab.rip(2, false));
    lab.director_sh(&format!(
        "$IPVSADM -A -t {vip}:80 -s wrr\n\
         $IPVSADM -a -t {vip}:80 -r {rip1}:80 -m -w 1\n\
         $IPVSADM -a -t {vip}:80 -r {rip2}:80 -m -w 1\n\
         $IPVSADM -A -u {vip}:7 -s sh -p 120\n\
         $IPVSADM -a -u {vip}:7 -r {rip1}:7 -m -w 3\n\
         $IPVSADM --set 900 120 300\n"
    ));
    let before = rules(&lab);
    let saved = lab.rvsadm(&["-S", "-n"]);
    let timeouts = lab.rvsadm(&["-L", "--timeout"]);
    let ids_before = steer_ids(&lab);
    assert_eq!(
        ids_before.len(),
        lab.info.interfaces.director.len(),
        "{ids_before:?}"
    );

    // A client keeps asking during the whole run (bounded): before, across and after.
    let stop = Arc::new(AtomicBool::new(false));
    let ok_count = Arc::new(AtomicU32::new(0));
    let client = {
        let (ns, u) = (lab.client().to_string(), url(vip, 80, "/"));
        let (stop, ok_count) = (stop.clone(), ok_count.clone());
        std::thread::spawn(move || {
            let end = Instant::now() + Duration::from_secs(60);
            for _ in 0..2000 {
                if stop.load(Ordering::Relaxed) || Instant::now() > end {
                    break;
                }
                if try_curl(&ns, &u).is_some_and(|r| r.status == 200) {
                    ok_count.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    wait_until("the client to get answers", Duration::from_secs(10), || {
        ok_count.load(Ordering::Relaxed) >= 3
    });

    let status = lab.stop_rvsd(Signal::SIGKILL);
    assert!(!status.success(), "killed: {status}");
    // Whatever the kill left on the interfaces (a bpf_link dies with its process, a netlink
    // attachment would not), the restart must put a fresh program of its own there.
    lab.restart_rvsd();
    assert_eq!(rules(&lab), before, "the configuration came back");
    assert_eq!(lab.rvsadm(&["-S", "-n"]), saved);
    assert_eq!(lab.rvsadm(&["-L", "--timeout"]), timeouts);
    let ids_after = steer_ids(&lab);
    assert_eq!(ids_after.len(), ids_before.len(), "{ids_after:?}");
    for ((iface, old), (iface2, new)) in ids_before.iter().zip(&ids_after) {
        assert_eq!(iface, iface2);
        assert_ne!(
            old, new,
            "{iface}: the program of the killed rvsd was replaced"
        );
    }

    let after_restart = ok_count.load(Ordering::Relaxed);
    wait_until("traffic to flow again", Duration::from_secs(10), || {
        ok_count.load(Ordering::Relaxed) >= after_restart + 3
    });
    stop.store(true, Ordering::Relaxed);
    client.join().expect("client thread");
    let servers = curl_servers(lab.client(), &url(vip, 80, "/"), 4);
    assert_alternates(&servers, ["rs1", "rs2"]);
}

#[test]
fn sigterm_leaves_no_xdp_program() {
    if !root_or_skip("sigterm_leaves_no_xdp_program") {
        return;
    }
    let mut lab = Lab::up("nat", "term", false);
    lab.start_rvsd();
    let vip = lab.vip(false);
    let rip1 = lab.rip(1, false);
    lab.director_sh(&format!(
        "$IPVSADM -A -t {vip}:80 -s rr\n$IPVSADM -a -t {vip}:80 -r {rip1}:80 -m\n"
    ));
    assert_eq!(curl_servers(lab.client(), &url(vip, 80, "/"), 1), ["rs1"]);
    assert_eq!(steer_ids(&lab).len(), 2, "attached to eth0 and eth1");

    let status = lab.stop_rvsd(Signal::SIGTERM);
    assert!(status.success(), "a clean stop exits 0: {status}");
    let links =
        run_ok(std::process::Command::new("ip").args(["-n", lab.director(), "-d", "link", "show"]));
    assert!(!links.contains("xdp"), "an XDP program is left:\n{links}");
    assert!(!lab.socket().exists(), "the control socket is removed");
    // Without rvsd the VIP is the director's own address again: the kernel refuses.
    assert!(try_curl(lab.client(), &url(vip, 80, "/")).is_none());
}

#[test]
fn stale_netlink_program_is_replaced_at_start() {
    if !root_or_skip("stale_netlink_program_is_replaced_at_start") {
        return;
    }
    let mut lab = Lab::up("nat", "stale", false);
    // Attach rvs_steer the legacy way (netlink, generic mode) as an older or crashed rvsd
    // could leave it: it outlives its loader.
    let stale = in_netns(lab.director(), || {
        let mut nl = NlSocket::new().expect("netlink");
        let ifindex = netlink::links(&mut nl)
            .expect("links")
            .into_iter()
            .find(|l| l.name == "eth0")
            .expect("eth0")
            .index;
        let mut ebpf = aya::EbpfLoader::new()
            .load(rvs_dataplane::steer::program_object())
            .expect("load the steering object");
        let prog: &mut aya::programs::Xdp = ebpf
            .program_mut("rvs_steer")
            .expect("rvs_steer")
            .try_into()
            .expect("an XDP program");
        prog.load().expect("load rvs_steer");
        let fd = prog.fd().expect("program fd").as_fd().as_raw_fd();
        const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
        netlink::set_xdp_fd(&mut nl, ifindex, fd, XDP_FLAGS_SKB_MODE).expect("attach");
        prog.info().expect("program info").id()
    });
    assert_eq!(
        steer_ids(&lab),
        [("eth0".to_string(), stale)],
        "the stale program survives its loader"
    );

    lab.start_rvsd();
    let ids = steer_ids(&lab);
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.iter().all(|(_, id)| *id != stale), "replaced: {ids:?}");
    let (vip, rip1, rip2) = (lab.vip(false), lab.rip(1, false), lab.rip(2, false));
    let svc = SocketAddr::new(vip, 80);
    lab.director_sh(&format!(
        "$IPVSADM -A -t {svc} -s rr\n\
         $IPVSADM -a -t {svc} -r {rip1}:80 -m\n\
         $IPVSADM -a -t {svc} -r {rip2}:80 -m\n"
    ));
    let servers = curl_servers(lab.client(), &url(vip, 80, "/"), 4);
    assert_alternates(&servers, ["rs1", "rs2"]);
}
