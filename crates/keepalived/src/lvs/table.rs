//! The services rvs-keepalived wants in rvsd, and the minimal list of changes that turns one
//! table into another — keepalived's reload diff (`clear_diff_services`), applied to every
//! change, so an unchanged service or destination is never touched and keeps its
//! connections.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use rvs_api::{DestEntry, Mutation, ServiceEntry};
use rvs_core::model::{DestConfig, Protocol, ServiceConfig, ServiceKey};

/// One service with its destinations, keyed by (RIP, port as rvsd stores it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Scheduler, flags, persistence...
    pub config: ServiceConfig,
    /// Destinations.
    pub dests: BTreeMap<(IpAddr, u16), DestConfig>,
}

impl Service {
    /// A service without destinations.
    pub fn new(config: ServiceConfig) -> Service {
        Service {
            config,
            dests: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) a destination.
    pub fn insert(&mut self, dest: DestConfig) {
        self.dests.insert((dest.addr, dest.port), dest);
    }
}

/// A set of services.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    /// Services by key.
    pub services: BTreeMap<ServiceKey, Service>,
}

impl Table {
    /// The part of rvsd's listing whose keys are in `keys` (services of others are not ours
    /// to judge).
    pub fn from_listing<'a>(
        entries: &[ServiceEntry],
        keys: impl IntoIterator<Item = &'a ServiceKey>,
    ) -> Table {
        let keys: Vec<&ServiceKey> = keys.into_iter().collect();
        let mut t = Table::default();
        for e in entries.iter().filter(|e| keys.contains(&&e.service.key)) {
            let mut s = Service::new(e.service.clone());
            for DestEntry { dest, .. } in &e.dests {
                s.insert(dest.clone());
            }
            t.services.insert(e.service.key, s);
        }
        t
    }

    /// The changes that turn `self` into `new`, in an order that is valid one by one:
    /// removed services, then changed ones, then new ones.
    pub fn diff(&self, new: &Table) -> Vec<Mutation> {
        let mut out = Vec::new();
        for key in self
            .services
            .keys()
            .filter(|k| !new.services.contains_key(k))
        {
            out.push(Mutation::DelService { service: *key });
        }
        for (key, n) in &new.services {
            let Some(o) = self.services.get(key) else {
                continue;
            };
            if o.config != n.config {
                out.push(Mutation::EditService {
                    service: n.config.clone(),
                });
            }
            for (&(addr, port), _) in o.dests.iter().filter(|(k, _)| !n.dests.contains_key(k)) {
                out.push(Mutation::DelDest {
                    service: *key,
                    addr,
                    port,
                });
            }
            for (k, d) in &n.dests {
                match o.dests.get(k) {
                    Some(old) if old == d => {}
                    Some(_) => out.push(Mutation::EditDest {
                        service: *key,
                        dest: d.clone(),
                    }),
                    None => out.push(Mutation::AddDest {
                        service: *key,
                        dest: d.clone(),
                    }),
                }
            }
        }
        for (key, n) in new
            .services
            .iter()
            .filter(|(k, _)| !self.services.contains_key(k))
        {
            out.push(Mutation::AddService {
                service: n.config.clone(),
            });
            for d in n.dests.values() {
                out.push(Mutation::AddDest {
                    service: *key,
                    dest: d.clone(),
                });
            }
        }
        out
    }

    /// Applies one change to this table (to track what rvsd holds after a successful apply).
    pub fn apply(&mut self, m: &Mutation) {
        match m {
            Mutation::AddService { service } | Mutation::EditService { service } => {
                let s = self
                    .services
                    .entry(service.key)
                    .or_insert_with(|| Service::new(service.clone()));
                s.config = service.clone();
            }
            Mutation::DelService { service } => {
                self.services.remove(service);
            }
            Mutation::AddDest { service, dest } | Mutation::EditDest { service, dest } => {
                if let Some(s) = self.services.get_mut(service) {
                    s.insert(dest.clone());
                }
            }
            Mutation::DelDest {
                service,
                addr,
                port,
            } => {
                if let Some(s) = self.services.get_mut(service) {
                    s.dests.remove(&(*addr, *port));
                }
            }
            Mutation::Flush => self.services.clear(),
            Mutation::Zero { .. } | Mutation::SetTimeouts { .. } => {}
        }
    }
}

/// keepalived's way of naming a service in logs: `[VIP]:tcp:PORT` or `FWM N`.
pub struct ShowKey<'a>(pub &'a ServiceKey);

impl fmt::Display for ShowKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => {
                let p = match protocol {
                    Protocol::Tcp => "tcp",
                    Protocol::Udp => "udp",
                    Protocol::Sctp => "sctp",
                };
                write!(f, "[{addr}]:{p}:{port}")
            }
            ServiceKey::Fwmark { mark, .. } => write!(f, "FWM {mark}"),
        }
    }
}

/// One change as keepalived would log it.
pub fn describe(m: &Mutation) -> String {
    let rs = |key: &ServiceKey, addr: &IpAddr, port: u16| {
        let proto = match key {
            ServiceKey::Addr { protocol, .. } => protocol.name().to_ascii_lowercase(),
            ServiceKey::Fwmark { .. } => "fwm".to_string(),
        };
        format!("[{addr}]:{proto}:{port}")
    };
    match m {
        Mutation::AddService { service } => {
            format!("Adding virtual server {}", ShowKey(&service.key))
        }
        Mutation::EditService { service } => {
            format!("Updating virtual server {}", ShowKey(&service.key))
        }
        Mutation::DelService { service } => {
            format!("Removing Virtual Server {}", ShowKey(service))
        }
        Mutation::AddDest { service, dest } => format!(
            "Adding service {} to VS {}",
            rs(service, &dest.addr, dest.port),
            ShowKey(service)
        ),
        Mutation::EditDest { service, dest } => format!(
            "Updating service {} of VS {} (weight {})",
            rs(service, &dest.addr, dest.port),
            ShowKey(service),
            dest.weight
        ),
        Mutation::DelDest {
            service,
            addr,
            port,
        } => format!(
            "Removing service {} from VS {}",
            rs(service, addr, *port),
            ShowKey(service)
        ),
        other => other.name().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use rvs_core::model::{ForwardMethod, SchedFlags, TunnelType};

    use super::*;

    fn key(port: u16) -> ServiceKey {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 10)),
            port,
        }
    }

    fn svc(port: u16, sched: &str) -> ServiceConfig {
        ServiceConfig {
            key: key(port),
            scheduler: sched.into(),
            sched_flags: SchedFlags::default(),
            persistence: None,
            one_packet: false,
            pe_name: None,
        }
    }

    fn dest(last: u8, weight: i32) -> DestConfig {
        DestConfig {
            addr: IpAddr::V4(Ipv4Addr::new(198, 51, 100, last)),
            port: 80,
            method: ForwardMethod::Route,
            weight,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: TunnelType::Ipip,
            tun_port: 0,
            tun_flags: 0,
        }
    }

    /// (port, scheduler, [(last octet of the RIP, weight)]).
    type Spec<'a> = (u16, &'a str, &'a [(u8, i32)]);

    fn table(services: &[Spec<'_>]) -> Table {
        let mut t = Table::default();
        for (port, sched, dests) in services {
            let mut s = Service::new(svc(*port, sched));
            for (last, w) in *dests {
                s.insert(dest(*last, *w));
            }
            t.services.insert(key(*port), s);
        }
        t
    }

    #[test]
    fn identical_tables_give_no_change() {
        let t = table(&[(80, "wlc", &[(11, 1), (12, 1)]), (443, "rr", &[(11, 1)])]);
        assert!(t.diff(&t.clone()).is_empty());
    }

    #[test]
    fn only_the_difference_is_sent() {
        let old = table(&[(80, "wlc", &[(11, 1), (12, 1)]), (443, "rr", &[(11, 1)])]);
        let new = table(&[(80, "wlc", &[(12, 3), (13, 1)]), (8080, "rr", &[(11, 1)])]);
        let d = old.diff(&new);
        assert_eq!(
            d,
            vec![
                Mutation::DelService { service: key(443) },
                Mutation::DelDest {
                    service: key(80),
                    addr: dest(11, 1).addr,
                    port: 80
                },
                Mutation::EditDest {
                    service: key(80),
                    dest: dest(12, 3)
                },
                Mutation::AddDest {
                    service: key(80),
                    dest: dest(13, 1)
                },
                Mutation::AddService {
                    service: svc(8080, "rr")
                },
                Mutation::AddDest {
                    service: key(8080),
                    dest: dest(11, 1)
                },
            ]
        );
        // Service 80 itself is not edited: its settings did not change.
        assert!(!d.iter().any(|m| matches!(m, Mutation::EditService { .. })));
    }

    #[test]
    fn a_changed_scheduler_edits_the_service_without_touching_destinations() {
        let old = table(&[(80, "wlc", &[(11, 1)])]);
        let new = table(&[(80, "rr", &[(11, 1)])]);
        assert_eq!(
            old.diff(&new),
            vec![Mutation::EditService {
                service: svc(80, "rr")
            }]
        );
    }

    #[test]
    fn applying_the_diff_reaches_the_target() {
        let old = table(&[(80, "wlc", &[(11, 1), (12, 1)]), (443, "rr", &[(11, 1)])]);
        let new = table(&[(80, "sh", &[(12, 0), (13, 1)]), (8080, "rr", &[(11, 1)])]);
        let mut t = old.clone();
        for m in old.diff(&new) {
            t.apply(&m);
        }
        assert_eq!(t, new);
        assert!(t.diff(&new).is_empty());
    }

    #[test]
    fn listing_keeps_only_our_services() {
        let t = table(&[(80, "wlc", &[(11, 1)])]);
        let entries: Vec<ServiceEntry> = [80u16, 443]
            .iter()
            .map(|&p| ServiceEntry {
                service: svc(p, "wlc"),
                stats: Default::default(),
                rates: Default::default(),
                dests: vec![DestEntry {
                    dest: dest(11, 1),
                    active_conns: 0,
                    inact_conns: 0,
                    persist_conns: 0,
                    stats: Default::default(),
                    rates: Default::default(),
                }],
            })
            .collect();
        let got = Table::from_listing(&entries, t.services.keys());
        assert_eq!(got, t);
    }

    #[test]
    fn log_lines_read_like_keepalived_s() {
        let m = Mutation::DelDest {
            service: key(80),
            addr: dest(11, 1).addr,
            port: 80,
        };
        assert_eq!(
            describe(&m),
            "Removing service [198.51.100.11]:tcp:80 from VS [198.51.100.10]:tcp:80"
        );
    }
}
