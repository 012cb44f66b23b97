//! Test helpers: run rvsadm in-process against a target (an in-memory backend, or any rvsd
//! socket named by `RVSADM_TEST_SOCKET`), record transcripts, and compare them with golden
//! files under `tests/golden/` (`UPDATE_GOLDEN=1` rewrites them).
//!
//! The `live_rvsd` test runs the same cases against a real rvsd it starts in a network
//! namespace of its own ([`live`]). By hand, against an rvsd already running:
//! `RVSADM_TEST_SOCKET=/path/rvsd.sock cargo test -p rvsadm --test cli_golden --test
//! errors_golden -- --test-threads=1` (the cases share rvsd's table, so they must not run in
//! parallel; each starts with `-C` and `--set 900 120 300`).

#![allow(dead_code)]

pub mod cases;
pub mod live;

use std::cell::RefCell;
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rvs_api::{MemoryBackend, Transport, UnixTransport, handle_line};
use rvsadm::{Context, TableNames, run};

/// The hosts table used when names are resolved (`-L` without `-n`).
pub const HOSTS: &str = "\
203.0.113.10 web1.example.com web1
203.0.113.11 web2.example.com
198.51.100.1 vip.example.com vip
198.51.100.2 a-very-long-host-name-for-the-virtual-service.example.com
2001:db8::80 vip6.example.com
2001:db8::a0 rs6.example.com
";

/// The services table used when names are resolved.
pub const SERVICES: &str = "\
ftp 21/tcp
ssh 22/tcp
domain 53/tcp
domain 53/udp
http 80/tcp www
https 443/tcp
https 443/udp
sip 5060/sctp
";

/// An in-memory backend shared between runs (each run opens a new "connection").
#[derive(Clone, Default)]
pub struct Shared(pub Rc<RefCell<MemoryBackend>>);

impl Transport for Shared {
    fn exchange(&mut self, request: &str) -> io::Result<String> {
        Ok(handle_line(&mut *self.0.borrow_mut(), request))
    }
}

/// Where the commands go.
pub enum Target {
    /// An in-memory backend.
    Memory(Shared),
    /// A running rvsd.
    Socket(PathBuf),
}

/// What one run printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// Runs rvsadm command lines against one target.
pub struct Harness {
    pub target: Target,
    pub names: TableNames,
    pub prog: String,
}

impl Harness {
    /// A fresh in-memory backend.
    pub fn memory() -> Self {
        Harness {
            target: Target::Memory(Shared::default()),
            names: TableNames::new(HOSTS, SERVICES),
            prog: "rvsadm".into(),
        }
    }

    /// A real rvsd at `socket`, its table cleared and its timeouts back to the defaults
    /// (what a fresh in-memory backend has).
    pub fn socket(socket: impl Into<PathBuf>) -> Self {
        let mut h = Harness::memory();
        h.target = Target::Socket(socket.into());
        let reset = h.run("-C", "");
        assert_eq!(reset.code, 0, "cannot clear the table: {reset:?}");
        let reset = h.run("--set 900 120 300", "");
        assert_eq!(reset.code, 0, "cannot reset timeouts: {reset:?}");
        h
    }

    /// `RVSADM_TEST_SOCKET` if set (a real rvsd; the table is cleared first), else memory.
    pub fn from_env() -> Self {
        match std::env::var_os("RVSADM_TEST_SOCKET") {
            Some(p) if !p.is_empty() => Harness::socket(p),
            _ => Harness::memory(),
        }
    }

    /// Whether the target is the in-memory backend.
    pub fn is_memory(&self) -> bool {
        matches!(self.target, Target::Memory(_))
    }

    /// The in-memory backend (panics for a socket target).
    pub fn backend(&self) -> Rc<RefCell<MemoryBackend>> {
        match &self.target {
            Target::Memory(s) => s.0.clone(),
            Target::Socket(_) => panic!("not an in-memory target"),
        }
    }

    /// Run one command line (words split on blanks) with `stdin`.
    pub fn run(&mut self, line: &str, stdin: &str) -> Outcome {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        self.run_argv(&args, stdin)
    }

    /// Run one command line given as words (without the program name).
    pub fn run_argv(&mut self, args: &[String], stdin: &str) -> Outcome {
        let mut argv = vec![self.prog.clone()];
        argv.extend_from_slice(args);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut input = stdin.as_bytes();
        let mut connect = || -> io::Result<Box<dyn Transport>> {
            match &self.target {
                Target::Memory(s) => Ok(Box::new(s.clone())),
                Target::Socket(p) => Ok(Box::new(UnixTransport::connect(p)?)),
            }
        };
        let code = {
            let mut ctx = Context::new(
                &mut out,
                &mut err,
                &mut input,
                &self.names,
                "/run/rvs/rvsd.sock",
                &mut connect,
            );
            run(&mut ctx, &argv)
        };
        Outcome {
            stdout: String::from_utf8(out).unwrap(),
            stderr: String::from_utf8(err).unwrap(),
            code,
        }
    }
}

/// Append a run to a transcript: the command, stdout lines as `| `, stderr lines as `! `,
/// the exit status as `= `.
pub fn record(t: &mut String, prog: &str, line: &str, stdin: &str, o: &Outcome) {
    t.push_str(&format!("$ {prog} {line}\n"));
    for l in stdin.lines() {
        t.push_str(&format!("< {l}\n"));
    }
    for (prefix, text) in [("| ", &o.stdout), ("! ", &o.stderr)] {
        for l in text.split_inclusive('\n') {
            match l.strip_suffix('\n') {
                Some(body) => t.push_str(&format!("{prefix}{body}\n")),
                None => t.push_str(&format!("{prefix}{l}\\ (no newline at end)\n")),
            }
        }
    }
    t.push_str(&format!("= {}\n", o.code));
}

/// The path of golden file `name` (relative to `tests/golden/`).
pub fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compare `actual` with the golden file `tests/golden/<name>` byte for byte, or write it
/// when `UPDATE_GOLDEN=1`.
pub fn golden(name: &str, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        let path = golden_path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    if let Err(e) = golden_matches(name, actual) {
        panic!("{e}");
    }
}

/// Compare `actual` with the golden file `tests/golden/<name>` byte for byte (never writes
/// it); the error describes the first differences.
pub fn golden_matches(name: &str, actual: &str) -> Result<(), String> {
    let path = golden_path(name);
    let expected = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    })?;
    if expected == actual {
        return Ok(());
    }
    let mut diff: Vec<String> = expected
        .lines()
        .zip(actual.lines())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .take(5)
        .map(|(i, (a, b))| format!("line {}:\n  expected {a:?}\n  actual   {b:?}", i + 1))
        .collect();
    if diff.is_empty() {
        diff.push("(one is a prefix of the other)".into());
    }
    Err(format!(
        "{} differs from the output ({} vs {} lines):\n{}\nrun with UPDATE_GOLDEN=1 to accept",
        path.display(),
        expected.lines().count(),
        actual.lines().count(),
        diff.join("\n")
    ))
}

/// What golden transcript `name` shows on stdout for the `nth` (from 0) run of `$ line`.
pub fn golden_stdout(name: &str, line: &str, nth: usize) -> String {
    let path = golden_path(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let command = format!("$ {line}");
    let mut runs = text.split('\n').skip_while(|l| *l != command).peekable();
    for _ in 0..nth {
        runs.next();
        while runs.peek().is_some_and(|l| *l != command) {
            runs.next();
        }
    }
    assert!(
        runs.next().is_some(),
        "{}: no run {nth} of `{line}`",
        path.display()
    );
    runs.take_while(|l| !l.starts_with("$ "))
        .filter_map(|l| l.strip_prefix("| "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A scripted case: command lines (optionally `<<` stdin text) run in order; the whole
/// transcript is the snapshot.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    pub line: &'a str,
    pub stdin: &'a str,
}

/// A step without input.
pub const fn cmd(line: &str) -> Step<'_> {
    Step { line, stdin: "" }
}

/// A step with standard input.
pub const fn with_input<'a>(line: &'a str, stdin: &'a str) -> Step<'a> {
    Step { line, stdin }
}

/// Run the steps on `h` and return the transcript.
pub fn transcript(h: &mut Harness, steps: &[Step<'_>]) -> String {
    let mut t = String::new();
    for s in steps {
        let o = h.run(s.line, s.stdin);
        let prog = h.prog.clone();
        record(&mut t, &prog, s.line, s.stdin, &o);
    }
    t
}
