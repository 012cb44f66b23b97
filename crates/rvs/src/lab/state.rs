//! The lab's state directory (/run/rvs/lab/NAME/): PID files and logs of the built-in servers,
//! and the JSON `lab up` printed. `lab down` stops exactly the PIDs recorded here.

use std::fs;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::{Error, Result};

/// Parent of every lab's state directory.
pub const RUN_DIR: &str = "/run/rvs/lab";

/// How long a built-in server may take to bind its sockets.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a process gets after SIGTERM (and again after SIGKILL).
const STOP_TIMEOUT: Duration = Duration::from_secs(3);

/// The state directory of lab `name`.
pub fn dir(name: &str) -> PathBuf {
    Path::new(RUN_DIR).join(name)
}

/// Creates the state directory; it doubles as the lab's lock, so an existing one is an error.
pub fn create(name: &str) -> Result<PathBuf> {
    fs::create_dir_all(RUN_DIR).map_err(|e| Error::io(format!("creating {RUN_DIR}"), e))?;
    let dir = dir(name);
    match fs::create_dir(&dir) {
        Ok(()) => Ok(dir),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(Error::LabExists {
            name: name.to_string(),
            what: format!("state directory {}", dir.display()),
        }),
        Err(e) => Err(Error::io(format!("creating {}", dir.display()), e)),
    }
}

/// Whether the named network namespace exists (as `ip netns add` creates it).
pub fn netns_exists(name: &str) -> bool {
    Path::new("/run/netns").join(name).exists()
}

/// What to start: one built-in server inside a real server's namespace.
#[derive(Clone, Debug)]
pub struct ServerSpec<'a> {
    /// The `rvs` binary.
    pub exe: &'a Path,
    /// The namespace to serve in.
    pub netns: &'a str,
    /// The server's name (`rs1`), also its answer.
    pub name: &'a str,
    /// HTTP listen addresses.
    pub http: &'a [SocketAddr],
    /// UDP echo listen addresses.
    pub udp: &'a [SocketAddr],
}

/// Starts `rvs serve` detached (it calls setsid itself), logs to NAME.log and waits until it
/// has bound its sockets and written NAME.pid. Returns its PID.
pub fn start_server(dir: &Path, spec: &ServerSpec<'_>) -> Result<i32> {
    let pid_file = dir.join(format!("{}.pid", spec.name));
    let log_path = dir.join(format!("{}.log", spec.name));
    let log = fs::File::create(&log_path)
        .map_err(|e| Error::io(format!("creating {}", log_path.display()), e))?;
    let log2 = log
        .try_clone()
        .map_err(|e| Error::io(format!("duplicating {}", log_path.display()), e))?;
    let mut cmd = Command::new(spec.exe);
    cmd.args([
        "serve",
        "--netns",
        spec.netns,
        "--name",
        spec.name,
        "--pid-file",
    ])
    .arg(&pid_file);
    for addr in spec.http {
        cmd.arg("--http").arg(addr.to_string());
    }
    for addr in spec.udp {
        cmd.arg("--udp-echo").arg(addr.to_string());
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| Error::io(format!("starting {} serve", spec.exe.display()), e))?;
    let failed = |why: String| Error::ServerStart {
        name: spec.name.to_string(),
        why: format!("{why}; log {}: {}", log_path.display(), tail(&log_path)),
    };
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(pid) = read_pid(&pid_file) {
            // Not waited for on purpose: the server outlives `lab up`; `lab down` stops it.
            drop(child);
            return Ok(pid);
        }
        match child.try_wait() {
            Ok(Some(status)) => return Err(failed(format!("exited with {status}"))),
            Ok(None) => {}
            Err(e) => return Err(Error::io("waiting for the built-in server", e)),
        }
        if Instant::now() > deadline {
            let pid = child.id() as i32;
            let _ = stop(pid);
            return Err(failed(format!("no PID file after {START_TIMEOUT:?}")));
        }
        sleep(Duration::from_millis(20));
    }
}

/// The last lines of a log file, for error messages.
fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(5);
    lines[start..].join(" | ")
}

/// Reads a PID file written by `rvs serve`.
pub fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Servers recorded in `dir`: (server name, PID) from every `*.pid` file.
pub fn recorded_servers(dir: &Path) -> Vec<(String, i32)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "pid")
            && let (Some(stem), Some(pid)) = (path.file_stem(), read_pid(&path))
        {
            found.push((stem.to_string_lossy().into_owned(), pid));
        }
    }
    found.sort();
    found
}

/// Whether `pid` is still the `rvs serve` we started in `netns` (guards against PID reuse).
pub fn is_our_server(pid: i32, netns: &str) -> bool {
    let Ok(raw) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = raw.split(|b| *b == 0).collect();
    args.iter().any(|a| *a == b"serve")
        && args
            .windows(2)
            .any(|w| w[0] == b"--netns" && w[1] == netns.as_bytes())
}

/// Whether `pid` is alive (a zombie counts as gone: it only waits for its parent to reap it).
pub fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name, which may itself hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Stops `pid`: SIGTERM, then SIGKILL if it is still there after a grace period.
pub fn stop(pid: i32) -> Result<()> {
    for signal in [Signal::SIGTERM, Signal::SIGKILL] {
        match kill(Pid::from_raw(pid), signal) {
            Ok(()) => {}
            Err(nix::errno::Errno::ESRCH) => return Ok(()),
            Err(e) => return Err(Error::io(format!("kill {signal} {pid}"), e.into())),
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if !alive(pid) {
                return Ok(());
            }
            sleep(Duration::from_millis(10));
        }
    }
    Err(Error::Invalid(format!("process {pid} survived SIGKILL")))
}
