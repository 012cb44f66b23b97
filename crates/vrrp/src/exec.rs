//! Running scripts: `vrrp_script` checks (exit status, with a timeout) and notify
//! scripts (in the background). Each runs in its own process group so a timeout kills
//! whatever it started too.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Group, Pid, User};

use crate::config::Script;

/// How long a notify script may run before it is killed.
pub const NOTIFY_TIMEOUT: Duration = Duration::from_secs(30);

fn command(script: &Script) -> Option<Command> {
    let (prog, args) = script.argv.split_first()?;
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if let Some(u) = &script.user {
        let user = User::from_name(u).ok().flatten()?;
        cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    if let Some(g) = &script.group {
        let group = Group::from_name(g).ok().flatten()?;
        cmd.gid(group.gid.as_raw());
    }
    Some(cmd)
}

/// Waits for `child` until `deadline`; kills its process group after it. Returns the
/// exit success, false on timeout or signal.
fn wait(mut child: Child, deadline: Instant) -> bool {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            Ok(None) | Err(_) => {
                if let Ok(pid) = i32::try_from(child.id()) {
                    let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
                }
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}

/// Runs a check script to completion: true when it exits 0 within `timeout`. A script
/// that cannot be started (missing program, unknown user) fails.
pub fn run_check(script: &Script, timeout: Duration) -> bool {
    let Some(mut cmd) = command(script) else {
        tracing::warn!(argv = ?script.argv, "cannot prepare script (empty command or unknown user/group)");
        return false;
    };
    match cmd.spawn() {
        Ok(child) => wait(child, Instant::now() + timeout),
        Err(e) => {
            tracing::warn!(argv = ?script.argv, error = %e, "cannot run script");
            false
        }
    }
}

/// Starts a notify script and returns at once; a thread reaps it (killing it after
/// `timeout`). Returns false when it could not be started.
pub fn spawn_notify(script: &Script, timeout: Duration) -> bool {
    let Some(mut cmd) = command(script) else {
        tracing::warn!(argv = ?script.argv, "cannot prepare notify script");
        return false;
    };
    match cmd.spawn() {
        Ok(child) => {
            let deadline = Instant::now() + timeout;
            thread::spawn(move || wait(child, deadline));
            true
        }
        Err(e) => {
            tracing::warn!(argv = ?script.argv, error = %e, "cannot run notify script");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(cmd: &str) -> Script {
        Script {
            argv: vec!["/bin/sh".into(), "-c".into(), cmd.into()],
            user: None,
            group: None,
        }
    }

    #[test]
    fn exit_status_and_timeout() {
        assert!(run_check(&sh("exit 0"), Duration::from_secs(5)));
        assert!(!run_check(&sh("exit 3"), Duration::from_secs(5)));
        assert!(!run_check(&sh("sleep 5"), Duration::from_millis(50)));
        assert!(!run_check(
            &Script {
                argv: vec!["/nonexistent/script".into()],
                user: None,
                group: None
            },
            Duration::from_secs(1)
        ));
    }

    #[test]
    fn notify_gets_its_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("args");
        let mut s = sh(&format!("echo \"$@\" > {}", out.display()));
        s.argv.push("x".into());
        s.argv
            .extend(["INSTANCE", "VI_1", "MASTER", "100"].map(String::from));
        assert!(spawn_notify(&s, Duration::from_secs(5)));
        let deadline = Instant::now() + Duration::from_secs(5);
        while !out.exists() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        thread::sleep(Duration::from_millis(50));
        assert_eq!(
            std::fs::read_to_string(&out).unwrap().trim(),
            "INSTANCE VI_1 MASTER 100"
        );
    }
}
