//! The real engine: the AF_XDP data plane with one core `Director` per worker.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rvs_api::{ConnEntry, DataplaneCounters};
use rvs_core::config::Snapshot;
use rvs_core::director::{Director, DirectorOptions};
use rvs_dataplane::{Dataplane, DataplaneConfig, SteerEntry};

use crate::counters::CoreCounters;
use crate::engine::{Engine, Readings};

/// How long a control request waits for a busy worker.
const WORKER_TIMEOUT: Duration = Duration::from_secs(2);

/// The data plane driven by rvsd.
pub struct XdpEngine {
    dp: Dataplane<Director>,
}

impl XdpEngine {
    /// Attach to the interfaces and start the workers, with an empty configuration.
    pub fn start(config: DataplaneConfig, seed: u64) -> anyhow::Result<Self> {
        let dp = Dataplane::start(config, |n, cfg| {
            Director::new(DirectorOptions {
                seed: seed ^ (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                max_conns: cfg.max_conns,
                ..DirectorOptions::default()
            })
        })
        .context("starting the data plane")?;
        Ok(XdpEngine { dp })
    }

    /// Detach from the interfaces and stop the workers.
    pub fn stop(self) {
        self.dp.stop();
    }

    /// The source addresses for tunnels and ICMP errors: an address of a served interface
    /// that is not a VIP (the DIP), one per family.
    fn local_sources(&self, snapshot: &Snapshot) -> Vec<std::net::IpAddr> {
        let vips: Vec<_> = snapshot.steer_services().iter().map(|e| e.addr).collect();
        let served: Vec<u32> = self.dp.attachments().iter().map(|a| a.ifindex).collect();
        let mut out: Vec<std::net::IpAddr> = Vec::new();
        for la in self.dp.net_state().local_addresses() {
            let usable = served.contains(&la.ifindex)
                && !vips.contains(&la.addr)
                && !la.addr.is_loopback()
                && !matches!(la.addr, std::net::IpAddr::V6(a) if a.is_unicast_link_local());
            if usable && !out.iter().any(|o| o.is_ipv4() == la.addr.is_ipv4()) {
                out.push(la.addr);
            }
        }
        out
    }
}

impl Engine for XdpEngine {
    fn install(&mut self, snapshot: &Arc<Snapshot>) -> anyhow::Result<()> {
        let sources = self.local_sources(snapshot);
        let snap = snapshot.clone();
        // Wait for the workers, so that when the control request is answered the data plane
        // schedules by the new table, as ipvsadm's change is in force when it returns. A
        // worker slower than this keeps the job queued and applies it soon after.
        if let Err(e) = self.dp.query(
            move |d: &mut Director| {
                for a in &sources {
                    d.set_local_address(*a);
                }
                d.set_snapshot(snap.clone());
            },
            WORKER_TIMEOUT,
        ) {
            tracing::warn!(error = %e, "a worker has not applied the new table yet");
        }
        let mut entries: Vec<SteerEntry> = snapshot
            .steer_services()
            .into_iter()
            .map(|e| SteerEntry::Service {
                protocol: e.protocol,
                vip: e.addr,
                port: e.port,
            })
            .collect();
        entries.extend(snapshot.nat_real_servers().into_iter().map(|e| {
            SteerEntry::NatRealServer {
                protocol: e.protocol,
                rip: e.addr,
                port: e.port,
            }
        }));
        self.dp
            .apply_steering(&entries)
            .context("updating the steering maps")?;
        Ok(())
    }

    fn readings(&self, snapshot: &Snapshot) -> anyhow::Result<Readings> {
        let services: Vec<u32> = snapshot.services().iter().map(|s| s.id).collect();
        let dests: Vec<u32> = snapshot
            .services()
            .iter()
            .flat_map(|s| s.dests.iter().map(|d| d.id))
            .collect();
        let per_worker = self.dp.query(
            move |d: &mut Director| {
                let mut r = Readings::default();
                for id in &services {
                    if let Some(s) = d.service_stats(*id) {
                        r.services.insert(*id, s);
                    }
                }
                for id in &dests {
                    let st = d.dest_stats(*id).unwrap_or_default();
                    let conns = d.dest_conns(*id).unwrap_or_default();
                    r.dests.insert(*id, (st, conns));
                }
                r.connections = d.conn_count() as u64;
                r
            },
            WORKER_TIMEOUT,
        )?;
        let mut total = Readings::default();
        for r in per_worker {
            for (id, s) in r.services {
                total.services.entry(id).or_default().merge(&s);
            }
            for (id, (s, c)) in r.dests {
                let e = total.dests.entry(id).or_default();
                e.0.merge(&s);
                e.1.merge(&c);
            }
            total.connections += r.connections;
        }
        Ok(total)
    }

    fn connections(&self) -> anyhow::Result<Vec<ConnEntry>> {
        let now = self.dp.now();
        let per_worker = self.dp.query(
            move |d: &mut Director| crate::conns::entries(d, now),
            WORKER_TIMEOUT,
        )?;
        Ok(per_worker.into_iter().flatten().collect())
    }

    fn counters(&self) -> anyhow::Result<DataplaneCounters> {
        let cores = self
            .dp
            .query(|d: &mut Director| CoreCounters::read(d), WORKER_TIMEOUT)?;
        Ok(crate::counters::merge(&self.dp.stats(), &cores))
    }
}
