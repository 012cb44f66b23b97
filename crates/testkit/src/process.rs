//! Running commands for the tests: shell snippets, commands inside a namespace, and the
//! binaries under test next to the test executable.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `cmd` to completion and returns what it printed; panics when it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs `cmd`, panics with its output unless it succeeds, returns its stdout.
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

/// Runs a shell snippet (`sh -c`), panicking with its output on failure.
pub fn sh(script: &str) {
    run_ok(Command::new("sh").arg("-c").arg(script));
}

/// Runs a shell snippet (`sh -c`); whether it succeeded.
pub fn sh_ok(script: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `ip netns exec NS PROGRAM` (iproute2 execs the program: its PID is the child's).
pub fn ns_cmd(ns: &str, program: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns]).arg(program);
    c
}

/// Runs `ip netns exec NS ARGS...` to completion and returns what it printed.
pub fn ns_exec(ns: &str, args: &[&str]) -> Output {
    let (program, rest) = args.split_first().expect("a program to run");
    run(ns_cmd(ns, program).args(rest))
}

/// The directory holding the binaries under test: the profile directory of the test
/// executable (`target/debug/deps/t-…` → `target/debug`).
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
