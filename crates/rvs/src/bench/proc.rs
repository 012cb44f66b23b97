//! Processes the benchmark starts: inside a lab namespace, pinned to a core, stopped by PID.
//!
//! `ip netns exec` and `taskset` both exec the next program, so the PID we hold is the
//! program's own. Every process is stopped when its guard is dropped (SIGTERM, then SIGKILL),
//! also when a measurement fails half-way; run-to-completion tools get a deadline.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::exec::command_line;
use crate::lab::state;

/// Where and on which core a command runs.
#[derive(Clone, Debug, Default)]
pub struct Placement {
    /// Network namespace to run in (`ip netns exec`), or the current one.
    pub netns: Option<String>,
    /// Core to pin to (`taskset -c`), or none.
    pub core: Option<usize>,
}

impl Placement {
    /// In namespace `netns` on core `core`.
    pub fn at(netns: &str, core: usize) -> Self {
        Self {
            netns: Some(netns.to_string()),
            core: Some(core),
        }
    }

    /// On core `core` in the current namespace (for programs that enter a namespace
    /// themselves, such as `rvs blast --netns`).
    pub fn core(core: usize) -> Self {
        Self {
            netns: None,
            core: Some(core),
        }
    }

    /// The full command: `[ip netns exec NS] [taskset -c C] PROGRAM ARGS`.
    pub fn command(&self, program: &str, args: &[String]) -> (String, Vec<String>) {
        let mut argv: Vec<String> = Vec::new();
        if let Some(ns) = &self.netns {
            argv.extend(["ip", "netns", "exec", ns.as_str()].map(String::from));
        }
        if let Some(core) = self.core {
            argv.extend(["taskset".to_string(), "-c".into(), core.to_string()]);
        }
        argv.push(program.to_string());
        argv.extend(args.iter().cloned());
        let program = argv.remove(0);
        (program, argv)
    }

    /// The command as a user would type it.
    pub fn display(&self, program: &str, args: &[String]) -> String {
        let (p, a) = self.command(program, args);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        command_line(&p, &a)
    }
}

/// A long-running process (rvsd, HAProxy, a sink), stopped on drop.
#[derive(Debug)]
pub struct Spawned {
    child: Option<Child>,
    what: String,
    log: Option<PathBuf>,
}

impl Spawned {
    /// Starts `program args` at `place`; stdout and stderr go to `log` (without a log, stdout
    /// is piped for [`Spawned::take_stdout`]); stdin is a pipe the caller may close.
    pub fn start(
        place: &Placement,
        program: &str,
        args: &[String],
        log: Option<&Path>,
    ) -> Result<Self> {
        let (p, a) = place.command(program, args);
        let what = place.display(program, args);
        let mut cmd = Command::new(&p);
        cmd.args(&a).stdin(Stdio::piped());
        match log {
            Some(path) => {
                let file = fs::File::create(path)
                    .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
                let file2 = file
                    .try_clone()
                    .map_err(|e| Error::io(format!("duplicating {}", path.display()), e))?;
                cmd.stdout(file).stderr(file2);
            }
            None => {
                // stderr stays the benchmark's own, so a failing helper's message is seen.
                cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
            }
        }
        let child = cmd
            .spawn()
            .map_err(|e| Error::io(format!("starting `{what}`"), e))?;
        Ok(Self {
            child: Some(child),
            what,
            log: log.map(Path::to_path_buf),
        })
    }

    /// The process's PID.
    pub fn pid(&self) -> i32 {
        self.child.as_ref().map_or(0, |c| c.id() as i32)
    }

    /// The command line, for messages.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// An error if the process has already exited, quoting its log.
    pub fn check_running(&mut self) -> Result<()> {
        let Some(child) = self.child.as_mut() else {
            return Err(Error::Invalid(format!("`{}` was stopped", self.what)));
        };
        match child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(Error::Invalid(format!(
                "`{}` exited with {status}: {}",
                self.what,
                self.log_tail()
            ))),
            Err(e) => Err(Error::io(format!("waiting for `{}`", self.what), e)),
        }
    }

    /// The last lines of the process's log.
    pub fn log_tail(&self) -> String {
        let Some(path) = &self.log else {
            return String::new();
        };
        let text = fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(6)..].join(" | ")
    }

    /// The piped stdout (only for processes started without a log).
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.as_mut()?.stdout.take()
    }

    /// Gives back a stdout taken with [`Spawned::take_stdout`], for [`Spawned::finish`].
    pub fn with_stdout(mut self, stdout: std::process::ChildStdout) -> Self {
        if let Some(child) = self.child.as_mut() {
            child.stdout = Some(stdout);
        }
        self
    }

    /// Closes the process's stdin (the sink's "stop counting").
    pub fn close_stdin(&mut self) {
        if let Some(child) = self.child.as_mut() {
            drop(child.stdin.take());
        }
    }

    /// Waits up to `timeout` for the process to exit by itself; returns its stdout (when
    /// piped) and stops it if it did not exit in time.
    pub fn finish(mut self, timeout: Duration) -> Result<String> {
        let Some(mut child) = self.child.take() else {
            return Ok(String::new());
        };
        let deadline = Instant::now() + timeout;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => sleep(Duration::from_millis(10)),
                Ok(None) => {
                    let _ = state::stop(child.id() as i32);
                    let _ = child.wait();
                    return Err(Error::Invalid(format!(
                        "`{}` did not finish within {timeout:?}; stopped",
                        self.what
                    )));
                }
                Err(e) => return Err(Error::io(format!("waiting for `{}`", self.what), e)),
            }
        }
        let mut out = String::new();
        if let Some(mut stdout) = child.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        Ok(out)
    }

    /// Stops the process: SIGTERM, SIGKILL after a grace period; reaps it.
    pub fn stop(mut self) -> Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let result = state::stop(child.id() as i32);
        let _ = child.wait();
        result
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Err(e) = self.stop_inner() {
            eprintln!("rvs bench: stopping `{}`: {e}", self.what);
        }
    }
}

/// Runs `program args` at `place` to completion within `timeout`, killing it after that.
/// Its stdout and stderr are collected (they must stay small: pipes are read at the end, so
/// more than a pipe's 64 KiB would stall the program until the deadline).
pub fn run_bounded(
    place: &Placement,
    program: &str,
    args: &[String],
    timeout: Duration,
) -> Result<Output> {
    let (p, a) = place.command(program, args);
    let what = place.display(program, args);
    let mut child = Command::new(&p)
        .args(&a)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io(format!("starting `{what}`"), e))?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = state::stop(child.id() as i32);
                let _ = child.wait();
                return Err(Error::Invalid(format!(
                    "`{what}` did not finish within {timeout:?}; stopped"
                )));
            }
            Err(e) => return Err(Error::io(format!("waiting for `{what}`"), e)),
        }
    }
    child
        .wait_with_output()
        .map_err(|e| Error::io(format!("collecting the output of `{what}`"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_prefixes_netns_and_taskset() {
        let p = Placement::at("b-nat-client", 0);
        let (prog, args) = p.command("wrk", &["-t1".into()]);
        assert_eq!(prog, "ip");
        assert_eq!(
            args,
            [
                "netns",
                "exec",
                "b-nat-client",
                "taskset",
                "-c",
                "0",
                "wrk",
                "-t1"
            ]
        );
        let (prog, args) = Placement::default().command("nft", &["-f".into()]);
        assert_eq!((prog.as_str(), args), ("nft", vec!["-f".to_string()]));
        assert_eq!(
            Placement::core(1).display("rvs", &["sink".into()]),
            "taskset -c 1 rvs sink"
        );
    }
}
