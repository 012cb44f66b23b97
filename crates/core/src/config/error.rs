//! Errors of control-plane operations, each mapping to the errno the kernel returns.

use core::fmt;

/// Why a [`Config`](super::Config) operation was refused. A refused operation changes nothing.
///
/// [`ConfigError::errno`] gives the errno the kernel's IPVS returns for the same case, which
/// is what ipvsadm turns into its messages (reference §1.8).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// Adding a service that already exists (EEXIST: "Service already exists").
    ServiceExists,
    /// The service named by an edit, delete, zero or destination operation does not exist
    /// (ESRCH: "No such service" / "Service not defined").
    NoService,
    /// Adding a destination that the service already has (EEXIST: "Destination already exists").
    DestExists,
    /// Editing or deleting a destination the service does not have (ENOENT: "No such destination").
    NoDest,
    /// The scheduler name is not one of the 14 schedulers (ENOENT: "Scheduler or persistence
    /// engine not found").
    NoScheduler(String),
    /// The persistence engine is not available (ENOENT, same message as a missing scheduler).
    NoPersistenceEngine(String),
    /// A numeric field is out of range: negative weight or lower threshold above the upper one
    /// (ERANGE: "Numerical result out of range").
    OutOfRange(&'static str),
    /// The request is malformed or contradicts IPVS rules (EINVAL: "Invalid operation...").
    Invalid(&'static str),
    /// The request is valid for IPVS but this data plane cannot do it, e.g. GUE or GRE
    /// tunnels (EOPNOTSUPP).
    Unsupported(&'static str),
}

/// Linux errno values used by [`ConfigError::errno`].
pub mod errno {
    /// No such file or directory.
    pub const ENOENT: i32 = 2;
    /// No such process (IPVS: no such service).
    pub const ESRCH: i32 = 3;
    /// File exists.
    pub const EEXIST: i32 = 17;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
    /// Numerical result out of range.
    pub const ERANGE: i32 = 34;
    /// Operation not supported.
    pub const EOPNOTSUPP: i32 = 95;
}

impl ConfigError {
    /// The errno the kernel returns for this case (positive value).
    pub const fn errno(&self) -> i32 {
        match self {
            ConfigError::ServiceExists | ConfigError::DestExists => errno::EEXIST,
            ConfigError::NoService => errno::ESRCH,
            ConfigError::NoDest
            | ConfigError::NoScheduler(_)
            | ConfigError::NoPersistenceEngine(_) => errno::ENOENT,
            ConfigError::OutOfRange(_) => errno::ERANGE,
            ConfigError::Invalid(_) => errno::EINVAL,
            ConfigError::Unsupported(_) => errno::EOPNOTSUPP,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::ServiceExists => f.write_str("Service already exists"),
            ConfigError::NoService => f.write_str("No such service"),
            ConfigError::DestExists => f.write_str("Destination already exists"),
            ConfigError::NoDest => f.write_str("No such destination"),
            ConfigError::NoScheduler(name) => write!(f, "Scheduler not found: {name:?}"),
            ConfigError::NoPersistenceEngine(name) => {
                write!(f, "Persistence engine not found: {name:?}")
            }
            ConfigError::OutOfRange(what) => write!(f, "Numerical result out of range: {what}"),
            ConfigError::Invalid(what) => write!(f, "Invalid operation: {what}"),
            ConfigError::Unsupported(what) => write!(f, "Operation not supported: {what}"),
        }
    }
}

impl std::error::Error for ConfigError {}
