//! A real rvsd for the tests: started in a network namespace of its own (named with this
//! process's id) on one end of a veth pair, with its control socket in a temporary
//! directory. Dropping the [`LiveRvsd`] (also on panic) stops rvsd by its PID and deletes
//! the namespace.
//!
//! The binary is the `rvsd` next to the test executable (`target/<profile>/rvsd`), so build
//! it first: `cargo build --bins` (scripts/test.sh does).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use rvs_testkit::{NetNs, bin, ns_cmd};
use tempfile::TempDir;

use super::Harness;

/// How long rvsd may take to attach and answer on its socket.
const START: Duration = Duration::from_secs(30);
/// How long rvsd may take to exit after SIGTERM before it is killed.
const STOP: Duration = Duration::from_secs(15);
/// The pause between two looks at a child or a socket.
const POLL: Duration = Duration::from_millis(50);

// Not every test binary uses each of these.
#[allow(unused_imports)]
pub use rvs_testkit::root_or_skip;

/// rvsd running in its own namespace; stopped and cleaned up on drop.
pub struct LiveRvsd {
    rvsd: Option<Child>,
    // After `rvsd` (fields drop in order, after `drop` has stopped rvsd): the namespace, then
    // the directory.
    netns: NetNs,
    dir: TempDir,
}

impl LiveRvsd {
    /// Create namespace `rvsadm-<pid>-<tag>` with a veth pair (198.51.100.253/24 and
    /// .254/24, TX checksum offload off), start rvsd on the first end and wait until its
    /// socket answers.
    pub fn start(tag: &str) -> Self {
        let rvsd_bin = bin("rvsd");
        // From here on, dropping `live` deletes the namespace.
        let mut live = LiveRvsd {
            netns: NetNs::unique("rvsadm", tag),
            rvsd: None,
            dir: tempfile::Builder::new()
                .prefix("rvsadm-live-")
                .tempdir()
                .expect("a temporary directory"),
        };
        live.netns.veth_pair("rvl0", "rvl1");
        live.netns.exec(
            "set -e
             ip addr add 198.51.100.254/24 dev rvl0
             ip addr add 198.51.100.253/24 dev rvl1",
        );
        let log = fs::File::create(live.log_path()).expect("create rvsd.log");
        let child = ns_cmd(live.netns.name(), &rvsd_bin)
            .args(["--interface", "rvl0", "--socket"])
            .arg(live.socket())
            .args(["--log-level", "info"])
            // A log file, not a terminal: no colour codes.
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup rvsd.log"))
            .stderr(log)
            .spawn()
            .expect("spawn rvsd");
        // `ip netns exec` execs rvsd: the child's PID is rvsd's.
        live.rvsd = Some(child);
        live.wait_until_answering();
        live
    }

    /// rvsd's control socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("rvsd.sock")
    }

    /// A scratch directory that lives as long as rvsd.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A harness talking to this rvsd, its table cleared and timeouts reset.
    pub fn harness(&self) -> Harness {
        Harness::socket(self.socket())
    }

    /// Everything rvsd logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Panics (with rvsd's log) unless rvsd still runs.
    pub fn assert_running(&mut self) {
        let status = self.rvsd.as_mut().and_then(|c| c.try_wait().ok().flatten());
        if let Some(status) = status {
            panic!("rvsd exited ({status}):\n{}", self.log());
        }
    }

    /// Stop rvsd with SIGTERM and check that it exits cleanly.
    pub fn stop(mut self) {
        self.assert_running();
        let status = self.terminate();
        assert!(
            status.is_some_and(|ok| ok),
            "rvsd did not exit cleanly on SIGTERM:\n{}",
            self.log()
        );
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("rvsd.log")
    }

    fn wait_until_answering(&mut self) {
        let deadline = Instant::now() + START;
        loop {
            self.assert_running();
            if self.socket().exists() {
                let mut h = Harness::memory();
                h.target = super::Target::Socket(self.socket());
                if h.run("-L -n", "").code == 0 {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "rvsd did not answer on {} within {START:?}:\n{}",
                self.socket().display(),
                self.log()
            );
            sleep(POLL);
        }
    }

    /// SIGTERM to rvsd's PID, then (bounded) wait; SIGKILL if it does not exit. Returns
    /// whether it exited successfully on SIGTERM, `None` if it had to be killed.
    fn terminate(&mut self) -> Option<bool> {
        let mut child = self.rvsd.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status.success());
        }
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status.success());
            }
            sleep(POLL);
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for LiveRvsd {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!("--- end of rvsd's log ---\n{}", tail.join("\n"));
        }
        // The namespace and the directory go after this, as fields.
        self.terminate();
    }
}
