use super::*;
use crate::model::{Persistence, SchedFlags};

fn v4(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: v4(addr),
        port,
    }
}

fn svc(key: ServiceKey) -> ServiceConfig {
    ServiceConfig {
        key,
        scheduler: "wlc".into(),
        sched_flags: SchedFlags::default(),
        persistence: None,
        one_packet: false,
        pe_name: None,
    }
}

fn dest(addr: &str, port: u16, method: ForwardMethod) -> DestConfig {
    DestConfig {
        addr: v4(addr),
        port,
        method,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
        tun_type: TunnelType::Ipip,
        tun_port: 0,
        tun_flags: 0,
    }
}

#[test]
fn add_service_then_duplicate_is_eexist() {
    let mut c = Config::new();
    let k = tcp("203.0.113.1", 80);
    let id = c.add_service(svc(k)).unwrap();
    assert_eq!(c.generation(), 1);
    let e = c.add_service(svc(k)).unwrap_err();
    assert_eq!(e, ConfigError::ServiceExists);
    assert_eq!(e.errno(), errno::EEXIST);
    assert_eq!(c.generation(), 1);
    assert_eq!(c.service(&k).unwrap().id, id);
}

#[test]
fn service_checks_in_ipvsadm_order() {
    let mut c = Config::new();
    let e = c.add_service(svc(tcp("203.0.113.1", 0))).unwrap_err();
    assert_eq!(
        e,
        ConfigError::Invalid("Zero port specified for non-persistent service")
    );
    let mut s = svc(tcp("203.0.113.1", 80));
    s.one_packet = true;
    assert_eq!(c.add_service(s).unwrap_err().errno(), errno::EINVAL);
    let mut s = svc(tcp("203.0.113.1", 80));
    s.scheduler = "nope".into();
    assert_eq!(
        c.add_service(s).unwrap_err(),
        ConfigError::NoScheduler("nope".into())
    );
    let s = svc(ServiceKey::Fwmark {
        mark: 0,
        family: Family::Inet,
    });
    assert_eq!(c.add_service(s).unwrap_err().errno(), errno::EINVAL);
    let mut s = svc(ServiceKey::Fwmark {
        mark: 1,
        family: Family::Inet6,
    });
    s.persistence = Some(Persistence {
        timeout: 300,
        netmask: 0,
    });
    assert_eq!(c.add_service(s).unwrap_err().errno(), errno::EINVAL);
    let mut s = svc(tcp("203.0.113.1", 80));
    s.pe_name = Some("sip".into());
    assert_eq!(c.add_service(s).unwrap_err().errno(), errno::ENOENT);
    assert_eq!(c.generation(), 0);
    let mut s = svc(tcp("203.0.113.1", 0));
    s.persistence = Some(Persistence {
        timeout: 300,
        netmask: 32,
    });
    c.add_service(s).unwrap();
}

#[test]
fn dests_are_newest_first_and_dr_port_is_forced() {
    let mut c = Config::new();
    let k = tcp("203.0.113.1", 80);
    c.add_service(svc(k)).unwrap();
    let a = c
        .add_dest(&k, dest("198.51.100.1", 8080, ForwardMethod::Route))
        .unwrap();
    let b = c
        .add_dest(&k, dest("198.51.100.2", 8080, ForwardMethod::Masq))
        .unwrap();
    let s = c.service(&k).unwrap();
    assert_eq!(s.dests[0].id, b);
    assert_eq!(s.dests[1].id, a);
    assert_eq!(s.dests[1].config.port, 80, "DR uses the service port");
    assert_eq!(s.dests[0].config.port, 8080, "NAT keeps its port");
    let e = c
        .add_dest(&k, dest("198.51.100.1", 1, ForwardMethod::Tunnel))
        .unwrap_err();
    assert_eq!(e, ConfigError::DestExists);
}

#[test]
fn dest_errors_map_to_kernel_errnos() {
    let mut c = Config::new();
    let k = tcp("203.0.113.1", 80);
    assert_eq!(
        c.add_dest(&k, dest("198.51.100.1", 80, ForwardMethod::Route))
            .unwrap_err()
            .errno(),
        errno::ESRCH
    );
    c.add_service(svc(k)).unwrap();
    let mut d = dest("198.51.100.1", 80, ForwardMethod::Route);
    d.weight = -1;
    assert_eq!(
        c.add_dest(&k, d.clone()).unwrap_err().errno(),
        errno::ERANGE
    );
    d.weight = 1;
    d.l_threshold = 10;
    assert_eq!(
        c.add_dest(&k, d.clone()).unwrap_err().errno(),
        errno::ERANGE
    );
    d.l_threshold = 0;
    d.method = ForwardMethod::Tunnel;
    d.tun_type = TunnelType::Gue;
    d.tun_port = 6080;
    assert_eq!(
        c.add_dest(&k, d.clone()).unwrap_err().errno(),
        errno::EOPNOTSUPP
    );
    d.method = ForwardMethod::Route;
    assert_eq!(
        c.add_dest(&k, d.clone()).unwrap_err().errno(),
        errno::EINVAL
    );
    let mixed = DestConfig {
        addr: v4("2001:db8::1"),
        ..dest("198.51.100.1", 80, ForwardMethod::Masq)
    };
    assert_eq!(
        c.add_dest(&k, mixed.clone()).unwrap_err().errno(),
        errno::EINVAL
    );
    c.add_dest(
        &k,
        DestConfig {
            method: ForwardMethod::Tunnel,
            ..mixed
        },
    )
    .unwrap();
    let bcast = dest("255.255.255.255", 80, ForwardMethod::Route);
    assert_eq!(c.add_dest(&k, bcast).unwrap_err().errno(), errno::EINVAL);
    assert_eq!(
        c.edit_dest(&k, dest("198.51.100.9", 80, ForwardMethod::Route))
            .unwrap_err()
            .errno(),
        errno::ENOENT
    );
    assert_eq!(
        c.del_dest(&k, v4("198.51.100.9"), 80).unwrap_err(),
        ConfigError::NoDest
    );
}

#[test]
fn ids_survive_edits_and_readding() {
    let mut c = Config::new();
    let k = tcp("203.0.113.1", 80);
    let sid = c.add_service(svc(k)).unwrap();
    let id = c
        .add_dest(&k, dest("198.51.100.1", 80, ForwardMethod::Route))
        .unwrap();
    let other = c
        .add_dest(&k, dest("198.51.100.2", 80, ForwardMethod::Route))
        .unwrap();
    c.edit_dest(
        &k,
        DestConfig {
            weight: 5,
            ..dest("198.51.100.1", 0, ForwardMethod::Route)
        },
    )
    .unwrap();
    let mut s = svc(k);
    s.scheduler = "rr".into();
    c.edit_service(s).unwrap();
    let s = c.service(&k).unwrap();
    assert_eq!(s.id, sid);
    assert_eq!(s.dest(v4("198.51.100.1"), 80).unwrap().id, id);
    assert_eq!(s.dest(v4("198.51.100.1"), 80).unwrap().config.weight, 5);
    c.del_dest(&k, v4("198.51.100.1"), 0).unwrap();
    assert!(
        c.service(&k)
            .unwrap()
            .dest(v4("198.51.100.1"), 80)
            .is_none()
    );
    assert_eq!(
        c.add_dest(&k, dest("198.51.100.1", 80, ForwardMethod::Route))
            .unwrap(),
        id
    );
    let third = c
        .add_dest(&k, dest("198.51.100.3", 80, ForwardMethod::Route))
        .unwrap();
    assert!(third != id && third != other);
    c.del_service(&k).unwrap();
    let sid2 = c.add_service(svc(k)).unwrap();
    assert_ne!(sid, sid2);
    assert_ne!(
        c.add_dest(&k, dest("198.51.100.1", 80, ForwardMethod::Route))
            .unwrap(),
        id
    );
}

#[test]
fn lookup_falls_back_to_port_zero_service() {
    let mut c = Config::new();
    let mut wild = svc(tcp("203.0.113.1", 0));
    wild.persistence = Some(Persistence {
        timeout: 60,
        netmask: 32,
    });
    c.add_service(wild).unwrap();
    c.add_service(svc(tcp("203.0.113.1", 80))).unwrap();
    let snap = c.snapshot();
    let vip = v4("203.0.113.1");
    assert_eq!(
        snap.lookup(Protocol::Tcp, vip, 80).unwrap().config.key,
        tcp("203.0.113.1", 80)
    );
    assert_eq!(
        snap.lookup(Protocol::Tcp, vip, 443).unwrap().config.key,
        tcp("203.0.113.1", 0)
    );
    assert!(snap.lookup(Protocol::Udp, vip, 80).is_none());
    assert_eq!(snap.steer_services().len(), 2);
}

#[test]
fn steering_lists_nat_real_servers_only() {
    let mut c = Config::new();
    let k = tcp("203.0.113.1", 80);
    c.add_service(svc(k)).unwrap();
    c.add_dest(&k, dest("198.51.100.1", 8080, ForwardMethod::Masq))
        .unwrap();
    c.add_dest(&k, dest("198.51.100.2", 0, ForwardMethod::Route))
        .unwrap();
    c.add_service(svc(ServiceKey::Fwmark {
        mark: 7,
        family: Family::Inet,
    }))
    .unwrap();
    let snap = c.snapshot();
    assert_eq!(
        snap.nat_real_servers(),
        vec![SteerEntry {
            protocol: Protocol::Tcp,
            addr: v4("198.51.100.1"),
            port: 8080
        }]
    );
    assert_eq!(snap.fwmark_services(), vec![(7, Family::Inet)]);
}

#[test]
fn timeouts_zero_means_unchanged() {
    let mut c = Config::new();
    c.set_timeouts(Timeouts {
        tcp: 0,
        tcp_fin: 30,
        udp: 0,
    })
    .unwrap();
    assert_eq!(
        c.timeouts(),
        Timeouts {
            tcp: 900,
            tcp_fin: 30,
            udp: 300
        }
    );
    assert!(
        c.set_timeouts(Timeouts {
            tcp: u32::MAX,
            tcp_fin: 0,
            udp: 0
        })
        .is_err()
    );
    assert_eq!(c.timeouts().tcp, 900);
}

#[test]
fn zero_bumps_epochs() {
    let mut c = Config::new();
    let k = tcp("203.0.113.1", 80);
    assert_eq!(c.zero(Some(&k)).unwrap_err().errno(), errno::ESRCH);
    c.add_service(svc(k)).unwrap();
    c.add_dest(&k, dest("198.51.100.1", 80, ForwardMethod::Route))
        .unwrap();
    c.zero(Some(&k)).unwrap();
    assert_eq!(c.service(&k).unwrap().zero_epoch, 1);
    assert_eq!(c.service(&k).unwrap().dests[0].zero_epoch, 1);
    assert_eq!(c.snapshot().zero_epoch, 0);
    c.zero(None).unwrap();
    assert_eq!(c.snapshot().zero_epoch, 1);
    assert_eq!(c.service(&k).unwrap().zero_epoch, 2);
}

#[test]
fn flush_removes_everything() {
    let mut c = Config::new();
    c.add_service(svc(tcp("203.0.113.1", 80))).unwrap();
    c.flush();
    assert!(c.services().is_empty());
    assert_eq!(c.generation(), 2);
}
