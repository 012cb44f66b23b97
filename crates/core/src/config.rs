//! The control-plane table of services and destinations, with IPVS semantics and errors.
//!
//! [`Config`] is what the control socket edits (`rvsadm` / `rvs-keepalived` requests map one
//! to one onto its methods). Every operation validates like the kernel's `ip_vs_ctl.c` (plus
//! the checks ipvsadm makes before it calls the kernel) and is all-or-nothing: an operation
//! that returns an error changes nothing, not even the generation.
//!
//! After every successful change a new immutable [`Snapshot`] is built; [`Config::snapshot`]
//! hands it out as an `Arc` that the control task passes to each worker's
//! [`Director::set_snapshot`](crate::director::Director::set_snapshot). The snapshot also
//! lists what the XDP steering program must redirect ([`Snapshot::steer_services`],
//! [`Snapshot::nat_real_servers`]).
//!
//! Ids: every service and destination gets a stable `u32` id. Edits keep it; a destination
//! deleted and re-added to the same service gets its old id back, as IPVS revives a
//! destination from its trash (connections still pointing at it carry on). Ids of deleted
//! services are never reused.

mod error;
mod snapshot;

use core::net::IpAddr;
use std::collections::HashMap;
use std::sync::Arc;

pub use error::{ConfigError, errno};
pub use snapshot::{Dest, Service, Snapshot, SteerEntry, family_of, key_family};

use crate::model::{
    DestConfig, Family, ForwardMethod, Protocol, ServiceConfig, ServiceKey, Timeouts, TunnelType,
};

/// The longest timeout `--set` accepts, in seconds (the kernel refuses values whose jiffies
/// overflow an int; with millisecond ticks that is `i32::MAX / 1000`).
pub const MAX_TIMEOUT_SECS: u32 = (i32::MAX / 1000) as u32;

/// The table of virtual services, their destinations and the connection timeouts.
#[derive(Debug, Clone)]
pub struct Config {
    current: Arc<Snapshot>,
    next_service_id: u32,
    next_dest_id: u32,
    /// Ids of deleted destinations by (service id, RIP, port): IPVS's destination trash.
    trash: HashMap<(u32, IpAddr, u16), u32>,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// An empty table with default timeouts (generation 0).
    pub fn new() -> Self {
        Config {
            current: Arc::new(Snapshot::default()),
            next_service_id: 1,
            next_dest_id: 1,
            trash: HashMap::new(),
        }
    }

    /// The current snapshot (cheap: an `Arc` clone).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.current)
    }

    /// The current generation (0 before the first change).
    pub fn generation(&self) -> u64 {
        self.current.generation
    }

    /// All services in the order they were added.
    pub fn services(&self) -> &[Service] {
        self.current.services()
    }

    /// The service with this key.
    pub fn service(&self, key: &ServiceKey) -> Option<&Service> {
        self.current.service(key)
    }

    /// The connection timeouts.
    pub fn timeouts(&self) -> Timeouts {
        self.current.timeouts
    }

    /// `-A`: add a virtual service (no destinations yet).
    pub fn add_service(&mut self, svc: ServiceConfig) -> Result<u32, ConfigError> {
        validate_service(&svc)?;
        if self.current.service(&svc.key).is_some() {
            return Err(ConfigError::ServiceExists);
        }
        let id = self.next_service_id;
        let mut services = self.current.services().to_vec();
        services.push(Service {
            id,
            config: svc,
            dests: Vec::new(),
            zero_epoch: 0,
        });
        self.next_service_id += 1;
        self.commit(services, self.current.timeouts, self.current.zero_epoch);
        Ok(id)
    }

    /// `-E`: replace the settings of an existing service (its key stays; destinations,
    /// counters and id are kept).
    pub fn edit_service(&mut self, svc: ServiceConfig) -> Result<(), ConfigError> {
        validate_service(&svc)?;
        let i = self.index_of(&svc.key)?;
        let mut services = self.current.services().to_vec();
        services[i].config = svc;
        self.commit(services, self.current.timeouts, self.current.zero_epoch);
        Ok(())
    }

    /// `-D`: delete a service and all its destinations.
    pub fn del_service(&mut self, key: &ServiceKey) -> Result<(), ConfigError> {
        let i = self.index_of(key)?;
        let mut services = self.current.services().to_vec();
        let gone = services.remove(i);
        self.trash.retain(|(sid, _, _), _| *sid != gone.id);
        self.commit(services, self.current.timeouts, self.current.zero_epoch);
        Ok(())
    }

    /// `-C`: delete every service.
    pub fn flush(&mut self) {
        self.trash.clear();
        self.commit(Vec::new(), self.current.timeouts, self.current.zero_epoch);
    }

    /// `-a`: add a destination to a service; it goes to the head of the list (newest first).
    /// Returns the destination's id.
    pub fn add_dest(&mut self, key: &ServiceKey, dest: DestConfig) -> Result<u32, ConfigError> {
        let i = self.index_of(key)?;
        let svc = &self.current.services()[i];
        let dest = normalise_dest(svc, dest)?;
        if svc.dest(dest.addr, dest.port).is_some() {
            return Err(ConfigError::DestExists);
        }
        let trash_key = (svc.id, dest.addr, dest.port);
        let (id, fresh) = match self.trash.get(&trash_key) {
            Some(&id) => (id, false),
            None => (self.next_dest_id, true),
        };
        let mut services = self.current.services().to_vec();
        let zero_epoch = services[i].zero_epoch;
        services[i].dests.insert(
            0,
            Dest {
                id,
                config: dest,
                zero_epoch,
            },
        );
        self.trash.remove(&trash_key);
        if fresh {
            self.next_dest_id += 1;
        }
        self.commit(services, self.current.timeouts, self.current.zero_epoch);
        Ok(id)
    }

    /// `-e`: replace the settings of a destination (found by address and normalised port);
    /// its id and list position are kept.
    pub fn edit_dest(&mut self, key: &ServiceKey, dest: DestConfig) -> Result<(), ConfigError> {
        let i = self.index_of(key)?;
        let svc = &self.current.services()[i];
        let dest = normalise_dest(svc, dest)?;
        let j = svc
            .dests
            .iter()
            .position(|d| d.config.addr == dest.addr && d.config.port == dest.port)
            .ok_or(ConfigError::NoDest)?;
        let mut services = self.current.services().to_vec();
        services[i].dests[j].config = dest;
        self.commit(services, self.current.timeouts, self.current.zero_epoch);
        Ok(())
    }

    /// `-d`: delete a destination by address and port (0 means the service port, as ipvsadm
    /// fills in a missing `-r` port).
    pub fn del_dest(
        &mut self,
        key: &ServiceKey,
        addr: IpAddr,
        port: u16,
    ) -> Result<(), ConfigError> {
        let i = self.index_of(key)?;
        let svc = &self.current.services()[i];
        let j = svc
            .dests
            .iter()
            .position(|d| d.config.addr == addr && d.config.port == lookup_port(svc, port))
            .ok_or(ConfigError::NoDest)?;
        let mut services = self.current.services().to_vec();
        let gone = services[i].dests.remove(j);
        self.trash.insert(
            (services[i].id, gone.config.addr, gone.config.port),
            gone.id,
        );
        self.commit(services, self.current.timeouts, self.current.zero_epoch);
        Ok(())
    }

    /// `--set tcp tcpfin udp`: 0 leaves a timeout unchanged.
    pub fn set_timeouts(&mut self, t: Timeouts) -> Result<(), ConfigError> {
        if t.tcp > MAX_TIMEOUT_SECS || t.tcp_fin > MAX_TIMEOUT_SECS || t.udp > MAX_TIMEOUT_SECS {
            return Err(ConfigError::Invalid("timeout too large"));
        }
        let mut new = self.current.timeouts;
        if t.tcp != 0 {
            new.tcp = t.tcp;
        }
        if t.tcp_fin != 0 {
            new.tcp_fin = t.tcp_fin;
        }
        if t.udp != 0 {
            new.udp = t.udp;
        }
        self.commit(
            self.current.services().to_vec(),
            new,
            self.current.zero_epoch,
        );
        Ok(())
    }

    /// `-Z`: zero the counters of one service (and its destinations), or with `None` of every
    /// service and the global counters. Counters are not reset: workers record a zero point
    /// and restart the rate estimators when they apply the new snapshot.
    pub fn zero(&mut self, key: Option<&ServiceKey>) -> Result<(), ConfigError> {
        let mut services = self.current.services().to_vec();
        let mut zero_epoch = self.current.zero_epoch;
        let targets: Vec<usize> = match key {
            Some(k) => vec![self.index_of(k)?],
            None => {
                zero_epoch += 1;
                (0..services.len()).collect()
            }
        };
        for i in targets {
            let svc = &mut services[i];
            svc.zero_epoch += 1;
            for d in &mut svc.dests {
                d.zero_epoch += 1;
            }
        }
        self.commit(services, self.current.timeouts, zero_epoch);
        Ok(())
    }

    fn index_of(&self, key: &ServiceKey) -> Result<usize, ConfigError> {
        self.current
            .services()
            .iter()
            .position(|s| s.config.key == *key)
            .ok_or(ConfigError::NoService)
    }

    fn commit(&mut self, services: Vec<Service>, timeouts: Timeouts, zero_epoch: u64) {
        let generation = self.current.generation + 1;
        self.current = Arc::new(Snapshot::build(generation, timeouts, zero_epoch, services));
    }
}

/// The checks on a service made by ipvsadm (§1.5) and `ip_vs_add_service` /
/// `ip_vs_edit_service`, in that order.
fn validate_service(svc: &ServiceConfig) -> Result<(), ConfigError> {
    let family = key_family(&svc.key);
    match svc.key {
        ServiceKey::Addr {
            protocol,
            port,
            addr,
        } => {
            if port == 0 && svc.persistence.is_none() {
                return Err(ConfigError::Invalid(
                    "Zero port specified for non-persistent service",
                ));
            }
            if svc.one_packet && protocol != Protocol::Udp {
                return Err(ConfigError::Invalid(
                    "One-Packet Scheduling is only for UDP virtual services",
                ));
            }
            if addr.is_unspecified() {
                return Err(ConfigError::Invalid("virtual address is unspecified"));
            }
        }
        ServiceKey::Fwmark { mark, .. } => {
            if mark == 0 {
                return Err(ConfigError::Invalid("firewall mark 0"));
            }
        }
    }
    if !crate::sched::NAMES.contains(&svc.scheduler.as_str()) {
        return Err(ConfigError::NoScheduler(svc.scheduler.clone()));
    }
    if let Some(pe) = svc.pe_name.as_deref().filter(|pe| !pe.is_empty()) {
        // No persistence engine is implemented: IPVS answers ENOENT for a PE whose module
        // is not present.
        return Err(ConfigError::NoPersistenceEngine(pe.to_string()));
    }
    if let Some(p) = svc.persistence {
        if p.timeout == 0 {
            return Err(ConfigError::Invalid("persistence timeout 0"));
        }
        if p.timeout > MAX_TIMEOUT_SECS {
            return Err(ConfigError::Invalid("persistence timeout too large"));
        }
        let ok = match family {
            Family::Inet => p.netmask <= 32,
            Family::Inet6 => (1..=128).contains(&p.netmask),
        };
        if !ok {
            return Err(ConfigError::Invalid("persistence netmask out of range"));
        }
    }
    Ok(())
}

/// The port a destination is stored under (ipvsadm: DR/TUN use the service port for
/// non-fwmark services; a missing port means the service port).
fn effective_port(svc: &Service, method: ForwardMethod, port: u16) -> u16 {
    match svc.config.key {
        ServiceKey::Addr { port: vport, .. } => {
            if method != ForwardMethod::Masq || port == 0 {
                vport
            } else {
                port
            }
        }
        ServiceKey::Fwmark { .. } => port,
    }
}

/// The port to find a destination under for delete, where no method is given: a missing
/// port means the service port.
fn lookup_port(svc: &Service, port: u16) -> u16 {
    effective_port(svc, ForwardMethod::Masq, port)
}

/// The checks on a destination made by ipvsadm (§1.5) and `ip_vs_add_dest` /
/// `ip_vs_edit_dest` / `ip_vs_new_dest`; returns it with the port normalised.
fn normalise_dest(svc: &Service, mut d: DestConfig) -> Result<DestConfig, ConfigError> {
    d.port = effective_port(svc, d.method, d.port);
    if family_of(d.addr) != svc.family() && d.method != ForwardMethod::Tunnel {
        return Err(ConfigError::Invalid(
            "Different address family is allowed only for tunneling servers",
        ));
    }
    if d.method != ForwardMethod::Tunnel
        && (d.tun_type != TunnelType::Ipip || d.tun_port != 0 || d.tun_flags != 0)
    {
        return Err(ConfigError::Invalid(
            "Tunnel options conflict with forward method",
        ));
    }
    if d.method == ForwardMethod::Tunnel {
        match d.tun_type {
            TunnelType::Ipip => {
                if d.tun_port != 0 {
                    return Err(ConfigError::Invalid(
                        "Illegal 'tun-port' option with the 'ipip' tunnel type",
                    ));
                }
                if d.tun_flags != 0 {
                    return Err(ConfigError::Invalid(
                        "Illegal tunnel checksum option with the 'ipip' tunnel type",
                    ));
                }
            }
            TunnelType::Gue => return Err(ConfigError::Unsupported("GUE tunnels")),
            TunnelType::Gre => return Err(ConfigError::Unsupported("GRE tunnels")),
        }
    }
    if d.weight < 0 {
        return Err(ConfigError::OutOfRange("server weight less than zero"));
    }
    if d.l_threshold > d.u_threshold {
        return Err(ConfigError::OutOfRange(
            "lower threshold is higher than upper threshold",
        ));
    }
    if !is_unicast(d.addr) {
        return Err(ConfigError::Invalid("real server address is not unicast"));
    }
    Ok(d)
}

/// What `ip_vs_new_dest` accepts as a real server address (local or unicast): not
/// unspecified, multicast, limited broadcast, or IPv6 link-local (we cannot tell whether a
/// link-local address is ours, so it is refused like a non-local one).
fn is_unicast(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => !(a.is_unspecified() || a.is_multicast() || a.is_broadcast()),
        IpAddr::V6(a) => !(a.is_unspecified() || a.is_multicast() || a.is_unicast_link_local()),
    }
}

#[cfg(test)]
#[path = "config/tests.rs"]
mod tests;
