//! Root tests of `rvs demo`: it must succeed and leave nothing behind, also when interrupted.
//!
//! The demo runs the real rvsd, rvsadm and rvs-keepalived found next to the `rvs` binary:
//! build them first (`cargo build --workspace --bins`). Run as root:
//! `cargo test -p rvs --test demo`. Skips when not root unless CI=true or
//! RVS_REQUIRE_ROOT_TESTS=1.

mod support;

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::{RVS, root_or_skip, unique_name};

/// Namespaces, lab state directories and processes that mention `prefix`.
fn leftovers(prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    let tag = format!("{prefix}-");
    for dir in ["/run/netns", "/run/rvs/lab"] {
        for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&tag) {
                found.push(format!("{dir}/{name}"));
            }
        }
    }
    let me = std::process::id().to_string();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if pid == me || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(raw) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmdline.contains(&tag) {
            found.push(format!("process {pid}: {cmdline}"));
        }
    }
    found
}

/// Removes whatever a failed run left, so one failure does not leak into the machine.
struct Sweep(String);

impl Drop for Sweep {
    fn drop(&mut self) {
        for tag in ["nat", "dr", "tun", "sched", "ha"] {
            let _ = Command::new(RVS)
                .args([
                    "lab",
                    "down",
                    "--name",
                    &format!("{}-{tag}", self.0),
                    "--kill-all",
                ])
                .output();
        }
    }
}

fn demo(prefix: &str, extra: &[&str]) -> std::process::Output {
    Command::new(RVS)
        .args(["demo", "--prefix", prefix])
        .args(extra)
        .output()
        .expect("run rvs demo")
}

fn assert_success(out: &std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn step_one_succeeds_and_leaves_nothing_behind() {
    if !root_or_skip("step_one_succeeds_and_leaves_nothing_behind") {
        return;
    }
    let prefix = unique_name("d");
    let _sweep = Sweep(prefix.clone());
    let out = demo(&prefix, &["--step", "1"]);
    assert_success(&out, "rvs demo --step 1");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Step 1/4"), "{text}");
    assert!(text.contains("rvsadm -L -n --stats"), "{text}");
    assert!(
        !text.lines().any(|l| l.trim_start().starts_with('✘')),
        "a check failed:\n{text}"
    );
    assert_eq!(leftovers(&prefix), Vec::<String>::new());
}

#[test]
fn the_whole_demo_succeeds_and_leaves_nothing_behind() {
    if !root_or_skip("the_whole_demo_succeeds_and_leaves_nothing_behind") {
        return;
    }
    let prefix = unique_name("d");
    let _sweep = Sweep(prefix.clone());
    let out = demo(&prefix, &[]);
    let left = leftovers(&prefix);
    assert_success(&out, "rvs demo");
    assert_eq!(left, Vec::<String>::new());
}

#[test]
fn an_interrupted_demo_removes_everything_and_fails() {
    if !root_or_skip("an_interrupted_demo_removes_everything_and_fails") {
        return;
    }
    let prefix = unique_name("d");
    let _sweep = Sweep(prefix.clone());
    let mut child = Command::new(RVS)
        .args(["demo", "--prefix", &prefix, "--step", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rvs demo");
    let stdout = child.stdout.take().expect("piped stdout");
    // Interrupt once rvsd runs: the lab and a daemon exist, and the requests are ahead.
    let mut seen = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read the demo's output");
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("answers on its socket") {
            kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).expect("SIGINT");
        }
    }
    let end = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the demo") {
            break status;
        }
        assert!(Instant::now() < end, "the demo did not end after SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(seen.contains("answers on its socket"), "{seen}");
    assert!(!status.success(), "an interrupted demo must fail:\n{seen}");
    assert!(seen.contains("interrupted"), "{seen}");
    assert_eq!(leftovers(&prefix), Vec::<String>::new());
}
