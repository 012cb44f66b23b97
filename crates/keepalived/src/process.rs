//! Process housekeeping: going to the background as keepalived does, and PID files.
//!
//! keepalived forks and the parent exits. Without `unsafe` we cannot fork, so the daemon
//! re-executes itself with `--dont-fork` in a new session (util-linux `setsid`, or a new
//! process group where `setsid` is missing), detached from the terminal; the first process
//! waits until the daemon has written its PID file (or died) and exits with status 0 (or
//! the daemon's status).

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Our process name as /proc/PID/comm shows it.
const COMM: &str = "rvs-keepalived";

/// How long the launching process waits for the daemon's PID file.
const START_WAIT: Duration = Duration::from_secs(10);

/// Starts the daemon in the background with `args` plus `--dont-fork`; returns the exit
/// code for the launching process.
pub fn background(args: &[OsString], pid_file: &Path) -> io::Result<i32> {
    let exe = std::env::current_exe()?;
    let setsid = ["/usr/bin/setsid", "/bin/setsid"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists());
    let mut cmd = match setsid {
        Some(s) => {
            let mut c = Command::new(s);
            c.arg(&exe);
            c
        }
        None => {
            let mut c = Command::new(&exe);
            c.process_group(0);
            c
        }
    };
    cmd.args(args)
        .arg("--dont-fork")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // The working directory is kept (not "/"): relative -f, -p and -g paths given on the
    // command line must mean the same files to the daemon, at start and on every reload.
    let mut child = cmd.spawn()?;
    let pid = child.id() as i32;
    let deadline = Instant::now() + START_WAIT;
    loop {
        if read_pid(pid_file) == Some(pid) {
            return Ok(0);
        }
        if let Some(status) = child.try_wait()? {
            return Ok(status.code().unwrap_or(crate::cli::exit::FATAL));
        }
        if Instant::now() > deadline {
            // Still starting (slow disk?): leave it running, as keepalived would.
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The PID written in `path`, if any.
pub fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether `pid` is a live rvs-keepalived other than us.
fn running_daemon(pid: i32) -> bool {
    pid != std::process::id() as i32
        && fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == COMM)
}

/// PID files this process wrote; removed on drop (only if they still name us).
pub struct PidFiles(Vec<PathBuf>);

/// Why the PID files could not be taken.
#[derive(Debug)]
pub enum PidError {
    /// Another rvs-keepalived runs with this PID file.
    Running(i32),
    /// Writing failed.
    Io(PathBuf, io::Error),
}

impl PidFiles {
    /// Writes our PID to `main` and the extra files, unless `main` names a live daemon.
    pub fn write(main: &Path, extra: &[&Path]) -> Result<PidFiles, PidError> {
        if let Some(pid) = read_pid(main)
            && running_daemon(pid)
        {
            return Err(PidError::Running(pid));
        }
        let mut written = Vec::new();
        for p in std::iter::once(main).chain(extra.iter().copied()) {
            if let Some(dir) = p.parent()
                && !dir.as_os_str().is_empty()
            {
                let _ = fs::create_dir_all(dir);
            }
            let tmp = p.with_extension("pid.tmp");
            fs::write(&tmp, format!("{}\n", std::process::id()))
                .and_then(|()| fs::rename(&tmp, p))
                .map_err(|e| PidError::Io(p.to_path_buf(), e))?;
            written.push(p.to_path_buf());
        }
        Ok(PidFiles(written))
    }
}

impl Drop for PidFiles {
    fn drop(&mut self) {
        for p in &self.0 {
            if read_pid(p) == Some(std::process::id() as i32) {
                let _ = fs::remove_file(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_files_are_written_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("sub/k.pid");
        let extra = dir.path().join("vrrp.pid");
        let me = std::process::id() as i32;
        {
            let _p = PidFiles::write(&main, &[&extra]).unwrap();
            assert_eq!(read_pid(&main), Some(me));
            assert_eq!(read_pid(&extra), Some(me));
        }
        assert!(!main.exists() && !extra.exists());
    }

    #[test]
    fn a_stale_pid_file_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("k.pid");
        // PID 1 is not an rvs-keepalived.
        fs::write(&main, "1\n").unwrap();
        let _p = PidFiles::write(&main, &[]).unwrap();
        assert_eq!(read_pid(&main), Some(std::process::id() as i32));
    }
}
