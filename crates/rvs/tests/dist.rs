//! The files in `dist/`: the rvsadm bash completion parses and completes what rvsadm takes;
//! the systemd units carry the settings the operator guide promises.
//!
//! Needs bash (skips with a message without it); no root.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn completion() -> PathBuf {
    repo().join("dist/completion/rvsadm.bash")
}

fn have_bash() -> bool {
    Command::new("bash").arg("-c").arg("true").output().is_ok()
}

/// Sources the completion script, sets COMP_WORDS/COMP_CWORD and prints COMPREPLY.
fn complete(words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _rvsadm; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        completion().display(),
        quoted.join(" "),
        words.len() - 1
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "completion failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_completion_script_parses() {
    if !have_bash() {
        eprintln!("skipping: no bash");
        return;
    }
    let out = Command::new("bash")
        .arg("-n")
        .arg(completion())
        .output()
        .expect("run bash -n");
    assert!(
        out.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn commands_options_schedulers_and_flags_are_completed() {
    if !have_bash() {
        eprintln!("skipping: no bash");
        return;
    }
    assert_eq!(
        complete(&["rvsadm", "--ad"]),
        ["--add-service", "--add-server"]
    );
    assert_eq!(
        complete(&["rvsadm", "-A", "-t", "198.51.100.10:80", "-s", "w"]),
        ["wrr", "wlc"]
    );
    assert_eq!(
        complete(&[
            "rvsadm",
            "-a",
            "-t",
            "198.51.100.10:80",
            "-r",
            "198.51.100.11",
            "--ma"
        ]),
        ["--masquerading"]
    );
    assert_eq!(
        complete(&[
            "rvsadm",
            "-A",
            "-t",
            "x:80",
            "-s",
            "sh",
            "-b",
            "sh-fallback,sh-p"
        ]),
        ["sh-fallback,sh-port"]
    );
    // Every forwarding flag is offered.
    let opts = complete(&["rvsadm", "-a", "-"]);
    for flag in ["-g", "-i", "-m", "--gatewaying", "--ipip", "--masquerading"] {
        assert!(
            opts.iter().any(|o| o == flag),
            "{flag} missing from {opts:?}"
        );
    }
}

#[test]
fn the_completed_schedulers_are_the_ones_rvs_knows() {
    if !have_bash() {
        eprintln!("skipping: no bash");
        return;
    }
    let mut completed = complete(&["rvsadm", "-A", "-t", "x:80", "-s", ""]);
    completed.sort();
    let mut known: Vec<String> = rvs_kaconf::SCHEDULERS
        .iter()
        .map(|s| s.to_string())
        .collect();
    known.sort();
    assert_eq!(completed, known);
}

#[test]
fn services_and_real_servers_come_from_the_running_rules() {
    if !have_bash() {
        eprintln!("skipping: no bash");
        return;
    }
    // A stand-in rvsadm that prints `-S -n` output, as a running rvsd would give.
    let dir = std::env::temp_dir().join(format!("rvs-completion-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("temp dir");
    let fake = dir.join("rvsadm");
    fs::write(
        &fake,
        "#!/bin/sh\ncat <<'EOF'\n-A -t 198.51.100.10:80 -s wrr\n\
         -a -t 198.51.100.10:80 -r 198.51.100.11:80 -m -w 1\n\
         -a -t 198.51.100.10:80 -r 198.51.100.12:80 -m -w 1\n\
         -A -u 198.51.100.10:53 -s rr\n\
         -a -u 198.51.100.10:53 -r 198.51.100.13:53 -g -w 1\nEOF\n",
    )
    .expect("write the stand-in");
    let status = Command::new("chmod")
        .arg("755")
        .arg(&fake)
        .status()
        .expect("chmod");
    assert!(status.success());
    let prog = fake.display().to_string();
    let services = complete(&[&prog, "-e", "-t", ""]);
    let udp = complete(&[&prog, "-D", "-u", ""]);
    let reals = complete(&[&prog, "-d", "-t", "198.51.100.10:80", "-r", ""]);
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(services, ["198.51.100.10:80"]);
    assert_eq!(udp, ["198.51.100.10:53"]);
    assert_eq!(reals, ["198.51.100.11:80", "198.51.100.12:80"]);
}

fn unit(name: &str) -> String {
    fs::read_to_string(repo().join("dist/systemd").join(name)).expect("read the unit")
}

fn value<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

#[test]
fn the_systemd_units_say_what_the_guide_promises() {
    let rvsd = unit("rvsd.service");
    assert_eq!(
        value(&rvsd, "ExecStart"),
        ["/usr/local/sbin/rvsd --interface eth0 --state /var/lib/rvs/rvsd.state"]
    );
    assert_eq!(value(&rvsd, "Restart"), ["on-failure"]);
    assert_eq!(value(&rvsd, "RuntimeDirectory"), ["rvs"]);
    for cap in [
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_BPF",
        "CAP_SYS_ADMIN",
        "CAP_IPC_LOCK",
    ] {
        assert!(
            value(&rvsd, "AmbientCapabilities")
                .first()
                .is_some_and(|v| v.split_whitespace().any(|c| c == cap)),
            "{cap}"
        );
    }
    let ka = unit("rvs-keepalived.service");
    assert!(
        value(&ka, "After")
            .iter()
            .any(|v| v.contains("rvsd.service"))
    );
    assert_eq!(value(&ka, "ExecReload"), ["/bin/kill -HUP $MAINPID"]);
    assert!(value(&ka, "ExecStart")[0].contains("--dont-fork"));
    // systemd's own check, where it exists: no unknown keys or bad values (the binaries
    // themselves are not installed here, which it also reports).
    if let Ok(out) = Command::new("systemd-analyze")
        .arg("verify")
        .arg(repo().join("dist/systemd/rvsd.service"))
        .arg(repo().join("dist/systemd/rvs-keepalived.service"))
        .output()
    {
        let text = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            assert!(
                !["Unknown", "Invalid", "Failed to parse", "bad"]
                    .iter()
                    .any(|w| line.contains(w)),
                "systemd-analyze: {line}"
            );
        }
    }
}
