//! Root smoke test of `rvs bench`: its quickest configuration (1 repetition of 2 s, the
//! direct path and rvsd NAT) produces figures and leaves no namespace, state or process.
//!
//! Run as root: `cargo build --workspace --bins && cargo test -p rvs --test bench`. Skips when
//! not root unless CI=true or RVS_REQUIRE_ROOT_TESTS=1. Speed is not asserted: only that the
//! harness measured something and cleaned up.

mod support;

use std::fs;
use std::path::Path;

use serde_json::Value;
use support::{Downer, RVS, root_or_skip, rvs, unique_name};

/// Processes whose command line mentions `needle` (the run's lab prefix).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(raw) = fs::read(entry.path().join("cmdline")) {
            let line = String::from_utf8_lossy(&raw).replace('\0', " ");
            if line.contains(needle) {
                found.push(format!("{}: {line}", name.to_string_lossy()));
            }
        }
    }
    found
}

fn ok<'a>(run: &'a Value, figure: &str) -> Option<&'a Value> {
    run.get(figure)?.get("Ok")
}

#[test]
fn quick_bench_measures_direct_and_rvsd_nat_and_cleans_up() {
    if !root_or_skip("quick_bench_measures_direct_and_rvsd_nat_and_cleans_up") {
        return;
    }
    let prefix = unique_name("b");
    // Removes the lab if the benchmark itself failed to (a panic below included).
    let _guard = Downer(format!("{prefix}-nat"));
    let json = std::env::temp_dir().join(format!("{prefix}.json"));
    let json_arg = json.display().to_string();
    let out = rvs(&[
        "bench",
        "--reps",
        "1",
        "--duration",
        "2",
        "--udp-duration",
        "1",
        "--idle",
        "1",
        "--only",
        "direct,rvsd-nat",
        "--name",
        &prefix,
        "--json",
        &json_arg,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "rvs bench failed:\n{stderr}\n{stdout}"
    );
    let report: Value = serde_json::from_str(&fs::read_to_string(&json).expect("--json file"))
        .expect("--json is JSON");
    let _ = fs::remove_file(&json);

    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2, "one run per path: {runs:?}");
    let find = |name: &str| {
        runs.iter()
            .find(|r| r["path"] == name)
            .unwrap_or_else(|| panic!("no {name} run"))
    };
    let direct = find("direct");
    for figure in ["keepalive", "close"] {
        let s = ok(direct, figure).unwrap_or_else(|| panic!("direct {figure}: {direct}"));
        assert!(s["wrk"]["requests"].as_u64().unwrap() > 0, "{s}");
        assert!(s["wrk"]["rps"].as_f64().unwrap() > 0.0, "{s}");
        assert!(s["cpu_us_per_req"].as_f64().unwrap() > 0.0, "{s}");
    }
    let udp = ok(direct, "udp").unwrap_or_else(|| panic!("direct udp: {direct}"));
    assert!(udp["received"].as_u64().unwrap() > 0, "{udp}");

    // rvsd NAT: figures when rvsd was built next to rvs (CI builds every binary first);
    // otherwise the row must carry the reason.
    let nat = find("rvsd-nat");
    if Path::new(RVS).with_file_name("rvsd").exists() {
        let ka = ok(nat, "keepalive").unwrap_or_else(|| panic!("rvsd-nat keep-alive: {nat}"));
        assert!(ka["wrk"]["rps"].as_f64().unwrap() > 0.0, "{ka}");
        assert!(report["idle_pct"].as_f64().is_some(), "rvsd idle measured");
    } else {
        let err = nat["keepalive"]["Err"].as_str().expect("a reason");
        assert!(!err.is_empty());
    }
    assert!(stdout.contains("| direct "), "{stdout}");
    assert!(stdout.contains("Targets (issue 7)"), "{stdout}");

    // Nothing left: namespaces, state, work directory, processes.
    let leftover: Vec<String> = fs::read_dir("/run/netns")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{prefix}-")))
        .collect();
    assert!(leftover.is_empty(), "namespaces left: {leftover:?}");
    assert!(!Path::new(&format!("/run/rvs/lab/{prefix}-nat")).exists());
    assert!(!Path::new(&format!("/run/rvs/bench/{prefix}")).exists());
    let procs = processes_mentioning(&prefix);
    assert!(procs.is_empty(), "processes left: {procs:?}");
    assert!(!stderr.contains("had to kill a leftover"), "{stderr}");
}
