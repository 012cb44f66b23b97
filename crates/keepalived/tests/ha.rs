//! Root tests of rvs-keepalived in the HA lab (`rvs lab up ha`): the seed's §11 scenario
//! (two directors, DR to two real servers, clients requesting without pause), Debian's
//! keepalived as the other director, and reloads under load.
//!
//! Run as root after `cargo build --workspace --bins`:
//! `cargo test -p rvs-keepalived --test ha -- --nocapture` (figures are printed, never
//! asserted). They skip when not root unless CI=true or RVS_REQUIRE_ROOT_TESTS=1.

mod support;

use std::fs;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use support::*;

const LONG: Duration = Duration::from_secs(30);

struct Director {
    rvsd: Proc,
    sock: std::path::PathBuf,
}

fn director(lab: &Lab, role: &str, dir: &std::path::Path) -> Director {
    let sock = dir.join(format!("{role}.sock"));
    let rvsd = start_rvsd(&lab.ns(role), &sock, &dir.join(format!("{role}-rvsd.log")));
    Director { rvsd, sock }
}

fn write_conf(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).expect("write conf");
    p
}

fn served_by(answers: &[Answer]) -> Vec<String> {
    answers.iter().filter_map(|a| a.clone().ok()).collect()
}

/// Steps 1–3 of the seed's §11 with rvs-keepalived on both directors, plus the planned
/// stop (priority 0) handover.
#[test]
fn seed_scenario_two_directors() {
    if !root_or_skip("seed_scenario_two_directors") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let lab = Lab::up_ha(&unique_name("s"));
    let (vip, rs1, rs2) = (lab.vip(), lab.rip("rs1"), lab.rip("rs2"));
    let (d1, d2) = (lab.ns("director"), lab.ns("director2"));
    let dir1 = director(&lab, "director", dir);
    let dir2 = director(&lab, "director2", dir);
    let c1 = write_conf(
        dir,
        "d1.conf",
        &conf("MASTER", 100, &vip, [&rs1, &rs2], true),
    );
    let c2 = write_conf(
        dir,
        "d2.conf",
        &conf("BACKUP", 50, &vip, [&rs1, &rs2], true),
    );
    let mut ka1 = start_ours(&d1, &c1, &dir1.sock, dir, "ka1", &[]);
    let _ka2 = start_ours(&d2, &c2, &dir2.sock, dir, "ka2", &[]);

    wait_until("VIP on the master", LONG, || has_addr(&d1, &vip));
    for d in [&dir1, &dir2] {
        wait_until("both real servers programmed", LONG, || {
            let l = rvsadm_list(&d.sock);
            l.contains(&format!("{rs1}:80")) && l.contains(&format!("{rs2}:80"))
        });
    }
    assert!(!has_addr(&d2, &vip), "the backup holds no VIP");
    let clients = Clients::start(&lab.ns("client"), &vip, Duration::from_secs(240));
    let t = Instant::now();
    wait_until("clients served by both", LONG, || {
        let s = served_by(&clients.since(t));
        s.iter().any(|n| n == "rs1") && s.iter().any(|n| n == "rs2")
    });

    // 1. The HTTP server on rs1 stops: rs1 leaves the table, clients see only rs2.
    lab.stop_server("rs1");
    let removal = wait_until("rs1 removed", LONG, || {
        !rvsadm_list(&dir1.sock).contains(&format!("{rs1}:80"))
    });
    let after = clients.next(Instant::now(), 20, LONG);
    assert!(
        after.iter().all(|a| a.as_deref() == Ok("rs2")),
        "after removal only rs2 answers: {after:?}"
    );

    // 2. It starts again: rs1 comes back.
    lab.start_server("rs1");
    let back = wait_until("rs1 back", LONG, || {
        rvsadm_list(&dir1.sock).contains(&format!("{rs1}:80"))
    });
    let t = Instant::now();
    wait_until("clients served by rs1 again", LONG, || {
        served_by(&clients.since(t)).iter().any(|n| n == "rs1")
    });

    // 3. rvs-keepalived on the master dies: the VIP moves, clients are served again.
    ka1.signal(Signal::SIGKILL);
    let killed = Instant::now();
    let _ = ka1.wait_exit(Duration::from_secs(5));
    let takeover = wait_until("VIP on the backup", LONG, || has_addr(&d2, &vip));
    assert!(
        rvsadm_list(&dir1.sock).contains(&format!("{rs2}:80")),
        "rvsd on the dead daemon's director keeps its table"
    );
    wait_until("clients served after takeover", LONG, || {
        clients.since(killed + takeover).iter().any(|a| a.is_ok())
    });

    // Planned stop: the master comes back (preempts), then stops with priority 0.
    let mut ka1 = start_ours(&d1, &c1, &dir1.sock, dir, "ka1b", &[]);
    wait_until("back to master", LONG, || {
        ka1.log_text().contains("Entering MASTER STATE") && !has_addr(&d2, &vip)
    });
    ka1.signal(Signal::SIGTERM);
    let handover = wait_until("VIP handed over", LONG, || has_addr(&d2, &vip));
    assert_eq!(ka1.wait_exit(LONG), Some(0), "clean stop");
    assert!(!has_addr(&d1, &vip), "a stopped master releases its VIP");
    assert!(
        !rvsadm_list(&dir1.sock).contains(&format!("{vip}:80")),
        "a stopped daemon removes the services it created: {}",
        ka1.log_text()
    );
    let t = Instant::now();
    wait_until("clients served after handover", LONG, || {
        clients.since(t).iter().any(|a| a.is_ok())
    });
    drop(clients);
    eprintln!(
        "FIGURES ours: dead real server removed in {removal:?} (delay_loop 1 + connect_timeout 1 x (retry 1 + 1) = 3 s); \
         back in {back:?}; takeover after SIGKILL of the master {takeover:?} (advert_int 1, bound 3 x 1 + skew 0.8 s); \
         planned stop handover {handover:?}"
    );
    drop(dir2.rvsd);
    drop(dir1.rvsd);
}

/// Step 4: Debian's keepalived as the other director, both ways round.
#[test]
fn with_debian_keepalived_as_the_other_director() {
    if !root_or_skip("with_debian_keepalived_as_the_other_director") {
        return;
    }
    if std::process::Command::new("keepalived")
        .arg("-v")
        .output()
        .is_err()
    {
        panic!("Debian's keepalived is not installed (scripts/deps.sh installs it)");
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let lab = Lab::up_ha(&unique_name("d"));
    let (vip, rs1, rs2) = (lab.vip(), lab.rip("rs1"), lab.rip("rs2"));
    let (d1, d2) = (lab.ns("director"), lab.ns("director2"));
    let dir1 = director(&lab, "director", dir);
    let dir2 = director(&lab, "director2", dir);

    // Ours is master on director; Debian's keepalived (VRRP only: no kernel IPVS here) is
    // the backup on director2, whose rvsd is programmed by rvs-keepalived -C.
    let c1 = write_conf(
        dir,
        "d1.conf",
        &conf("MASTER", 100, &vip, [&rs1, &rs2], true),
    );
    let k2 = write_conf(
        dir,
        "k2.conf",
        &conf("BACKUP", 50, &vip, [&rs1, &rs2], false),
    );
    let lvs2 = write_conf(dir, "lvs2.conf", &lvs_conf(&vip, [&rs1, &rs2], 1));
    let mut ka1 = start_ours(&d1, &c1, &dir1.sock, dir, "ka1", &[]);
    let _checks2 = start_ours(&d2, &lvs2, &dir2.sock, dir, "checks2", &["-C"]);
    let mut deb2 = Debian::start(&d2, &k2, dir, "deb2");
    wait_until("VIP on our master", LONG, || has_addr(&d1, &vip));
    wait_until("director2 programmed by -C", LONG, || {
        rvsadm_list(&dir2.sock).contains(&format!("{rs2}:80"))
    });
    wait_until("Debian keepalived is backup", LONG, || {
        deb2.proc.log_text().contains("Entering BACKUP STATE")
    });
    let clients = Clients::start(&lab.ns("client"), &vip, Duration::from_secs(180));
    let t = Instant::now();
    wait_until("clients served", LONG, || {
        clients.since(t).iter().any(|a| a.is_ok())
    });

    ka1.signal(Signal::SIGKILL);
    let killed = Instant::now();
    let _ = ka1.wait_exit(Duration::from_secs(5));
    let to_debian = wait_until("VIP on Debian's director", LONG, || has_addr(&d2, &vip));
    wait_until("clients served through Debian's director", LONG, || {
        clients.since(killed + to_debian).iter().any(|a| a.is_ok())
    });

    // The other way round: Debian's keepalived master on director, ours backup on director2.
    deb2.proc.signal(Signal::SIGTERM);
    let _ = deb2.proc.wait_exit(LONG);
    let _ = support::ns_exec(
        &d1,
        &["ip", "addr", "del", &format!("{vip}/32"), "dev", "eth0"],
    );
    let k1 = write_conf(
        dir,
        "k1.conf",
        &conf("MASTER", 100, &vip, [&rs1, &rs2], false),
    );
    let c2 = write_conf(
        dir,
        "d2.conf",
        &conf("BACKUP", 50, &vip, [&rs1, &rs2], false),
    );
    let ours2 = start_ours(&d2, &c2, &dir2.sock, dir, "ka2", &["-P"]);
    let mut deb1 = Debian::start(&d1, &k1, dir, "deb1");
    wait_until("Debian keepalived master", LONG, || {
        has_addr(&d1, &vip) && deb1.proc.log_text().contains("Entering MASTER STATE")
    });
    wait_until("ours is backup", LONG, || {
        ours2.log_text().contains("Entering BACKUP STATE") && !has_addr(&d2, &vip)
    });
    deb1.crash();
    let to_ours = wait_until("VIP on our director", LONG, || has_addr(&d2, &vip));
    let t = Instant::now();
    wait_until("clients served through our director", LONG, || {
        clients.since(t).iter().any(|a| a.is_ok())
    });
    drop(clients);
    eprintln!(
        "FIGURES interop (advert_int 1): ours master SIGKILLed -> Debian keepalived takes over in {to_debian:?}; \
         Debian keepalived master SIGKILLed -> ours takes over in {to_ours:?}"
    );
}

/// Five SIGHUPs (four weight changes, one broken file) during a wrk run through the VIP:
/// no request fails, only the changed destination is edited. Then rvsd is killed and
/// restarted empty: rvs-keepalived programs it again.
#[test]
fn five_reloads_under_wrk_without_errors() {
    if !root_or_skip("five_reloads_under_wrk_without_errors") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let lab = Lab::up_ha(&unique_name("r"));
    let (vip, rs1, rs2) = (lab.vip(), lab.rip("rs1"), lab.rip("rs2"));
    let d1 = lab.ns("director");
    let dir1 = director(&lab, "director", dir);
    let text =
        |w: u32| conf("MASTER", 100, &vip, [&rs1, &rs2], false) + &lvs_conf(&vip, [&rs1, &rs2], w);
    let c1 = write_conf(dir, "d1.conf", &text(1));
    let ka1 = start_ours(&d1, &c1, &dir1.sock, dir, "ka1", &[]);
    wait_until("VIP", LONG, || has_addr(&d1, &vip));
    wait_until("programmed", LONG, || {
        rvsadm_list(&dir1.sock).contains(&format!("{rs2}:80"))
    });
    let mut wrk = std::process::Command::new("ip");
    wrk.args([
        "netns",
        "exec",
        &lab.ns("client"),
        "wrk",
        "-t1",
        "-c10",
        "-d10s",
        "--timeout",
        "2s",
    ])
    .arg(format!("http://{vip}/"));
    let mut wrk = Proc::spawn(wrk, &dir.join("wrk.out"));
    std::thread::sleep(Duration::from_millis(1000));
    for i in 1..=5u32 {
        if i == 5 {
            fs::write(&c1, "virtual_server {\n").expect("broken conf");
        } else {
            fs::write(&c1, text(1 + i)).expect("conf");
        }
        ka1.signal(Signal::SIGHUP);
        std::thread::sleep(Duration::from_millis(1500));
    }
    assert_eq!(wrk.wait_exit(Duration::from_secs(30)), Some(0), "wrk ran");
    let out = wrk.log_text();
    eprintln!("{out}");
    assert!(out.contains("requests in"), "{out}");
    assert!(
        !out.contains("Socket errors"),
        "errors during reloads: {out}"
    );
    assert!(!out.contains("Non-2xx"), "errors during reloads: {out}");
    let log = ka1.log_text();
    assert_eq!(log.matches("Reload finished").count(), 4, "{log}");
    assert!(log.contains("keeping the running configuration"), "{log}");
    // Each good reload changed rs2's weight and nothing else.
    assert_eq!(log.matches("Updating service").count(), 4, "{log}");
    assert!(!log.contains("Removing"), "{log}");
    let list = rvsadm_list(&dir1.sock);
    assert!(
        list.lines()
            .any(|l| l.contains(&format!("{rs2}:80")) && l.contains(" 5 ")),
        "rs2 has the weight of the last good reload:\n{list}"
    );

    // rvsd dies and comes back empty: rvs-keepalived programs it again.
    let Director { mut rvsd, sock } = dir1;
    rvsd.signal(Signal::SIGKILL);
    let _ = rvsd.wait_exit(LONG);
    let _rvsd = start_rvsd(&d1, &sock, &dir.join("director-rvsd2.log"));
    wait_until("re-programmed after an rvsd restart", LONG, || {
        let l = rvsadm_list(&sock);
        l.contains(&format!("{rs1}:80")) && l.contains(&format!("{rs2}:80"))
    });
    let t = Instant::now();
    let clients = Clients::start(&lab.ns("client"), &vip, Duration::from_secs(60));
    wait_until("served through the new rvsd", LONG, || {
        clients.since(t).iter().any(|a| a.is_ok())
    });
}

/// A reload that changes one VRRP instance (priority, one more VIP) reconfigures it in
/// place and leaves the other alone: neither VIP ever goes, nobody enters MASTER again.
#[test]
fn a_reload_reconfigures_the_changed_vrrp_instance_in_place() {
    if !root_or_skip("a_reload_reconfigures_the_changed_vrrp_instance_in_place") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let lab = Lab::up_ha(&unique_name("v"));
    let d1 = lab.ns("director");
    let vip = lab.vip();
    let vip2 = "198.51.100.20";
    let vip3 = "198.51.100.21";
    let text = |prio2: u8, extra: &str| {
        conf("MASTER", 100, &vip, ["", ""], false)
            + &format!(
                "vrrp_instance VI_2 {{\n    state MASTER\n    interface eth0\n    virtual_router_id 52\n    \
                 priority {prio2}\n    advert_int 1\n    virtual_ipaddress {{\n        {vip2}/32 dev eth0\n{extra}    }}\n}}\n"
            )
    };
    let c1 = write_conf(dir, "d1.conf", &text(100, ""));
    let ka = start_ours(&d1, &c1, &dir.join("none.sock"), dir, "ka", &[]);
    wait_until("both VIPs", LONG, || {
        has_addr(&d1, &vip) && has_addr(&d1, vip2)
    });
    fs::write(&c1, text(120, &format!("        {vip3}/32 dev eth0\n"))).expect("conf");
    ka.signal(Signal::SIGHUP);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        assert!(
            has_addr(&d1, &vip) && has_addr(&d1, vip2),
            "a VIP went away during the reload"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    wait_until("VI_2's new VIP", LONG, || has_addr(&d1, vip3));
    let log = ka.log_text();
    for name in ["VI_1", "VI_2"] {
        assert_eq!(
            log.matches(&format!("({name}) Entering MASTER STATE"))
                .count(),
            1,
            "{log}"
        );
    }
    assert!(
        log.contains("instance:VI_2 changed - reconfigured in place"),
        "{log}"
    );
}
