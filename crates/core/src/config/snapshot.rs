//! The immutable view of the configuration that workers apply, and what the XDP steering
//! program needs from it.

use core::net::IpAddr;
use std::collections::HashMap;

use crate::model::{
    DestConfig, Family, ForwardMethod, Protocol, ServiceConfig, ServiceKey, Timeouts,
};

/// A destination (real server) as the snapshot holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    /// Stable id: survives edits, and a destination re-added to the same service after a
    /// delete gets its old id back (IPVS revives it from the trash).
    pub id: u32,
    /// The settings, with the port normalised as IPVS stores it (DR/TUN: the service port;
    /// NAT without a port: the service port; 0 only for port-0 and fwmark services, meaning
    /// "keep the packet's port").
    pub config: DestConfig,
    /// Bumped by `-Z` on this destination's service (or all services); workers take a zero
    /// point when it changes.
    pub zero_epoch: u64,
}

/// A virtual service as the snapshot holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Stable id (never reused).
    pub id: u32,
    /// The settings.
    pub config: ServiceConfig,
    /// Destinations in IPVS list order: newest first.
    pub dests: Vec<Dest>,
    /// Bumped by `-Z` on this service (or all services).
    pub zero_epoch: u64,
}

impl Service {
    /// The address family of the service (from its VIP or its fwmark family).
    pub fn family(&self) -> Family {
        key_family(&self.config.key)
    }

    /// The destination with this address and (normalised) port.
    pub fn dest(&self, addr: IpAddr, port: u16) -> Option<&Dest> {
        self.dests
            .iter()
            .find(|d| d.config.addr == addr && d.config.port == port)
    }
}

/// The family of a service key.
pub fn key_family(key: &ServiceKey) -> Family {
    match key {
        ServiceKey::Addr { addr, .. } => family_of(*addr),
        ServiceKey::Fwmark { family, .. } => *family,
    }
}

/// The family of an address.
pub fn family_of(addr: IpAddr) -> Family {
    match addr {
        IpAddr::V4(_) => Family::Inet,
        IpAddr::V6(_) => Family::Inet6,
    }
}

/// One (protocol, address, port) the XDP program must redirect to the data plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SteerEntry {
    /// Transport protocol.
    pub protocol: Protocol,
    /// The VIP (for services) or RIP (for NAT real servers).
    pub addr: IpAddr,
    /// The port; 0 means every port of `addr`.
    pub port: u16,
}

/// An immutable configuration the workers apply; a new one is built after every change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// Increases by one with every successful change.
    pub generation: u64,
    /// Connection timeouts (`--set`).
    pub timeouts: Timeouts,
    /// Bumped by `-Z` without a service: workers zero the global counters too.
    pub zero_epoch: u64,
    services: Vec<Service>,
    by_addr: HashMap<(Protocol, IpAddr, u16), usize>,
    by_mark: HashMap<(u32, Family), usize>,
}

impl Snapshot {
    /// A snapshot of these services (in listing order).
    pub(crate) fn build(
        generation: u64,
        timeouts: Timeouts,
        zero_epoch: u64,
        services: Vec<Service>,
    ) -> Self {
        let mut by_addr = HashMap::new();
        let mut by_mark = HashMap::new();
        for (i, svc) in services.iter().enumerate() {
            match svc.config.key {
                ServiceKey::Addr {
                    protocol,
                    addr,
                    port,
                } => {
                    by_addr.insert((protocol, addr, port), i);
                }
                ServiceKey::Fwmark { mark, family } => {
                    by_mark.insert((mark, family), i);
                }
            }
        }
        Snapshot {
            generation,
            timeouts,
            zero_epoch,
            services,
            by_addr,
            by_mark,
        }
    }

    /// All services, in the order they were added.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The service with this key.
    pub fn service(&self, key: &ServiceKey) -> Option<&Service> {
        let i = match *key {
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => self.by_addr.get(&(protocol, addr, port)),
            ServiceKey::Fwmark { mark, family } => self.by_mark.get(&(mark, family)),
        };
        i.map(|&i| &self.services[i])
    }

    /// The service with this id.
    pub fn service_by_id(&self, id: u32) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    /// The service a packet to (protocol, VIP, port) belongs to, as `ip_vs_service_find`
    /// looks it up: the exact (protocol, VIP, port) service, else the VIP-wide port-0 one.
    ///
    /// Firewall-mark services are never found here: the data plane sees no marks.
    pub fn lookup(&self, protocol: Protocol, vip: IpAddr, port: u16) -> Option<&Service> {
        let i = self.by_addr.get(&(protocol, vip, port)).or_else(|| {
            if port != 0 {
                self.by_addr.get(&(protocol, vip, 0))
            } else {
                None
            }
        })?;
        Some(&self.services[*i])
    }

    /// What the XDP program redirects for client traffic: one entry per (protocol, VIP,
    /// port) service; port 0 stands for every port of the VIP. Sorted, no duplicates.
    pub fn steer_services(&self) -> Vec<SteerEntry> {
        let mut v: Vec<SteerEntry> = self
            .services
            .iter()
            .filter_map(|s| match s.config.key {
                ServiceKey::Addr {
                    protocol,
                    addr,
                    port,
                } => Some(SteerEntry {
                    protocol,
                    addr,
                    port,
                }),
                ServiceKey::Fwmark { .. } => None,
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Firewall-mark services. The XDP program cannot steer these (a mark is set by
    /// netfilter after XDP has run), so they never reach the data plane; they are listed so
    /// the control plane can warn about them.
    pub fn fwmark_services(&self) -> Vec<(u32, Family)> {
        self.services
            .iter()
            .filter_map(|s| match s.config.key {
                ServiceKey::Fwmark { mark, family } => Some((mark, family)),
                ServiceKey::Addr { .. } => None,
            })
            .collect()
    }

    /// NAT real servers whose replies the XDP program redirects: (service protocol, RIP,
    /// RIP port); port 0 stands for every port (real servers of port-0 services). Real
    /// servers of fwmark services are left out since those services are not steered.
    /// Sorted, no duplicates.
    pub fn nat_real_servers(&self) -> Vec<SteerEntry> {
        let mut v = Vec::new();
        for s in &self.services {
            let ServiceKey::Addr { protocol, .. } = s.config.key else {
                continue;
            };
            for d in &s.dests {
                if d.config.method == ForwardMethod::Masq {
                    v.push(SteerEntry {
                        protocol,
                        addr: d.config.addr,
                        port: d.config.port,
                    });
                }
            }
        }
        v.sort();
        v.dedup();
        v
    }
}
