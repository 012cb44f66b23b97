//! What the control plane needs from the data plane: install a configuration, read the
//! workers' counters and connections, and the data plane's own counters. The real engine is the AF_XDP data plane; tests use a
//! recording double.

use std::collections::HashMap;
use std::sync::Arc;

use rvs_api::{ConnEntry, DataplaneCounters};
use rvs_core::config::Snapshot;
use rvs_core::director::DestConns;
use rvs_core::stats::StatsReading;

/// Per-service and per-destination figures merged over the workers.
#[derive(Debug, Clone, Default)]
pub struct Readings {
    /// By service id.
    pub services: HashMap<u32, StatsReading>,
    /// By destination id: counters and connection counts.
    pub dests: HashMap<u32, (StatsReading, DestConns)>,
    /// Connection entries held (connections and templates).
    pub connections: u64,
}

/// The data plane as the control plane drives it.
pub trait Engine: Send {
    /// Make `snapshot` the configuration every worker uses, and steer its packets.
    fn install(&mut self, snapshot: &Arc<Snapshot>) -> anyhow::Result<()>;
    /// Counters of every service and destination of `snapshot`, merged over the workers.
    fn readings(&self, snapshot: &Snapshot) -> anyhow::Result<Readings>;
    /// The connection tables of all workers.
    fn connections(&self) -> anyhow::Result<Vec<ConnEntry>>;
    /// The data plane's own counters (drops, steering, workers, AF_XDP, connection table).
    fn counters(&self) -> anyhow::Result<DataplaneCounters>;
}
