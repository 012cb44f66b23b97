//! The operations of the protocol and their JSON shapes.
//!
//! Every request is a JSON object with `"v"`, `"id"`, `"op"` (the operation's name) and the
//! operation's fields. Changes ([`Mutation`]) may also be sent together in one `apply`.

use core::net::IpAddr;

use rvs_core::model::{DestConfig, ServiceConfig, ServiceKey, Timeouts};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::entries::{DaemonState, SyncDaemon};

/// A change of the table: what `-A -E -D -C -a -e -d -Z --set` do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Mutation {
    /// Add a virtual service (`-A`).
    AddService {
        /// The new service.
        service: ServiceConfig,
    },
    /// Replace the settings of a service (`-E`).
    EditService {
        /// The service's new settings (found by its key).
        service: ServiceConfig,
    },
    /// Delete a service and its destinations (`-D`).
    DelService {
        /// Which service.
        service: ServiceKey,
    },
    /// Delete every service (`-C`).
    Flush,
    /// Add a destination to a service (`-a`).
    AddDest {
        /// Which service.
        service: ServiceKey,
        /// The new destination.
        dest: DestConfig,
    },
    /// Replace the settings of a destination (`-e`).
    EditDest {
        /// Which service.
        service: ServiceKey,
        /// The destination's new settings (found by address and port).
        dest: DestConfig,
    },
    /// Delete a destination (`-d`).
    DelDest {
        /// Which service.
        service: ServiceKey,
        /// The real server address.
        addr: IpAddr,
        /// The real server port.
        port: u16,
    },
    /// Zero the counters of one service, or of all services and the global counters (`-Z`).
    Zero {
        /// Which service; none = all.
        #[serde(default)]
        service: Option<ServiceKey>,
    },
    /// Set the TCP, TCP FIN and UDP timeouts; 0 leaves one unchanged (`--set`).
    SetTimeouts {
        /// The new timeouts.
        timeouts: Timeouts,
    },
}

/// The names of the [`Mutation`] operations.
pub const MUTATION_OPS: &[&str] = &[
    "add_service",
    "edit_service",
    "del_service",
    "flush",
    "add_dest",
    "edit_dest",
    "del_dest",
    "zero",
    "set_timeouts",
];

/// A question, or a sync-daemon command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Query {
    /// All services with destinations, counters and rates → `[ServiceEntry]`.
    ListServices,
    /// One service → `ServiceEntry`.
    GetService {
        /// Which service.
        service: ServiceKey,
    },
    /// The connection table, templates included → `[ConnEntry]`.
    ListConnections,
    /// The TCP, TCP FIN and UDP timeouts → `Timeouts`.
    GetTimeouts,
    /// Version and table size → `Info`.
    Info,
    /// The running sync daemons → `[SyncDaemon]`.
    DaemonStatus,
    /// Start a sync daemon → `null`.
    StartDaemon {
        /// The daemon's settings.
        daemon: SyncDaemon,
    },
    /// Stop a sync daemon → `null`.
    StopDaemon {
        /// Which daemon.
        state: DaemonState,
    },
    /// The data plane's counters (drops by reason, steering, workers, AF_XDP sockets, ICMP,
    /// connection table) → `DataplaneCounters`.
    Counters,
}

/// The names of the [`Query`] operations.
pub const QUERY_OPS: &[&str] = &[
    "list_services",
    "get_service",
    "list_connections",
    "get_timeouts",
    "info",
    "daemon_status",
    "start_daemon",
    "stop_daemon",
    "counters",
];

/// One request's operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A single change → `null`.
    Mutate(Mutation),
    /// A question or daemon command.
    Query(Query),
    /// Several changes applied all-or-nothing, in order → `null`
    /// (JSON: `{"op":"apply","ops":[...]}`).
    Apply(Vec<Mutation>),
}

impl Op {
    /// The operation's name as sent in `"op"`.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Mutate(m) => m.name(),
            Op::Query(q) => q.name(),
            Op::Apply(_) => "apply",
        }
    }
}

impl Mutation {
    /// The operation's name as sent in `"op"`.
    pub fn name(&self) -> &'static str {
        match self {
            Mutation::AddService { .. } => "add_service",
            Mutation::EditService { .. } => "edit_service",
            Mutation::DelService { .. } => "del_service",
            Mutation::Flush => "flush",
            Mutation::AddDest { .. } => "add_dest",
            Mutation::EditDest { .. } => "edit_dest",
            Mutation::DelDest { .. } => "del_dest",
            Mutation::Zero { .. } => "zero",
            Mutation::SetTimeouts { .. } => "set_timeouts",
        }
    }
}

impl Query {
    /// The operation's name as sent in `"op"`.
    pub fn name(&self) -> &'static str {
        match self {
            Query::ListServices => "list_services",
            Query::GetService { .. } => "get_service",
            Query::ListConnections => "list_connections",
            Query::GetTimeouts => "get_timeouts",
            Query::Info => "info",
            Query::DaemonStatus => "daemon_status",
            Query::StartDaemon { .. } => "start_daemon",
            Query::StopDaemon { .. } => "stop_daemon",
            Query::Counters => "counters",
        }
    }
}

impl From<Mutation> for Op {
    fn from(m: Mutation) -> Self {
        Op::Mutate(m)
    }
}

impl From<Query> for Op {
    fn from(q: Query) -> Self {
        Op::Query(q)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum ApplyShape<T> {
    Apply { ops: T },
}

impl Serialize for Op {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Op::Mutate(m) => m.serialize(s),
            Op::Query(q) => q.serialize(s),
            Op::Apply(ops) => ApplyShape::Apply { ops }.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let name = match v.get("op") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(D::Error::custom("\"op\" must be a string")),
            None => return Err(D::Error::custom("missing field `op`")),
        };
        if name == "apply" {
            let ApplyShape::Apply { ops } =
                ApplyShape::<Vec<Mutation>>::deserialize(v).map_err(D::Error::custom)?;
            Ok(Op::Apply(ops))
        } else if MUTATION_OPS.contains(&name.as_str()) {
            Mutation::deserialize(v)
                .map(Op::Mutate)
                .map_err(D::Error::custom)
        } else if QUERY_OPS.contains(&name.as_str()) {
            Query::deserialize(v)
                .map(Op::Query)
                .map_err(D::Error::custom)
        } else {
            Err(D::Error::custom(format!("unknown op `{name}`")))
        }
    }
}
