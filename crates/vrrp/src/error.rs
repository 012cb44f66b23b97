//! Errors, split by layer: configuration (fatal at start), received packets (counted
//! drops, never fatal) and the driver (I/O).

use std::io;

use crate::packet::DecodeError;

/// A configuration keepalived would refuse to run. Fatal: nothing is started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A `vrrp_instance` is invalid.
    #[error("vrrp_instance {name}: {reason}")]
    Instance {
        /// Instance name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A `vrrp_script` is invalid.
    #[error("vrrp_script {name}: {reason}")]
    Script {
        /// Script name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A `vrrp_sync_group` is invalid.
    #[error("vrrp_sync_group {name}: {reason}")]
    SyncGroup {
        /// Group name.
        name: String,
        /// What is wrong.
        reason: String,
    },
}

/// Why a received packet was dropped before the state machine saw it. Never fatal: each
/// is counted (see [`crate::Stats`]) and logged at debug level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RxError {
    /// The bytes are not a valid advertisement.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// No instance on this interface and family has the VRID.
    #[error("no instance for VRID {0}")]
    UnknownVrid(u8),
    /// A multicast advert whose TTL / hop limit is not 255, or a unicast one outside the
    /// peer's `min_ttl`/`max_ttl`.
    #[error("invalid TTL/HL {0}")]
    Ttl(u8),
    /// The version differs from the instance's.
    #[error("wrong VRRP version {0}")]
    Version(u8),
    /// v2 auth type differs from ours.
    #[error("auth type {got}, expecting {want}")]
    AuthType {
        /// Type received.
        got: u8,
        /// Type configured.
        want: u8,
    },
    /// v2 PASS password differs.
    #[error("invalid password")]
    Password,
    /// v2 advert interval differs from ours (keepalived drops these).
    #[error("advertisement interval mismatch: mine {mine} s, received {got} s")]
    Interval {
        /// Ours.
        mine: u16,
        /// Theirs.
        got: u16,
    },
    /// Multicast advert to a unicast instance, or the reverse.
    #[error("unicast/multicast mismatch")]
    UnicastMismatch,
    /// `check_unicast_src` and the source is not a configured peer.
    #[error("source is not a unicast peer")]
    UnknownPeer,
    /// Our own advert came back (multicast loop).
    #[error("own advert")]
    OwnPacket,
    /// The instance is in FAULT or stopped and listens to nothing.
    #[error("instance not listening")]
    NotListening,
}

/// A failure of the driver: sockets, netlink, scripts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: io::Error,
    },
    /// A netlink request failed or its reply made no sense.
    #[error("netlink: {0}")]
    Netlink(String),
    /// An interface named in the configuration does not exist.
    #[error("no interface {0}")]
    NoInterface(String),
    /// The new configuration cannot be applied in place; the driver must be restarted.
    #[error("cannot reconfigure in place: {0}")]
    NeedsRestart(String),
}

impl Error {
    /// An I/O error with context.
    pub(crate) fn io(what: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            what: what.into(),
            source,
        }
    }
}
