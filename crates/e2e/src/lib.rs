//! Support for rvs's end-to-end tests: rvsd forwarding for real between the network
//! namespaces of an `rvs lab`, driven by rvsadm, with real peers (curl, nginx, wrk, tcpdump).
//!
//! The tests live in `tests/`; this library holds what they share: the root gate, where the
//! binaries under test are, a [`Lab`] guard that starts rvsd and always cleans up, clients
//! ([`client`]), peers ([`peers`]) and hand-made frames ([`frames`]).
//!
//! The binaries are taken from the target directory next to the test executable
//! (`target/<profile>/rvsd`, `rvsadm`, `rvs`): build them first with `cargo build --bins`.
//!
//! Root only (they skip with a message otherwise, and fail when CI=true or
//! RVS_REQUIRE_ROOT_TESTS=1). `RVS_E2E_LOG=debug` raises rvsd's log level (its log is printed
//! when a test fails); `RVS_E2E_HOLD=SECONDS` keeps a failed test's lab that long to look at.

pub mod client;
pub mod frames;
pub mod lab;
pub mod peers;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};

pub use lab::Lab;

/// Whether root tests may run here; panics when they must (CI=true or
/// RVS_REQUIRE_ROOT_TESTS=1) but cannot.
pub fn root_or_skip(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    let required = std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("RVS_REQUIRE_ROOT_TESTS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{test}: needs root (CI=true or RVS_REQUIRE_ROOT_TESTS=1)"
    );
    eprintln!("skipping {test}: needs root");
    false
}

/// The directory holding the binaries under test: the profile directory of the test
/// executable (`target/debug/deps/e2e-…` → `target/debug`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let deps = exe.parent().expect("the test executable's directory");
    let dir = if deps.file_name() == Some(OsStr::new("deps")) {
        deps.parent().unwrap_or(deps)
    } else {
        deps
    };
    dir.to_path_buf()
}

/// The path of binary `name` under test; panics when it has not been built.
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --bins` first",
        path.display()
    );
    path
}

/// `ip netns exec NS PROGRAM` (iproute2 execs the program: its PID is the child's).
pub fn ns_cmd(ns: &str, program: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns]).arg(program);
    c
}

/// Runs `cmd`, panics with its stderr unless it succeeds, returns its stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `cmd` to completion and returns what it printed.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs `f` on a fresh thread that has entered network namespace `ns`; sockets it creates
/// stay in `ns` and may be returned.
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    let joined = std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
        setns(&file, CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
    .join();
    match joined {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Polls `ready` every 50 ms until it holds; panics with `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    loop {
        if ready() {
            return;
        }
        assert!(
            Instant::now() < end,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
