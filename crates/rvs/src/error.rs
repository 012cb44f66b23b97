//! The one error type of the `rvs` tool: every variant says what failed and, for commands, how.

use std::io;

/// What went wrong while building a lab, configuring a real server or serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A helper program (`ip`, `ethtool`, ...) could not be started at all.
    #[error("could not run `{cmd}`: {source} (is it installed? Debian package: {package})")]
    Spawn {
        /// The command line that was attempted.
        cmd: String,
        /// The Debian package that provides the program.
        package: &'static str,
        /// Why the start failed.
        source: io::Error,
    },
    /// A helper program ran and failed; its stderr says why.
    #[error("`{cmd}` failed ({status}): {stderr}")]
    Command {
        /// The command line that failed.
        cmd: String,
        /// Its exit status.
        status: String,
        /// Its standard error, trimmed.
        stderr: String,
    },
    /// A lab with this name already exists (fully or half built).
    #[error(
        "lab `{name}` already exists ({what}); remove it first with `rvs lab down --name {name}`"
    )]
    LabExists {
        /// The lab's name prefix.
        name: String,
        /// What was found (state directory, namespaces).
        what: String,
    },
    /// The lab name is not usable as a namespace prefix.
    #[error(
        "invalid lab name `{0}`: use 1 to 32 characters from a-z, A-Z, 0-9, `_` and `-`, starting with a letter or digit"
    )]
    BadName(String),
    /// A built-in server did not come up.
    #[error("built-in server `{name}` did not start: {why}")]
    ServerStart {
        /// The real server's name (`rs1`, `rs2`).
        name: String,
        /// What was observed (exit status, log tail, timeout).
        why: String,
    },
    /// A BPF operation (load, map update, lookup) failed.
    #[error("BPF: {0}")]
    Bpf(String),
    /// A netlink request failed.
    #[error("netlink: {0}")]
    Netlink(String),
    /// The request cannot be satisfied as asked.
    #[error("{0}")]
    Invalid(String),
    /// A file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, with the path if there is one.
        what: String,
        /// The underlying error.
        source: io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with a short description of what was being done.
    pub fn io(what: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }
}

/// Result with the tool's error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
