//! The rvsd control protocol (versioned JSON lines) and a small blocking client.
//!
//! A client writes one request per line to rvsd's Unix socket and reads one response line
//! per request, in order:
//!
//! ```text
//! → {"v":1,"id":7,"op":"del_service","service":{"addr":{"protocol":"tcp","addr":"10.0.0.1","port":80}}}
//! ← {"v":1,"id":7,"error":{"kind":"no_such_service","errno":3,"message":"No such service"}}
//! ```
//!
//! The operations mirror IPVS's control interface one to one ([`Op`]); `apply` runs a list of
//! changes all-or-nothing; `counters` adds the data plane's own counters
//! ([`DataplaneCounters`]). The full description is `docs/api.md`.
//!
//! - [`Client`]: the blocking client (over [`UnixTransport`], or any [`Transport`]).
//! - [`Backend`] and [`handle_line`]: the server side; rvsd implements `Backend` and feeds each
//!   request line to `handle_line`.
//! - `MemoryBackend` (feature `memory`): an in-memory `Backend` on rvs-core's `Config`, for
//!   tests of clients.

mod client;
mod counters;
mod entries;
mod error;
#[cfg(feature = "memory")]
mod memory;
mod op;
mod server;
mod transport;
mod validate;

pub use client::{Client, ClientError};
pub use counters::{DataplaneCounters, SteerCounters, TableCounters, WorkerCounters};
pub use entries::{ConnEntry, DaemonState, DestEntry, Info, ServiceEntry, SyncDaemon};
pub use error::{ApiError, ErrorKind, errno};
#[cfg(feature = "memory")]
pub use memory::{DestCounts, MemoryBackend};
pub use op::{MUTATION_OPS, Mutation, Op, QUERY_OPS, Query};
pub use server::{Backend, apply_mutation, handle_line};
pub use transport::{LocalTransport, Transport, UnixTransport};

/// The connection hash-table size reported to `ipvsadm -L` ("size="): IPVS's default
/// 2^12 buckets (rvsd's table is sized by `--max-conns`, not by buckets).
pub const CONN_TAB_SIZE: u32 = 4096;

/// The protocol version this crate speaks (the `"v"` field of every line).
pub const PROTOCOL_VERSION: u32 = 1;

/// Where rvsd listens unless [`SOCKET_ENV`] says otherwise.
pub const DEFAULT_SOCKET: &str = "/run/rvs/rvsd.sock";

/// The environment variable that overrides [`DEFAULT_SOCKET`].
pub const SOCKET_ENV: &str = "RVS_SOCKET";

/// The IPVS version rvsd reports (1.2.1, as every current kernel does).
pub const IPVS_VERSION_CODE: u32 = 0x01_02_01;

/// The socket path to use: `$RVS_SOCKET` if set and non-empty, else [`DEFAULT_SOCKET`].
pub fn socket_path() -> std::path::PathBuf {
    match std::env::var_os(SOCKET_ENV) {
        Some(p) if !p.is_empty() => p.into(),
        _ => DEFAULT_SOCKET.into(),
    }
}
