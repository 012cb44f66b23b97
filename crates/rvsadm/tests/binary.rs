//! The built binary: invoked through a link named `ipvsadm`, and talking to a server on a
//! Unix socket named by `RVS_SOCKET` (here a thread serving the in-memory backend).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use rvs_api::{MemoryBackend, handle_line};

fn run(exe: &Path, args: &[&str], socket: &Path, stdin: &str) -> Output {
    let mut child = Command::new(exe)
        .args(args)
        .env("RVS_SOCKET", socket)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn link_named_ipvsadm_prints_its_own_name() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("ipvsadm");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_rvsadm"), &link).unwrap();
    let out = run(&link, &["-h"], &dir.path().join("none.sock"), "");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\nUsage:\n")
    );
    assert!(
        text.contains(&format!("\n  {} -D virtual-service\n", link.display())),
        "{text}"
    );

    let out = run(&link, &["-L", "-n"], &dir.path().join("none.sock"), "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("Can't initialize ipvs: No such file or directory\n"),
        "{err}"
    );
}

#[test]
fn talks_to_a_server_on_rvs_socket() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("rvsd.sock");
    let listener = UnixListener::bind(&socket).unwrap();
    const RUNS: usize = 5;
    let server = std::thread::spawn(move || {
        let mut backend = MemoryBackend::new();
        for _ in 0..RUNS {
            let (stream, _) = listener.accept().unwrap();
            let mut writer = stream.try_clone().unwrap();
            for line in BufReader::new(stream).lines() {
                writeln!(writer, "{}", handle_line(&mut backend, &line.unwrap())).unwrap();
            }
        }
    });
    let exe = Path::new(env!("CARGO_BIN_EXE_rvsadm"));
    let rules = "-A -t 198.51.100.1:80 -s rr\n-a -t 198.51.100.1:80 -r 203.0.113.10:8080 -m -w 2\n";
    assert_eq!(run(exe, &["-R"], &socket, rules).status.code(), Some(0));
    let saved = run(exe, &["-S", "-n"], &socket, "");
    assert_eq!(String::from_utf8(saved.stdout.clone()).unwrap(), rules);
    assert_eq!(run(exe, &["-C"], &socket, "").status.code(), Some(0));
    let restored = run(
        exe,
        &["-R"],
        &socket,
        &String::from_utf8(saved.stdout.clone()).unwrap(),
    );
    assert_eq!(
        restored.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let again = run(exe, &["-S", "-n"], &socket, "");
    assert_eq!(again.stdout, saved.stdout);
    server.join().unwrap();
}
