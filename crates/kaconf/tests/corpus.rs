//! Corpus tests: every `tests/corpus/*.conf` is checked against keepalived's recorded
//! verdict (`*.expected`, made by `tests/oracle.sh` with the real keepalived) and our
//! rendered diagnostics are compared with the golden `*.rvs` files.
//!
//! `UPDATE_GOLDEN=1 cargo test -p rvs-kaconf --test corpus` rewrites the `*.rvs` files.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rvs_kaconf::{CheckOptions, parse_file};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn configs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(corpus_dir())
        .expect("corpus dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    v.sort();
    assert!(v.len() >= 20, "corpus has only {} configs", v.len());
    v
}

/// The options the oracle ran with: config-id lb1; eth0 exists.
fn opts() -> CheckOptions {
    CheckOptions {
        config_id: Some("lb1".into()),
        interfaces: Some(HashSet::from(["lo".to_string(), "eth0".to_string()])),
    }
}

fn expected_exit(conf: &Path) -> i32 {
    let exp = conf.with_extension("expected");
    let text = fs::read_to_string(&exp)
        .unwrap_or_else(|e| panic!("{}: {e} (run tests/oracle.sh)", exp.display()));
    let first = text.lines().next().unwrap_or_default();
    first
        .strip_prefix("exit ")
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{}: first line must be 'exit N'", exp.display()))
}

fn rendered(conf: &Path) -> (String, i32, bool) {
    let p = parse_file(conf, &opts());
    let prefix = format!("{}/", corpus_dir().display());
    let text = p.render().replace(&prefix, "");
    (text, p.exit_code(), p.has_errors())
}

#[test]
fn verdicts_match_keepalived() {
    let mut failures = Vec::new();
    for conf in configs() {
        let want = expected_exit(&conf);
        let (text, got, _) = rendered(&conf);
        if want != got {
            failures.push(format!(
                "{}: keepalived exit {want}, ours {got}\n{text}",
                conf.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn diagnostics_match_golden() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for conf in configs() {
        let (text, code, errors) = rendered(&conf);
        let body = format!(
            "exit {code}{}\n{text}",
            if errors {
                " (rvs-keepalived refuses to start)"
            } else {
                ""
            }
        );
        let golden = conf.with_extension("rvs");
        if update {
            fs::write(&golden, &body).expect("write golden");
            continue;
        }
        let want = fs::read_to_string(&golden).unwrap_or_default();
        if want != body {
            failures.push(format!(
                "--- {}\n+++ ours\n{body}\n--- golden was\n{want}",
                golden.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(UPDATE_GOLDEN=1 to accept)",
        failures.join("\n")
    );
}

#[test]
fn misnested_seed_gives_one_error_with_the_fix() {
    let p = parse_file(&corpus_dir().join("seed_misnested.conf"), &opts());
    let errors: Vec<_> = p.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{}", p.render());
    let d = errors[0];
    let span = d.span.as_ref().expect("positioned");
    assert_eq!((span.line, span.column), (12, 5));
    assert!(d.message.contains("'virtual_server'") && d.message.contains("vrrp_instance"));
    assert!(d.help.as_deref().unwrap_or("").contains("top level"));
    // Nothing inside the misplaced block is reported again.
    assert!(!p.render().contains("lb_algo"), "{}", p.render());
    assert_eq!(p.exit_code(), 5);
}

#[test]
fn seed_full_types_the_service() {
    let p = parse_file(&corpus_dir().join("seed_full.conf"), &opts());
    assert!(p.diagnostics.is_empty(), "{}", p.render());
    let c = &p.config;
    let vi = &c.vrrp_instances[0];
    assert_eq!(
        (vi.virtual_router_id, vi.priority, vi.version),
        (51, 100, 2)
    );
    assert_eq!(vi.state, rvs_kaconf::VrrpState::Master);
    assert_eq!(
        vi.authentication.as_ref().map(|a| a.pass.clone()),
        Some(b"1111".to_vec())
    );
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.scheduler, "rr");
    assert_eq!(vs.method, rvs_kaconf::ForwardingMethod::Dr);
    assert_eq!(vs.protocol, rvs_kaconf::Protocol::Tcp);
    assert_eq!(vs.real_servers.len(), 2);
    let ck = &vs.real_servers[0].checkers[0];
    // "connect_timeout 10 nb_get_retry 3" on one line: keepalived reads only connect_timeout.
    assert_eq!(ck.timing.connect_timeout.as_secs(), 10);
    assert_eq!(ck.timing.retry, 1);
    assert_eq!(ck.timing.delay_loop.as_secs(), 60);
}

fn keepalived_installed() -> bool {
    Command::new("keepalived").arg("-v").output().is_ok()
}

/// Re-runs the real keepalived on the corpus and compares with the recorded verdicts. It runs
/// in a namespace of its own holding exactly the interfaces the verdicts were recorded with
/// (`lo` and `eth0`), so the host's interfaces do not matter.
#[test]
fn live_oracle_agrees_with_recorded_verdicts() {
    if !keepalived_installed() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "keepalived is not installed but CI=true: install it (apt-get install -y keepalived)"
            );
        }
        eprintln!("skipping live oracle test: keepalived not installed");
        return;
    }
    if !rvs_testkit::root_or_skip("live_oracle_agrees_with_recorded_verdicts") {
        return;
    }
    let ns = rvs_testkit::NetNs::unique("rvskac", "oracle");
    // No addresses: `keepalived -t` only asks whether the interface exists.
    ns.veth_pair("eth0", "kac1");
    let mut failures = Vec::new();
    for conf in configs() {
        let name = conf.file_name().expect("name").to_owned();
        let out = rvs_testkit::run(
            rvs_testkit::ns_cmd(ns.name(), "keepalived")
                .args(["-t", "-i", "lb1", "-f"])
                .arg(&name)
                .current_dir(corpus_dir()),
        );
        let live = out.status.code().unwrap_or(-1);
        let (_, ours, _) = rendered(&conf);
        if live != expected_exit(&conf) || live != ours {
            failures.push(format!(
                "{}: live keepalived {live}, recorded {}, ours {ours}\n{}",
                conf.display(),
                expected_exit(&conf),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
