//! The director side of the demo: finding the rvs binaries, starting rvsd in a lab's
//! director namespace, and running rvsadm against it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::narrate::Narrator;
use super::session::{Abort, Session, Step};

/// How long rvsd may take to attach its XDP program and answer on its socket.
const RVSD_START: Duration = Duration::from_secs(20);

/// Finds binary `name`: next to the running `rvs` first (a cargo target directory or an
/// installed set), then on PATH.
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)));
    if let Some(path) = beside.filter(|p| p.is_file()) {
        return Some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Like [`find_binary`], failing with a message that says how to get it.
pub fn binary(name: &str) -> Step<PathBuf> {
    find_binary(name).ok_or_else(|| {
        Abort::Failed(format!(
            "`{name}` not found next to rvs or on PATH; build it with `cargo build --release --bins`"
        ))
    })
}

/// One rvsd the demo started, with the socket rvsadm and rvs-keepalived talk to.
#[derive(Clone, Debug)]
pub struct Director {
    /// The host name shown in prompts (`director`, `director2`).
    pub host: String,
    /// Its network namespace.
    pub netns: String,
    /// rvsd's control socket.
    pub socket: PathBuf,
    /// rvsd's log file.
    pub log: PathBuf,
    /// rvsd's PID.
    pub pid: u32,
    rvsadm: PathBuf,
}

impl Director {
    /// Starts `rvsd --interface IF… --socket STATE/HOST.sock` in `netns` and waits until it
    /// answers. The log goes to `STATE/HOST-rvsd.log`.
    pub fn start(
        session: &mut Session,
        n: &Narrator,
        host: &str,
        netns: &str,
        interfaces: &[String],
        state_dir: &Path,
    ) -> Step<Director> {
        let rvsd = binary("rvsd")?;
        let rvsadm = binary("rvsadm")?;
        let socket = state_dir.join(format!("{host}-rvsd.sock"));
        let log_path = state_dir.join(format!("{host}-rvsd.log"));
        let log = fs::File::create(&log_path)
            .map_err(|e| Abort::Failed(format!("creating {}: {e}", log_path.display())))?;
        let log2 = log
            .try_clone()
            .map_err(|e| Abort::Failed(format!("duplicating the log: {e}")))?;
        let mut shown = String::from("rvsd");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", netns]).arg(&rvsd);
        for iface in interfaces {
            cmd.args(["--interface", iface]);
            shown.push_str(&format!(" --interface {iface}"));
        }
        cmd.arg("--socket").arg(&socket);
        shown.push_str(&format!(" --socket {} &", socket.display()));
        // Plain log lines: they are quoted in error messages.
        cmd.env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        n.command(host, &shown);
        let pid = session.spawn(&format!("rvsd on {host}"), cmd)?;
        let director = Director {
            host: host.to_string(),
            netns: netns.to_string(),
            socket,
            log: log_path,
            pid,
            rvsadm,
        };
        let mut died = false;
        let took = session.wait_for(RVSD_START, || {
            // A zombie counts as gone: rvsd exited and waits to be reaped by the session.
            died = !crate::lab::state::alive(pid as i32);
            died || director.try_rvsadm(&["-L", "-n"]).is_ok()
        })?;
        if died {
            let status = session.exited(pid).unwrap_or_else(|| "gone".to_string());
            return Err(Abort::Failed(format!(
                "rvsd on {host} exited at start ({status}): {}",
                director.log_tail(8)
            )));
        }
        match took {
            Some(t) => {
                n.progress(&format!(
                    "rvsd attached to {} and answers on its socket ({:.1}s)",
                    interfaces.join(", "),
                    t.as_secs_f64()
                ));
                Ok(director)
            }
            None => Err(Abort::Failed(format!(
                "rvsd on {host} did not answer within {RVSD_START:?}: {}",
                director.log_tail(8)
            ))),
        }
    }

    /// Runs rvsadm with `args`; Ok(stdout) on success, Err(stderr) otherwise.
    pub fn try_rvsadm(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.rvsadm)
            .args(args)
            .env("RVS_SOCKET", &self.socket)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run rvsadm: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "rvsadm {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Shows `rvsadm ARGS` as typed on this director, runs it, shows its output.
    pub fn rvsadm(&self, n: &Narrator, args: &[&str]) -> Step<String> {
        n.command(&self.host, &format!("rvsadm {}", args.join(" ")));
        let out = self.try_rvsadm(args).map_err(Abort::Failed)?;
        n.output(&out);
        Ok(out)
    }

    /// The last `lines` lines of rvsd's log, joined for an error message.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }
}

/// The last `lines` lines of a file, joined with ` | `.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    strip_ansi(&all[all.len().saturating_sub(lines)..].join(" | "))
}

/// Removes terminal colour sequences (`ESC [ ... m`) from log text.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip up to and including the final byte of the sequence.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_sequences_are_removed_from_log_lines() {
        assert_eq!(
            strip_ansi("\u{1b}[2m2026\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m rvsd is running"),
            "2026  INFO rvsd is running"
        );
        assert_eq!(strip_ansi("plain"), "plain");
    }
}
