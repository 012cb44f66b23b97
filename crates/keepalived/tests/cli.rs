//! The binary's command line without root: `-t` exit codes, `-v`, `-h`, bad options, and
//! the background start with its PID file and a clean SIGTERM stop.

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rvs-keepalived");

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN).args(args).output().expect("run");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn config_test_exit_codes_are_keepalived_s() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.conf");
    fs::write(
        &good,
        "virtual_server 127.0.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n real_server 127.0.0.1 8080 {\n }\n}\n",
    )
    .unwrap();
    assert_eq!(run(&["-t", "-f", good.to_str().unwrap()]).0, 0);

    let bad = dir.path().join("bad.conf");
    fs::write(&bad, "global_defs {\n  no_such_keyword 1\n}\n").unwrap();
    let (code, text) = run(&["-t", "-f", bad.to_str().unwrap()]);
    assert_eq!(code, 5, "{text}");
    assert!(text.contains("no_such_keyword"), "{text}");

    let out = dir.path().join("diag.txt");
    let arg = format!("--config-test={}", out.display());
    assert_eq!(run(&[&arg, "-f", bad.to_str().unwrap()]).0, 5);
    assert!(
        fs::read_to_string(&out)
            .unwrap()
            .contains("no_such_keyword")
    );

    let missing = dir.path().join("missing.conf");
    assert_eq!(run(&["-t", "-f", missing.to_str().unwrap()]).0, 4);
}

#[test]
fn version_help_and_bad_options() {
    let (code, text) = run(&["-v"]);
    assert_eq!(code, 0);
    assert!(text.contains("rvs-keepalived"));
    let (code, text) = run(&["-h"]);
    assert_eq!(code, 0);
    assert!(text.contains("--use-file"));
    assert_eq!(run(&["--no-such-option"]).0, 3);
}

#[test]
fn a_config_with_errors_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conf");
    fs::write(&bad, "vrrp_instance VI_1 {\n  priority abc\n").unwrap();
    let pid = dir.path().join("k.pid");
    let (code, text) = run(&[
        "-n",
        "-f",
        bad.to_str().unwrap(),
        "-p",
        pid.to_str().unwrap(),
    ]);
    assert_eq!(code, 4, "{text}");
    assert!(!pid.exists());
}

#[test]
fn starts_in_the_background_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    // No VRRP and one virtual server on loopback: runs without root and sends nothing out.
    let conf = dir.path().join("k.conf");
    fs::write(
        &conf,
        "virtual_server 127.0.0.1 80 {\n protocol TCP\n delay_loop 1\n real_server 127.0.0.1 9 {\n  TCP_CHECK {\n  }\n }\n}\n",
    )
    .unwrap();
    let pid_file = dir.path().join("k.pid");
    let log = dir.path().join("k.log");
    let out = Command::new(BIN)
        .args([
            "-f",
            conf.to_str().unwrap(),
            "-p",
            pid_file.to_str().unwrap(),
        ])
        .args(["-G", "-g", log.to_str().unwrap()])
        .env("RVS_SOCKET", dir.path().join("no-rvsd.sock"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let pid: i32 = fs::read_to_string(&pid_file)
        .expect("pid file written before the launcher exits")
        .trim()
        .parse()
        .unwrap();
    assert_ne!(pid as u32, std::process::id());
    assert!(
        fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "rvs-keepalived")
    );
    // A second start sees the running daemon and leaves it alone.
    let (code, _) = run(&[
        "-n",
        "-G",
        "-f",
        conf.to_str().unwrap(),
        "-p",
        pid_file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while pid_file.exists() {
        assert!(Instant::now() < deadline, "daemon did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = fs::read_to_string(&log).unwrap();
    assert!(text.contains("cannot reach rvsd"), "{text}");
    assert!(text.contains("Stopped rvs-keepalived"), "{text}");
}
