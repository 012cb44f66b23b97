//! Errors of the data plane. All of them happen at set-up or control time; the packet path
//! never returns an error, it counts drops.

use std::io;

/// An error from setting up or controlling the data plane.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call failed (socket, mmap, setsockopt, bind...). Fatal for the operation.
    #[error("{call}: {source}")]
    Sys {
        /// The call that failed.
        call: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Loading, attaching or updating the BPF program or its maps failed.
    #[error("bpf: {0}")]
    Bpf(String),
    /// A netlink request failed or the kernel answered with an error.
    #[error("netlink: {0}")]
    Netlink(String),
    /// The named interface does not exist.
    #[error("no such interface: {0}")]
    NoInterface(String),
    /// Another XDP program (not ours, or ours held by a live process) is on the interface.
    #[error("interface {iface} already has XDP program {name:?} (id {id}); not replacing it")]
    ForeignProgram {
        /// The interface.
        iface: String,
        /// The attached program's name.
        name: String,
        /// The attached program's id.
        id: u32,
    },
    /// The configuration is not usable (zero workers, too many queues or interfaces...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A worker did not answer a control request in time or has stopped.
    #[error("worker {0} is not answering")]
    WorkerGone(usize),
}

impl Error {
    /// The last OS error, attributed to `call`.
    pub(crate) fn last_os(call: &'static str) -> Self {
        Error::Sys {
            call,
            source: io::Error::last_os_error(),
        }
    }

    /// An OS error, attributed to `call`.
    /// Whether this is the kernel's "device or resource busy" (EBUSY).
    pub(crate) fn is_busy(&self) -> bool {
        matches!(self, Error::Sys { source, .. } if source.raw_os_error() == Some(libc::EBUSY))
    }

    pub(crate) fn sys(call: &'static str, source: io::Error) -> Self {
        Error::Sys { call, source }
    }
}

/// Result with the data plane's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
