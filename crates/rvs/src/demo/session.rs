//! What the demo has built and started, so it can all be removed: at the end of each step,
//! when a step fails, and when the user presses Ctrl-C (SIGINT) or the demo gets SIGTERM.
//!
//! Signals only raise a flag: every wait in the demo is short and checks it, so the demo
//! notices within a fraction of a second and unwinds through the normal clean-up path.
//! The daemons run in their own process group, so the terminal's Ctrl-C does not reach
//! them directly; the demo stops them itself, by PID, in reverse start order.

use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use signal_hook::consts::{SIGINT, SIGTERM};

use crate::lab::plan::Role;
use crate::lab::{self, LabInfo, Topology, UpOptions};

/// Why a step stopped before its end.
#[derive(Debug)]
pub enum Abort {
    /// SIGINT or SIGTERM arrived.
    Interrupted,
    /// Something the step needs did not work; the text says what.
    Failed(String),
}

impl From<crate::Error> for Abort {
    fn from(e: crate::Error) -> Self {
        Abort::Failed(e.to_string())
    }
}

/// Result of a demo action.
pub type Step<T = ()> = Result<T, Abort>;

/// A daemon the demo started.
#[derive(Debug)]
struct Daemon {
    what: String,
    child: Child,
}

/// The labs and processes of the running demo.
#[derive(Debug)]
pub struct Session {
    interrupted: Arc<AtomicBool>,
    prefix: String,
    labs: Vec<String>,
    daemons: Vec<Daemon>,
}

/// How long a daemon gets to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(3);

impl Session {
    /// Installs the SIGINT/SIGTERM flag; labs are named `PREFIX-<step>`.
    pub fn new(prefix: &str) -> std::io::Result<Self> {
        let interrupted = Arc::new(AtomicBool::new(false));
        for signal in [SIGINT, SIGTERM] {
            signal_hook::flag::register(signal, Arc::clone(&interrupted))?;
        }
        Ok(Self {
            interrupted,
            prefix: prefix.to_string(),
            labs: Vec::new(),
            daemons: Vec::new(),
        })
    }

    /// Whether a signal asked the demo to stop.
    pub fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::Relaxed)
    }

    /// The flag signals raise, for threads that must stop early too.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.interrupted)
    }

    /// `Err(Interrupted)` once a signal arrived.
    pub fn go_on(&self) -> Step {
        if self.interrupted() {
            Err(Abort::Interrupted)
        } else {
            Ok(())
        }
    }

    /// Sleeps `d` in short slices, returning early on a signal.
    pub fn sleep(&self, d: Duration) -> Step {
        let end = Instant::now() + d;
        loop {
            self.go_on()?;
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            sleep((end - now).min(Duration::from_millis(50)));
        }
    }

    /// Polls `ready` every 100 ms for up to `limit`; returns how long it took, or None.
    pub fn wait_for(
        &self,
        limit: Duration,
        mut ready: impl FnMut() -> bool,
    ) -> Step<Option<Duration>> {
        let start = Instant::now();
        loop {
            self.go_on()?;
            if ready() {
                return Ok(Some(start.elapsed()));
            }
            if start.elapsed() > limit {
                return Ok(None);
            }
            sleep(Duration::from_millis(100));
        }
    }

    /// The lab name of step `tag`.
    pub fn lab_name(&self, tag: &str) -> String {
        format!("{}-{tag}", self.prefix)
    }

    /// Removes lab `tag` if an earlier demo left it (`--keep`, or a demo killed with
    /// SIGKILL); returns whether there was one.
    pub fn remove_leftover(&self, tag: &str) -> Step<bool> {
        let name = self.lab_name(tag);
        let exists = lab::state::dir(&name).exists()
            || Role::ALL
                .iter()
                .any(|r| lab::state::netns_exists(&r.netns(&name)));
        if exists {
            lab::down(&name, true)?;
        }
        Ok(exists)
    }

    /// Builds lab `tag` (remembered for clean-up before it is built: `lab up` removes a
    /// half-built lab itself, `down` copes with one).
    pub fn lab_up(&mut self, topology: Topology, tag: &str) -> Step<LabInfo> {
        self.go_on()?;
        let name = self.lab_name(tag);
        let info = lab::up(&UpOptions {
            topology,
            name: name.clone(),
            ipv6: false,
            http_ports: vec![80],
            udp_ports: vec![7],
            servers: true,
        })?;
        self.labs.push(name);
        Ok(info)
    }

    /// Starts `cmd` in a process group of its own and remembers it for clean-up.
    pub fn spawn(&mut self, what: &str, mut cmd: Command) -> Step<u32> {
        use std::os::unix::process::CommandExt as _;
        self.go_on()?;
        cmd.process_group(0);
        let child = cmd
            .spawn()
            .map_err(|e| Abort::Failed(format!("cannot start {what}: {e}")))?;
        let pid = child.id();
        self.daemons.push(Daemon {
            what: what.to_string(),
            child,
        });
        Ok(pid)
    }

    /// Whether the daemon with `pid` still runs; `Some(status)` text once it has exited.
    pub fn exited(&mut self, pid: u32) -> Option<String> {
        let d = self.daemons.iter_mut().find(|d| d.child.id() == pid)?;
        match d.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    }

    /// Sends `signal` to a daemon the demo started and reaps it (bounded wait).
    pub fn signal(&mut self, pid: u32, signal: Signal) {
        if let Some(i) = self.daemons.iter().position(|d| d.child.id() == pid) {
            let mut d = self.daemons.remove(i);
            stop(&mut d, Some(signal));
        }
    }

    /// Stops every daemon (newest first) and removes every lab; reports what did not go.
    pub fn teardown(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        while let Some(mut d) = self.daemons.pop() {
            if let Some(p) = stop(&mut d, None) {
                problems.push(p);
            }
        }
        for name in std::mem::take(&mut self.labs) {
            // --kill-all: anything else started inside the lab (by hand, with --keep) goes too.
            if let Err(e) = lab::down(&name, true) {
                problems.push(e.to_string());
            }
        }
        problems
    }

    /// Forgets the labs and daemons without stopping them (`--keep`); returns the lab names.
    pub fn keep(&mut self) -> Vec<String> {
        self.daemons.clear();
        std::mem::take(&mut self.labs)
    }
}

impl Drop for Session {
    /// The safety net for a panic inside a step: nothing the demo started outlives it
    /// (after `keep` and `teardown` there is nothing left to remove).
    fn drop(&mut self) {
        let _ = self.teardown();
    }
}

/// Stops a daemon: `first` (SIGTERM by default), then SIGKILL after a grace period.
fn stop(d: &mut Daemon, first: Option<Signal>) -> Option<String> {
    let pid = Pid::from_raw(d.child.id() as i32);
    for signal in [first.unwrap_or(Signal::SIGTERM), Signal::SIGKILL] {
        if matches!(d.child.try_wait(), Ok(Some(_))) {
            return None;
        }
        let _ = kill(pid, signal);
        let end = Instant::now() + STOP_GRACE;
        while Instant::now() < end {
            if matches!(d.child.try_wait(), Ok(Some(_))) {
                return None;
            }
            sleep(Duration::from_millis(20));
        }
    }
    Some(format!("{} (PID {pid}) did not exit after SIGKILL", d.what))
}
