//! Errors a request can get back: a kind, the errno IPVS would return, and a message.

use rvs_core::config::ConfigError;
use serde::{Deserialize, Serialize};

/// Linux errno values carried in [`ApiError::errno`] (ipvsadm maps them to its messages).
pub mod errno {
    /// Operation not permitted.
    pub const EPERM: i32 = 1;
    /// No such file or directory (IPVS: no such destination / scheduler not found).
    pub const ENOENT: i32 = 2;
    /// No such process (IPVS: no such service).
    pub const ESRCH: i32 = 3;
    /// Input/output error.
    pub const EIO: i32 = 5;
    /// Out of memory.
    pub const ENOMEM: i32 = 12;
    /// File exists (IPVS: service / destination / daemon exists).
    pub const EEXIST: i32 = 17;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
    /// Numerical result out of range.
    pub const ERANGE: i32 = 34;
    /// Message too long (IPVS: module is wrong version).
    pub const EMSGSIZE: i32 = 90;
    /// Protocol not available.
    pub const ENOPROTOOPT: i32 = 92;
    /// Operation not supported.
    pub const EOPNOTSUPP: i32 = 95;
    /// Address family not supported.
    pub const EAFNOSUPPORT: i32 = 97;
}

/// What went wrong, in terms a client can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// Adding a service that exists (EEXIST).
    ServiceExists,
    /// The service does not exist (ESRCH).
    NoSuchService,
    /// Adding a destination that exists (EEXIST).
    DestExists,
    /// The destination does not exist (ENOENT).
    NoSuchDest,
    /// Unknown scheduler or persistence engine (ENOENT).
    NotFound,
    /// The operation contradicts IPVS rules (EINVAL).
    Invalid,
    /// A number is out of range, e.g. lower threshold above upper (ERANGE).
    OutOfRange,
    /// Valid for IPVS, but rvsd cannot do it (yet); the message names the feature (EOPNOTSUPP).
    Unsupported,
    /// A sync daemon of that kind already runs (EEXIST).
    DaemonRunning,
    /// No sync daemon of that kind runs (ESRCH).
    NoDaemon,
    /// The caller may not change the table (EPERM).
    PermissionDenied,
    /// The request line is not a valid request (bad JSON, unknown op, bad field) (EINVAL).
    BadRequest,
    /// The request's protocol version is not spoken by this server (EINVAL).
    BadVersion,
    /// The server failed for a reason of its own (EIO).
    Internal,
    /// A kind this client does not know (sent by a newer server).
    #[serde(other)]
    Other,
}

/// An error answer: kind, errno (as IPVS would return it) and a human-readable message.
///
/// `index` is set when an `apply` failed: the position of the failing change in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The category.
    pub kind: ErrorKind,
    /// The positive errno the kernel's IPVS returns for the same failure.
    pub errno: i32,
    /// What happened, for people.
    pub message: String,
    /// For `apply`: which change (0-based) failed; nothing was applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
}

impl ApiError {
    /// An error of this kind, errno and message.
    pub fn new(kind: ErrorKind, errno: i32, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            errno,
            message: message.into(),
            index: None,
        }
    }

    /// EEXIST: the service exists.
    pub fn service_exists() -> Self {
        Self::new(
            ErrorKind::ServiceExists,
            errno::EEXIST,
            "Service already exists",
        )
    }

    /// ESRCH: no such service.
    pub fn no_such_service() -> Self {
        Self::new(ErrorKind::NoSuchService, errno::ESRCH, "No such service")
    }

    /// EEXIST: the destination exists.
    pub fn dest_exists() -> Self {
        Self::new(
            ErrorKind::DestExists,
            errno::EEXIST,
            "Destination already exists",
        )
    }

    /// ENOENT: no such destination.
    pub fn no_such_dest() -> Self {
        Self::new(ErrorKind::NoSuchDest, errno::ENOENT, "No such destination")
    }

    /// EINVAL: the operation contradicts IPVS rules.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, errno::EINVAL, message)
    }

    /// EOPNOTSUPP: rvsd cannot do this yet; `feature` names what is missing.
    pub fn unsupported(feature: impl AsRef<str>) -> Self {
        Self::new(
            ErrorKind::Unsupported,
            errno::EOPNOTSUPP,
            format!("rvsd does not support {} yet", feature.as_ref()),
        )
    }

    /// EINVAL: the request line is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, errno::EINVAL, message)
    }

    /// The same error, marked as failing at position `index` of an `apply`.
    pub fn at(mut self, index: usize) -> Self {
        self.index = Some(index);
        self
    }
}

impl From<&ConfigError> for ApiError {
    fn from(e: &ConfigError) -> Self {
        let kind = match e {
            ConfigError::ServiceExists => ErrorKind::ServiceExists,
            ConfigError::NoService => ErrorKind::NoSuchService,
            ConfigError::DestExists => ErrorKind::DestExists,
            ConfigError::NoDest => ErrorKind::NoSuchDest,
            ConfigError::NoScheduler(_) | ConfigError::NoPersistenceEngine(_) => {
                ErrorKind::NotFound
            }
            ConfigError::OutOfRange(_) => ErrorKind::OutOfRange,
            ConfigError::Invalid(_) => ErrorKind::Invalid,
            ConfigError::Unsupported(what) => return ApiError::unsupported(what),
            _ => ErrorKind::Other,
        };
        ApiError::new(kind, e.errno(), e.to_string())
    }
}

impl From<ConfigError> for ApiError {
    fn from(e: ConfigError) -> Self {
        ApiError::from(&e)
    }
}
