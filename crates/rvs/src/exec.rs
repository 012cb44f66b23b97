//! Running the system's network tools (`ip`, `ethtool`, `sysctl`) with errors that name the
//! command and quote its stderr, optionally inside a named network namespace.

use std::process::{Command, Output};

use crate::error::{Error, Result};

/// Where a command runs: the current network namespace or a named one (`ip netns exec NAME`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Netns(Option<String>);

impl Netns {
    /// The namespace this process is in.
    pub fn current() -> Self {
        Self(None)
    }

    /// A named namespace under /run/netns.
    pub fn named(name: impl Into<String>) -> Self {
        Self(Some(name.into()))
    }

    /// The namespace's name, if it is a named one.
    pub fn name(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// Runs `ip ARGS` in this namespace (`ip -n NAME ARGS`) and returns its stdout.
    pub fn ip<S: AsRef<str>>(&self, args: &[S]) -> Result<String> {
        let mut full: Vec<&str> = Vec::with_capacity(args.len() + 2);
        if let Some(name) = &self.0 {
            full.extend(["-n", name.as_str()]);
        }
        full.extend(args.iter().map(AsRef::as_ref));
        run("ip", &full)
    }

    /// Runs `PROGRAM ARGS` in this namespace (through `ip netns exec` for a named one).
    pub fn exec<S: AsRef<str>>(&self, program: &str, args: &[S]) -> Result<String> {
        match &self.0 {
            None => {
                let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
                run(program, &args)
            }
            Some(name) => {
                let mut full = vec!["netns", "exec", name.as_str(), program];
                full.extend(args.iter().map(AsRef::as_ref));
                run("ip", &full)
            }
        }
    }

    /// Sets sysctls (`key=value`) in this namespace with one `sysctl -q -w` call.
    pub fn sysctl(&self, settings: &[String]) -> Result<()> {
        let mut args = vec!["-q".to_string(), "-w".to_string()];
        args.extend(settings.iter().cloned());
        self.exec("sysctl", &args).map(drop)
    }

    /// Turns TX checksum offload off: veth otherwise hands partial checksums to XDP/AF_XDP.
    pub fn tx_offload_off(&self, dev: &str) -> Result<()> {
        self.exec("ethtool", &["-K", dev, "tx", "off"]).map(drop)
    }

    /// `ethtool -K DEV gro on`: a veth then receives through NAPI, which is what lets it
    /// take frames an XDP program redirects to its peer (rvsd's fast path).
    pub fn gro_on(&self, dev: &str) -> Result<()> {
        self.exec("ethtool", &["-K", dev, "gro", "on"]).map(drop)
    }
}

/// Runs a program to completion; non-zero exit becomes [`Error::Command`] with its stderr.
pub fn run(program: &str, args: &[&str]) -> Result<String> {
    let output = output(program, args)?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    Err(Error::Command {
        cmd: command_line(program, args),
        status: output.status.to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
    })
}

/// Runs a program to completion and returns its raw output whatever the exit status.
pub fn output(program: &str, args: &[&str]) -> Result<Output> {
    Command::new(program)
        .args(args)
        .output()
        .map_err(|source| Error::Spawn {
            cmd: command_line(program, args),
            package: package_of(program),
            source,
        })
}

/// The command as a user would type it, for error messages.
pub fn command_line(program: &str, args: &[&str]) -> String {
    let mut line = program.to_string();
    for arg in args {
        line.push(' ');
        line.push_str(arg);
    }
    line
}

/// The Debian package that ships a tool we call, so a missing tool's error says what to install.
fn package_of(program: &str) -> &'static str {
    match program {
        "ip" => "iproute2",
        "ethtool" => "ethtool",
        "sysctl" => "procps",
        "curl" => "curl",
        _ => "the one providing it",
    }
}
