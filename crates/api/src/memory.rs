//! An in-memory [`Backend`]: rvs-core's [`Config`] (the same rules and errors as rvsd) plus
//! counters, data plane counters and a connection table that tests set by hand. No data
//! plane, no clock.

use core::net::IpAddr;
use std::collections::HashMap;

use rvs_core::config::Config;
use rvs_core::model::{Counters, DestConfig, Rates, ServiceConfig, ServiceKey, Timeouts};

use crate::IPVS_VERSION_CODE;
use crate::counters::DataplaneCounters;
use crate::entries::{ConnEntry, DestEntry, Info, ServiceEntry};
use crate::error::ApiError;
use crate::op::Mutation;
use crate::server::{Backend, apply_mutation};

/// What a destination shows besides its settings: connection counts, counters, rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DestCounts {
    /// ActiveConn.
    pub active_conns: u32,
    /// InActConn.
    pub inact_conns: u32,
    /// PersistConn (templates).
    pub persist_conns: u32,
    /// Counters.
    pub stats: Counters,
    /// Rates.
    pub rates: Rates,
}

/// A table of services with IPVS semantics, held in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryBackend {
    config: Config,
    /// Per service id.
    service_counts: HashMap<u32, (Counters, Rates)>,
    /// Per destination id.
    dest_counts: HashMap<u32, DestCounts>,
    connections: Vec<ConnEntry>,
    dataplane: DataplaneCounters,
}

impl MemoryBackend {
    /// An empty table with default timeouts.
    pub fn new() -> Self {
        Self::default()
    }

    /// The underlying configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Set the counters and rates a service shows.
    pub fn set_service_counts(
        &mut self,
        key: &ServiceKey,
        stats: Counters,
        rates: Rates,
    ) -> Result<(), ApiError> {
        let id = self
            .config
            .service(key)
            .ok_or_else(ApiError::no_such_service)?
            .id;
        self.service_counts.insert(id, (stats, rates));
        Ok(())
    }

    /// Set what a destination shows (connection counts, counters, rates).
    pub fn set_dest_counts(
        &mut self,
        key: &ServiceKey,
        addr: IpAddr,
        port: u16,
        counts: DestCounts,
    ) -> Result<(), ApiError> {
        let svc = self
            .config
            .service(key)
            .ok_or_else(ApiError::no_such_service)?;
        let dest = svc.dest(addr, port).ok_or_else(ApiError::no_such_dest)?;
        self.dest_counts.insert(dest.id, counts);
        Ok(())
    }

    /// Replace the connection table.
    pub fn set_connections(&mut self, connections: Vec<ConnEntry>) {
        self.connections = connections;
    }

    /// Set what the `counters` query answers (`zero` leaves them, as rvsd does).
    pub fn set_counters(&mut self, counters: DataplaneCounters) {
        self.dataplane = counters;
    }

    fn entry(&self, svc: &rvs_core::config::Service) -> ServiceEntry {
        let (stats, rates) = self
            .service_counts
            .get(&svc.id)
            .copied()
            .unwrap_or_default();
        let dests = svc
            .dests
            .iter()
            .map(|d| {
                let c = self.dest_counts.get(&d.id).copied().unwrap_or_default();
                DestEntry {
                    dest: d.config.clone(),
                    active_conns: c.active_conns,
                    inact_conns: c.inact_conns,
                    persist_conns: c.persist_conns,
                    stats: c.stats,
                    rates: c.rates,
                }
            })
            .collect();
        ServiceEntry {
            service: svc.config.clone(),
            stats,
            rates,
            dests,
        }
    }

    /// Forget counters of services and destinations that no longer exist, so that a
    /// re-added one starts from zero.
    fn prune(&mut self) {
        let services = self.config.services();
        self.service_counts
            .retain(|id, _| services.iter().any(|s| s.id == *id));
        self.dest_counts
            .retain(|id, _| services.iter().any(|s| s.dests.iter().any(|d| d.id == *id)));
    }

    fn zero_service(&mut self, id: u32) {
        self.service_counts.remove(&id);
        let Some(svc) = self.config.services().iter().find(|s| s.id == id) else {
            return;
        };
        for d in &svc.dests {
            if let Some(c) = self.dest_counts.get_mut(&d.id) {
                c.stats = Counters::default();
                c.rates = Rates::default();
            }
        }
    }
}

impl Backend for MemoryBackend {
    fn add_service(&mut self, service: &ServiceConfig) -> Result<(), ApiError> {
        self.config.add_service(service.clone())?;
        Ok(())
    }

    fn edit_service(&mut self, service: &ServiceConfig) -> Result<(), ApiError> {
        Ok(self.config.edit_service(service.clone())?)
    }

    fn del_service(&mut self, service: &ServiceKey) -> Result<(), ApiError> {
        self.config.del_service(service)?;
        self.prune();
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ApiError> {
        self.config.flush();
        self.prune();
        Ok(())
    }

    fn add_dest(&mut self, service: &ServiceKey, dest: &DestConfig) -> Result<(), ApiError> {
        self.config.add_dest(service, dest.clone())?;
        Ok(())
    }

    fn edit_dest(&mut self, service: &ServiceKey, dest: &DestConfig) -> Result<(), ApiError> {
        Ok(self.config.edit_dest(service, dest.clone())?)
    }

    fn del_dest(&mut self, service: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), ApiError> {
        self.config.del_dest(service, addr, port)?;
        self.prune();
        Ok(())
    }

    fn zero(&mut self, service: Option<&ServiceKey>) -> Result<(), ApiError> {
        self.config.zero(service)?;
        let ids: Vec<u32> = match service {
            Some(k) => self.config.service(k).map(|s| s.id).into_iter().collect(),
            None => self.config.services().iter().map(|s| s.id).collect(),
        };
        for id in ids {
            self.zero_service(id);
        }
        Ok(())
    }

    fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<(), ApiError> {
        Ok(self.config.set_timeouts(*timeouts)?)
    }

    fn apply(&mut self, ops: &[Mutation]) -> Result<(), ApiError> {
        let mut scratch = self.clone();
        for (i, m) in ops.iter().enumerate() {
            apply_mutation(&mut scratch, m).map_err(|e| e.at(i))?;
        }
        *self = scratch;
        Ok(())
    }

    fn list_services(&self) -> Result<Vec<ServiceEntry>, ApiError> {
        Ok(self
            .config
            .services()
            .iter()
            .map(|s| self.entry(s))
            .collect())
    }

    fn get_service(&self, service: &ServiceKey) -> Result<ServiceEntry, ApiError> {
        let svc = self
            .config
            .service(service)
            .ok_or_else(ApiError::no_such_service)?;
        Ok(self.entry(svc))
    }

    fn list_connections(&self) -> Result<Vec<ConnEntry>, ApiError> {
        Ok(self.connections.clone())
    }

    fn get_timeouts(&self) -> Result<Timeouts, ApiError> {
        Ok(self.config.timeouts())
    }

    fn info(&self) -> Result<Info, ApiError> {
        Ok(Info {
            version_code: IPVS_VERSION_CODE,
            conn_tab_size: crate::CONN_TAB_SIZE,
            connections: self.connections.len() as u64,
        })
    }

    fn counters(&self) -> Result<DataplaneCounters, ApiError> {
        Ok(self.dataplane.clone())
    }
}
