//! Lab figures for BENCHMARKS.md, with Debian's keepalived measured in the same run:
//!
//! * VIP takeover after SIGKILL of the master (backup = rvs-keepalived vs backup =
//!   keepalived; advert_int 1, so the RFC bound is 3 × 1 s + skew (256 − 50)/256 s);
//! * planned stop (SIGTERM, priority-0 advert) handover, both daemons;
//! * dead real server removal (rvs-keepalived only: keepalived cannot program rvsd).
//!
//! `cargo bench -p rvs-keepalived --bench failover` as root after
//! `cargo build --workspace --bins`; `RVS_FAILOVER_RUNS` sets the runs per figure (5).
//! Times are from the signal to the first 10 ms poll that sees the change.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use support::*;

const LONG: Duration = Duration::from_secs(30);

/// Polls every 10 ms; the time until `f` held.
fn time_until(what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < LONG, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

fn stats(name: &str, v: &[Duration]) -> String {
    let mut s: Vec<f64> = v.iter().map(Duration::as_secs_f64).collect();
    s.sort_by(f64::total_cmp);
    let mean = s.iter().sum::<f64>() / s.len().max(1) as f64;
    format!(
        "{name:<58} n={} min {:.3} s  median {:.3} s  mean {:.3} s  max {:.3} s",
        s.len(),
        s.first().copied().unwrap_or(0.0),
        s.get(s.len() / 2).copied().unwrap_or(0.0),
        mean,
        s.last().copied().unwrap_or(0.0)
    )
}

/// Which daemon runs a director.
#[derive(Clone, Copy, PartialEq)]
enum Impl {
    Ours,
    Debian,
}

enum Running {
    Ours(Proc),
    Debian(Debian),
}

impl Running {
    fn start(i: Impl, ns: &str, conf: &Path, sock: &Path, dir: &Path, tag: &str) -> Running {
        match i {
            Impl::Ours => Running::Ours(start_ours(ns, conf, sock, dir, tag, &["-P"])),
            Impl::Debian => Running::Debian(Debian::start(ns, conf, dir, tag)),
        }
    }

    fn log(&self) -> String {
        match self {
            Running::Ours(p) => p.log_text(),
            Running::Debian(d) => d.proc.log_text(),
        }
    }

    fn crash(&mut self) {
        match self {
            Running::Ours(p) => {
                p.signal(Signal::SIGKILL);
                let _ = p.wait_exit(LONG);
            }
            Running::Debian(d) => d.crash(),
        }
    }

    fn stop(&mut self) {
        match self {
            Running::Ours(p) => p.signal(Signal::SIGTERM),
            Running::Debian(d) => {
                // keepalived's parent forwards SIGTERM to its VRRP child.
                d.proc.signal(Signal::SIGTERM)
            }
        }
    }
}

/// One failover: master (priority 100) on director, backup (50) on director2; returns the
/// time from the master's end to the VIP on director2.
fn failover(
    lab: &Lab,
    dir: &Path,
    sock: &Path,
    master: Impl,
    backup: Impl,
    planned: bool,
    n: usize,
) -> Duration {
    let (vip, rs1, rs2) = (lab.vip(), lab.rip("rs1"), lab.rip("rs2"));
    let (d1, d2) = (lab.ns("director"), lab.ns("director2"));
    for ns in [&d1, &d2] {
        let _ = ns_exec(
            ns,
            &["ip", "addr", "del", &format!("{vip}/32"), "dev", "eth0"],
        );
    }
    let c1 = dir.join(format!("m{n}.conf"));
    let c2 = dir.join(format!("b{n}.conf"));
    std::fs::write(&c1, conf("MASTER", 100, &vip, [&rs1, &rs2], false)).expect("conf");
    std::fs::write(&c2, conf("BACKUP", 50, &vip, [&rs1, &rs2], false)).expect("conf");
    let mut b = Running::start(backup, &d2, &c2, sock, dir, &format!("b{n}"));
    let mut m = Running::start(master, &d1, &c1, sock, dir, &format!("m{n}"));
    time_until("master", || {
        has_addr(&d1, &vip) && m.log().contains("Entering MASTER STATE")
    });
    time_until("backup", || {
        b.log().contains("Entering BACKUP STATE") && !has_addr(&d2, &vip)
    });
    // Let a few adverts pass so the backup's timer is in its steady state.
    std::thread::sleep(Duration::from_millis(2500));
    if planned {
        m.stop();
    } else {
        m.crash();
    }
    let t = time_until("VIP on the backup", || has_addr(&d2, &vip));
    drop(m);
    b.stop();
    drop(b);
    t
}

fn main() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("failover bench: needs root, skipped");
        return;
    }
    let runs: usize = std::env::var("RVS_FAILOVER_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let lab = Lab::up_ha(&unique_name("b"));
    // VRRP only: no rvsd needed for the takeover figures.
    let nosock = dir.join("none.sock");
    let mut lines = Vec::new();
    for (name, master, backup, planned) in [
        (
            "takeover after SIGKILL, rvs-keepalived backup (ours master)",
            Impl::Ours,
            Impl::Ours,
            false,
        ),
        (
            "takeover after SIGKILL, keepalived backup (keepalived master)",
            Impl::Debian,
            Impl::Debian,
            false,
        ),
        (
            "takeover after SIGKILL, rvs-keepalived backup (keepalived master)",
            Impl::Debian,
            Impl::Ours,
            false,
        ),
        (
            "planned stop handover, rvs-keepalived -> rvs-keepalived",
            Impl::Ours,
            Impl::Ours,
            true,
        ),
        (
            "planned stop handover, keepalived -> keepalived",
            Impl::Debian,
            Impl::Debian,
            true,
        ),
    ] {
        let v: Vec<Duration> = (0..runs)
            .map(|i| failover(&lab, dir, &nosock, master, backup, planned, i))
            .collect();
        let line = stats(name, &v);
        eprintln!("{line}");
        lines.push(line);
    }

    // Dead real server removal: delay_loop 1, connect_timeout 1, with retry 1 (+ 1 s before
    // the retry) as in the tests, and with retry 0, where the bound
    // delay_loop + connect_timeout applies as such.
    let (vip, rs1, rs2) = (lab.vip(), lab.rip("rs1"), lab.rip("rs2"));
    let d1 = lab.ns("director");
    let sock = dir.join("rvsd.sock");
    let _rvsd = start_rvsd(&d1, &sock, &dir.join("rvsd.log"));
    let rs1_in = || rvsadm_list(&sock).contains(&format!("{rs1}:80"));
    for (retry, bound, conf_name) in [
        (1, "bound 1 + 1 x (1 + 1) + 1 = 4 s", "lvs.conf"),
        (
            0,
            "bound delay_loop + connect_timeout = 2 s",
            "lvs-retry0.conf",
        ),
    ] {
        let c = dir.join(conf_name);
        let mut conf = lvs_conf(&vip, [&rs1, &rs2], 1);
        if retry == 0 {
            conf = conf.replace("retry 1\n", "retry 0\n");
        }
        std::fs::write(&c, conf).expect("conf");
        let ka = start_ours(&d1, &c, &sock, dir, &format!("lvs{retry}"), &["-C"]);
        time_until("programmed", rs1_in);
        let mut removal = Vec::new();
        for _ in 0..runs {
            // Stop right after a check passed is the worst case; we stop at a random phase.
            lab.stop_server("rs1");
            let t = Instant::now();
            while rs1_in() {
                assert!(t.elapsed() < LONG, "rs1 not removed");
                std::thread::sleep(Duration::from_millis(50));
            }
            removal.push(t.elapsed());
            lab.start_server("rs1");
            time_until("rs1 back", rs1_in);
        }
        drop(ka);
        let line = stats(
            &format!("dead real server out of rvsd, retry {retry} ({bound})"),
            &removal,
        );
        eprintln!("{line}");
        lines.push(line);
    }
    println!("{}", lines.join("\n"));
}
