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

/// A recording test double: keeps every snapshot installed, reports fixed figures for every
/// service and destination, and fails on request.
#[cfg(test)]
pub mod double {
    use std::sync::Mutex;

    use rvs_core::model::Counters;

    use super::*;

    /// What the double saw and what it answers; shared with the test through an `Arc`.
    #[derive(Debug, Default)]
    pub struct Log {
        /// Every snapshot installed, in order.
        pub installs: Vec<Arc<Snapshot>>,
        /// Fail every call from now on.
        pub fail: bool,
        /// The answer to `counters`.
        pub counters: DataplaneCounters,
    }

    /// The traffic counters every service and destination reports.
    pub const TRAFFIC: Counters = Counters {
        conns: 3,
        inpkts: 30,
        outpkts: 20,
        inbytes: 1800,
        outbytes: 30000,
    };

    /// The connections every destination reports.
    pub const CONNS: DestConns = DestConns {
        active: 2,
        inactive: 1,
        persistent: 0,
    };

    /// The engine double.
    #[derive(Debug, Clone, Default)]
    pub struct RecordingEngine(pub Arc<Mutex<Log>>);

    impl RecordingEngine {
        fn log(&self) -> std::sync::MutexGuard<'_, Log> {
            self.0.lock().unwrap_or_else(|p| p.into_inner())
        }

        fn check(&self) -> anyhow::Result<()> {
            if self.log().fail {
                anyhow::bail!("the double was told to fail");
            }
            Ok(())
        }
    }

    impl Engine for RecordingEngine {
        fn install(&mut self, snapshot: &Arc<Snapshot>) -> anyhow::Result<()> {
            self.check()?;
            self.log().installs.push(snapshot.clone());
            Ok(())
        }

        fn readings(&self, snapshot: &Snapshot) -> anyhow::Result<Readings> {
            self.check()?;
            let reading = StatsReading {
                counters: TRAFFIC,
                ..StatsReading::default()
            };
            let mut r = Readings::default();
            for s in snapshot.services() {
                r.services.insert(s.id, reading);
                for d in &s.dests {
                    r.dests.insert(d.id, (reading, CONNS));
                }
            }
            Ok(r)
        }

        fn connections(&self) -> anyhow::Result<Vec<ConnEntry>> {
            self.check()?;
            Ok(Vec::new())
        }

        fn counters(&self) -> anyhow::Result<DataplaneCounters> {
            self.check()?;
            Ok(self.log().counters.clone())
        }
    }
}
