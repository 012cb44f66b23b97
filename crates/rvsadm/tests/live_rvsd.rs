//! The golden sessions against a real rvsd: the test starts rvsd in a network namespace of
//! its own (see `common/live.rs`; needs root, and `cargo build --bins` first) and checks
//! that every case of `cli_golden` and `errors_golden` prints, through rvsd's socket, exactly
//! the golden transcript the in-memory backend prints. Then, through the built binary
//! invoked by a link named `ipvsadm`: the usage text, the `-S -n > f; -C; -R < f` round trip
//! with real files, and the errors of operations.
//!
//! The cases share rvsd's table, so they run one after the other in this single test; each
//! starts from an empty table with the default timeouts. No traffic reaches the services,
//! so counters, rates and the connection table are as empty as the in-memory backend's.

mod common;

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::cases::{self, Case, SETUP, USAGE, USAGE_GOLDEN};
use common::live::{LiveRvsd, root_or_skip};
use common::{Harness, Outcome, Step, golden_matches, golden_path, golden_stdout, record};

#[test]
fn golden_sessions_against_a_live_rvsd() {
    if !root_or_skip("golden_sessions_against_a_live_rvsd") {
        return;
    }
    let mut rvsd = LiveRvsd::start("golden");

    let all: Vec<Case> = cases::cli().into_iter().chain(cases::errors()).collect();
    let mut failures = Vec::new();
    for case in &all {
        if let Err(e) = case.verify(&mut rvsd.harness()) {
            failures.push(e);
        }
        rvsd.assert_running();
    }
    assert!(
        failures.is_empty(),
        "{} of {} golden sessions differ against rvsd:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );

    let ipvsadm = Ipvsadm::new(rvsd.dir(), rvsd.socket());
    usage_through_the_link(&ipvsadm);
    save_clear_restore_through_the_link(&rvsd, &ipvsadm);
    operation_errors_through_the_link(&rvsd, &ipvsadm);

    rvsd.stop();
}

/// `ipvsadm -h` etc. print the usage text with the name `ipvsadm`, as in the golden file.
fn usage_through_the_link(ipvsadm: &Ipvsadm) {
    let t = ipvsadm.transcript(USAGE);
    assert!(t.starts_with("$ ipvsadm -h\n| ipvsadm v1.31 "), "{t}");
    let golden = fs::read_to_string(golden_path(USAGE_GOLDEN)).expect("the usage golden file");
    assert!(
        golden.contains(&t),
        "the usage through a link named ipvsadm is not the `ipvsadm` part of {USAGE_GOLDEN}:\n{t}"
    );
}

/// `ipvsadm -S -n > saved; ipvsadm -C; ipvsadm -R < saved` with real files gives back the
/// same table; the saved text and the listings are the golden ones.
fn save_clear_restore_through_the_link(rvsd: &LiveRvsd, ipvsadm: &Ipvsadm) {
    let mut h = rvsd.harness();
    for s in SETUP {
        let o = h.run(s.line, s.stdin);
        assert_eq!(o.code, 0, "rvsadm {}: {o:?}", s.line);
    }
    let dir = rvsd.dir().join("roundtrip");
    fs::create_dir(&dir).expect("create the round-trip directory");
    let o = ipvsadm.sh(
        &dir,
        "ipvsadm -S -n > saved
         ipvsadm -L -n > before
         ipvsadm -C
         ipvsadm -L -n > cleared
         ipvsadm -R < saved
         ipvsadm -S -n > again
         ipvsadm -L -n > after",
    );
    assert_eq!((o.code, o.stderr.as_str()), (0, ""), "{o:?}");
    let read = |name: &str| fs::read_to_string(dir.join(name)).expect("a file the script wrote");

    let saved = read("saved");
    assert_eq!(
        saved,
        golden_stdout("cli/save_restore.txt", "rvsadm -S -n", 0)
    );
    assert_eq!(read("again"), saved, "-R of the saved rules");
    let before = read("before");
    assert_eq!(before, golden_stdout("cli/list.txt", "rvsadm -L -n", 0));
    assert_eq!(read("after"), before, "the table after the round trip");
    // An empty table: the header only (as at the end of the edit/delete session).
    assert_eq!(
        read("cleared"),
        golden_stdout("cli/edit_delete.txt", "rvsadm -L -n", 0)
    );
    assert_eq!(read("cleared").lines().count(), 3);
}

/// The errors of operations through the binary, with their exit codes, are the golden ones.
/// Those messages never name the program, so the transcript differs from the golden only in
/// the name on the command lines.
fn operation_errors_through_the_link(rvsd: &LiveRvsd, ipvsadm: &Ipvsadm) {
    let _reset: Harness = rvsd.harness();
    let case = cases::named("errors/operations.txt");
    let _ = ipvsadm.transcript(&case.setup);
    let t = ipvsadm.transcript(&case.steps);
    let as_rvsadm: String = t
        .split_inclusive('\n')
        .map(|l| match l.strip_prefix("$ ipvsadm ") {
            Some(rest) => format!("$ rvsadm {rest}"),
            None => l.to_string(),
        })
        .collect();
    if let Err(e) = golden_matches(case.golden, &as_rvsadm) {
        panic!("through a link named ipvsadm: {e}");
    }
}

/// The built rvsadm, invoked through a link named `ipvsadm` found on the PATH, talking to
/// the live rvsd (`RVS_SOCKET`).
struct Ipvsadm {
    dir: PathBuf,
    socket: PathBuf,
}

impl Ipvsadm {
    /// Make `DIR/bin/ipvsadm` a link to the built rvsadm.
    fn new(dir: &Path, socket: PathBuf) -> Self {
        let dir = dir.join("bin");
        fs::create_dir(&dir).expect("create the link directory");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_rvsadm"), dir.join("ipvsadm"))
            .expect("link ipvsadm to rvsadm");
        Ipvsadm { dir, socket }
    }

    /// The PATH with the link's directory first.
    fn path(&self) -> OsString {
        let mut path = self.dir.clone().into_os_string();
        if let Some(rest) = std::env::var_os("PATH") {
            path.push(":");
            path.push(rest);
        }
        path
    }

    fn exec(&self, mut cmd: Command, stdin: &str) -> Outcome {
        let mut child = cmd
            .env("PATH", self.path())
            .env("RVS_SOCKET", &self.socket)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let mut input = child.stdin.take().expect("piped stdin");
        input
            .write_all(stdin.as_bytes())
            .expect("write the standard input");
        drop(input);
        let out = child.wait_with_output().expect("wait for the command");
        Outcome {
            stdout: String::from_utf8(out.stdout).expect("UTF-8 output"),
            stderr: String::from_utf8(out.stderr).expect("UTF-8 errors"),
            code: out.status.code().unwrap_or(-1),
        }
    }

    /// `ipvsadm LINE` (words split on blanks), found on the PATH: its `argv[0]` is `ipvsadm`.
    fn run(&self, line: &str, stdin: &str) -> Outcome {
        let mut cmd = Command::new("ipvsadm");
        cmd.args(line.split_whitespace());
        self.exec(cmd, stdin)
    }

    /// A shell script (`sh -e`) run in `cwd` with the link on the PATH.
    fn sh(&self, cwd: &Path, script: &str) -> Outcome {
        let mut cmd = Command::new("sh");
        cmd.arg("-ec").arg(script).current_dir(cwd);
        self.exec(cmd, "")
    }

    /// Run the steps and record them as [`common::transcript`] does.
    fn transcript(&self, steps: &[Step<'_>]) -> String {
        let mut t = String::new();
        for s in steps {
            let o = self.run(s.line, s.stdin);
            record(&mut t, "ipvsadm", s.line, s.stdin, &o);
        }
        t
    }
}
