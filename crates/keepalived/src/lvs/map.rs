//! keepalived.conf's virtual servers as rvsd services: one service per `virtual_server`
//! (or per member of its `virtual_server_group`), destinations from the health-check pool.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rvs_check::pool::{DesiredPool, Destination};
use rvs_core::model::{
    DestConfig, Family, ForwardMethod, Persistence, Protocol, SchedFlags, ServiceConfig,
    ServiceKey, TunnelType,
};
use rvs_kaconf::{
    ForwardingMethod, Protocol as KaProtocol, TunnelType as KaTunnel, VirtualServer,
    VirtualServerGroup, VsKey, VsgEntry,
};

use super::table::{Service, Table};

/// Most addresses one group range may expand to (a /22); larger ranges are cut, with a
/// warning, rather than flooding rvsd.
pub const MAX_RANGE: u128 = 1024;

fn protocol(p: KaProtocol) -> Protocol {
    match p {
        KaProtocol::Tcp => Protocol::Tcp,
        KaProtocol::Udp => Protocol::Udp,
        KaProtocol::Sctp => Protocol::Sctp,
    }
}

/// The address family of a fwmark service: `ip_family`, else the first real server's.
fn fwmark_family(vs: &VirtualServer) -> Family {
    match vs.ip_family.as_deref() {
        Some("inet6") => Family::Inet6,
        Some(_) => Family::Inet,
        None => match vs.real_servers.first().map(|r| r.addr) {
            Some(IpAddr::V6(_)) => Family::Inet6,
            _ => Family::Inet,
        },
    }
}

/// Every address from `first` to `last`, at most [`MAX_RANGE`] of them.
fn range(first: IpAddr, last: IpAddr) -> Vec<IpAddr> {
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let (a, b) = (u32::from(a), u32::from(b));
            let n = u128::from(b.saturating_sub(a)).min(MAX_RANGE - 1) as u32;
            (0..=n)
                .map(|i| IpAddr::V4(Ipv4Addr::from(a.wrapping_add(i))))
                .collect()
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let (a, b) = (u128::from(a), u128::from(b));
            let n = b.saturating_sub(a).min(MAX_RANGE - 1);
            (0..=n)
                .map(|i| IpAddr::V6(Ipv6Addr::from(a.wrapping_add(i))))
                .collect()
        }
        _ => vec![first],
    }
}

/// The rvsd service keys of a virtual server: one, or one per member of its group.
pub fn service_keys(vs: &VirtualServer, groups: &[VirtualServerGroup]) -> Vec<ServiceKey> {
    let proto = protocol(vs.protocol);
    match &vs.key {
        VsKey::Addr { addr, port } => vec![ServiceKey::Addr {
            protocol: proto,
            addr: *addr,
            port: *port,
        }],
        VsKey::Fwmark(mark) => vec![ServiceKey::Fwmark {
            mark: *mark,
            family: fwmark_family(vs),
        }],
        VsKey::Group(name) => {
            let Some(g) = groups.iter().find(|g| &g.name == name) else {
                return Vec::new();
            };
            let mut keys = Vec::new();
            for e in &g.entries {
                match e {
                    VsgEntry::Range { first, last, port } => keys.extend(
                        range(*first, *last)
                            .into_iter()
                            .map(|addr| ServiceKey::Addr {
                                protocol: proto,
                                addr,
                                port: *port,
                            }),
                    ),
                    VsgEntry::Fwmark(mark) => keys.push(ServiceKey::Fwmark {
                        mark: *mark,
                        family: fwmark_family(vs),
                    }),
                }
            }
            keys.sort();
            keys.dedup();
            keys
        }
    }
}

/// Prefix length of a netmask written as an address (`255.255.255.0` → 24).
fn mask_len(mask: IpAddr) -> u8 {
    match mask {
        IpAddr::V4(m) => u32::from(m).leading_ones() as u8,
        IpAddr::V6(m) => u128::from(m).leading_ones() as u8,
    }
}

fn is_v6(key: &ServiceKey) -> bool {
    match key {
        ServiceKey::Addr { addr, .. } => addr.is_ipv6(),
        ServiceKey::Fwmark { family, .. } => *family == Family::Inet6,
    }
}

/// The service settings of `vs` for one of its keys.
pub fn service_config(vs: &VirtualServer, key: ServiceKey) -> ServiceConfig {
    let mut flags = 0;
    if vs.flags.flag1 {
        flags |= SchedFlags::SCHED1;
    }
    if vs.flags.flag2 {
        flags |= SchedFlags::SCHED2;
    }
    if vs.flags.flag3 {
        flags |= SchedFlags::SCHED3;
    }
    let full = if is_v6(&key) { 128 } else { 32 };
    let persistence = vs.persistence.map(|p| Persistence {
        timeout: u32::try_from(p.timeout.as_secs()).unwrap_or(u32::MAX),
        netmask: p.granularity.map_or(full, mask_len),
    });
    ServiceConfig {
        key,
        scheduler: vs.scheduler.clone(),
        sched_flags: SchedFlags(flags),
        persistence,
        // keepalived resets `ops` on TCP/SCTP services (with an error); so do we, silently,
        // since the parser already reported it.
        one_packet: vs.flags.ops && vs.protocol == KaProtocol::Udp,
        pe_name: vs.persistence_engine.clone(),
    }
}

/// A pool destination as rvsd stores it under service `key` (DR/TUN and port 0 take the
/// service port, as IPVS does), so a listing compares equal.
pub fn dest_config(key: &ServiceKey, d: &Destination) -> DestConfig {
    let (method, tun_type, tun_port) = match d.method {
        ForwardingMethod::Nat => (ForwardMethod::Masq, TunnelType::Ipip, 0),
        ForwardingMethod::Dr => (ForwardMethod::Route, TunnelType::Ipip, 0),
        ForwardingMethod::Tun(KaTunnel::Ipip) => (ForwardMethod::Tunnel, TunnelType::Ipip, 0),
        ForwardingMethod::Tun(KaTunnel::Gue(p)) => (ForwardMethod::Tunnel, TunnelType::Gue, p),
        ForwardingMethod::Tun(KaTunnel::Gre) => (ForwardMethod::Tunnel, TunnelType::Gre, 0),
    };
    let port = match key {
        ServiceKey::Addr { port: vport, .. } if method != ForwardMethod::Masq || d.port == 0 => {
            *vport
        }
        _ => d.port,
    };
    DestConfig {
        addr: d.addr,
        port,
        method,
        weight: i32::try_from(d.weight).unwrap_or(i32::MAX),
        u_threshold: d.uthreshold.unwrap_or(0),
        l_threshold: d.lthreshold.unwrap_or(0),
        tun_type,
        tun_port,
        tun_flags: 0,
    }
}

/// The services of one virtual server with the destinations of its current pool.
pub fn services(
    vs: &VirtualServer,
    groups: &[VirtualServerGroup],
    pool: Option<&DesiredPool>,
) -> Vec<Service> {
    service_keys(vs, groups)
        .into_iter()
        .map(|key| {
            let mut s = Service::new(service_config(vs, key));
            for d in pool.map(|p| p.destinations.as_slice()).unwrap_or(&[]) {
                s.insert(dest_config(&key, d));
            }
            s
        })
        .collect()
}

/// The whole table: every virtual server with its pool (`pools[i]` belongs to `vss[i]`).
pub fn table(
    vss: &[VirtualServer],
    groups: &[VirtualServerGroup],
    pools: &[Option<DesiredPool>],
) -> Table {
    let mut t = Table::default();
    for (i, vs) in vss.iter().enumerate() {
        for s in services(vs, groups, pools.get(i).and_then(Option::as_ref)) {
            t.services.insert(s.config.key, s);
        }
    }
    t
}

/// The pool keepalived starts with before any check ran: every real server that is not
/// `alpha` with its weight, inhibited (`inhibit_on_failure`) alpha ones with weight 0.
pub fn initial_pool(vs: &VirtualServer) -> DesiredPool {
    let mut destinations = Vec::new();
    for rs in &vs.real_servers {
        let down = rs.checkers.iter().any(|c| c.timing.alpha);
        if down && !rs.inhibit_on_failure {
            continue;
        }
        destinations.push(Destination {
            addr: rs.addr,
            port: rs.port,
            weight: if down {
                0
            } else {
                u32::try_from(rs.weight.max(0)).unwrap_or(0)
            },
            method: rs.method,
            uthreshold: rs.uthreshold,
            lthreshold: rs.lthreshold,
            sorry: false,
        });
    }
    DesiredPool {
        key: vs.key.clone(),
        protocol: vs.protocol,
        destinations,
    }
}

#[cfg(test)]
#[path = "map_tests.rs"]
mod tests;
