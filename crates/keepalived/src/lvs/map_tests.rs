use std::net::IpAddr;

use rvs_kaconf::{CheckOptions, Config, parse_str};

use super::*;

fn parse(text: &str) -> Config {
    let p = parse_str("/test/keepalived.conf", text, &CheckOptions::default());
    assert!(!p.has_errors(), "{}", p.render());
    p.config
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn full_table(cfg: &Config) -> Table {
    let pools: Vec<_> = cfg
        .virtual_servers
        .iter()
        .map(|vs| Some(initial_pool(vs)))
        .collect();
    table(&cfg.virtual_servers, &cfg.virtual_server_groups, &pools)
}

const DR: &str = r#"
virtual_server 198.51.100.10 80 {
    delay_loop 2
    lb_algo wrr
    lb_kind DR
    persistence_timeout 50
    persistence_granularity 255.255.255.0
    protocol TCP
    real_server 198.51.100.11 80 {
        weight 3
        uthreshold 100
        lthreshold 10
        TCP_CHECK { connect_timeout 1 }
    }
    real_server 198.51.100.12 8080 {
        weight 1
        TCP_CHECK { connect_timeout 1 }
    }
}
"#;

#[test]
fn a_dr_virtual_server_becomes_one_service_with_its_real_servers() {
    let cfg = parse(DR);
    let t = full_table(&cfg);
    assert_eq!(t.services.len(), 1);
    let (key, s) = t.services.iter().next().unwrap();
    assert_eq!(
        *key,
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: ip("198.51.100.10"),
            port: 80
        }
    );
    assert_eq!(s.config.scheduler, "wrr");
    assert_eq!(
        s.config.persistence,
        Some(Persistence {
            timeout: 50,
            netmask: 24
        })
    );
    let d: Vec<_> = s.dests.values().collect();
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].addr, ip("198.51.100.11"));
    assert_eq!(d[0].method, ForwardMethod::Route);
    assert_eq!(
        (d[0].weight, d[0].u_threshold, d[0].l_threshold),
        (3, 100, 10)
    );
    // DR destinations are stored under the service port, as IPVS does.
    assert!(d.iter().all(|d| d.port == 80));
}

#[test]
fn defaults_are_keepalived_s_wlc_nat_udp() {
    let cfg = parse("virtual_server 203.0.113.1 53 {\n real_server 198.51.100.11 5353 {\n }\n}\n");
    let t = full_table(&cfg);
    let s = t.services.values().next().unwrap();
    assert_eq!(s.config.scheduler, "wlc");
    assert!(matches!(
        s.config.key,
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            ..
        }
    ));
    let d = s.dests.values().next().unwrap();
    // NAT keeps the real server's own port.
    assert_eq!((d.method, d.port, d.weight), (ForwardMethod::Masq, 5353, 1));
}

#[test]
fn sched_flags_ops_and_tunnel() {
    let cfg = parse(
        r#"
virtual_server 198.51.100.10 53 {
    lvs_sched sh
    sh-port
    sh-fallback
    ops
    lvs_method TUN
    protocol UDP
    real_server 198.51.100.11 53 {
    }
}
virtual_server 198.51.100.10 80 {
    lvs_sched mh
    ops
    protocol TCP
    real_server 198.51.100.11 80 {
    }
}
"#,
    );
    let t = full_table(&cfg);
    let mut it = t.services.values();
    let udp = it
        .find(|s| s.config.one_packet)
        .expect("udp service has ops");
    assert_eq!(
        udp.config.sched_flags,
        SchedFlags(SchedFlags::SCHED1 | SchedFlags::SCHED2)
    );
    let d = udp.dests.values().next().unwrap();
    assert_eq!(
        (d.method, d.tun_type),
        (ForwardMethod::Tunnel, TunnelType::Ipip)
    );
    // ops is for UDP only.
    assert_eq!(
        t.services.values().filter(|s| s.config.one_packet).count(),
        1
    );
}

#[test]
fn a_group_gives_one_service_per_member() {
    let cfg = parse(
        r#"
virtual_server_group WEB {
    198.51.100.20-22 80
    fwmark 7
}
virtual_server group WEB {
    lb_kind DR
    protocol TCP
    real_server 198.51.100.11 80 {
    }
}
"#,
    );
    let t = full_table(&cfg);
    let keys: Vec<_> = t.services.keys().copied().collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(keys.contains(&ServiceKey::Fwmark {
        mark: 7,
        family: Family::Inet
    }));
    for last in 20..=22 {
        assert!(keys.contains(&ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: ip(&format!("198.51.100.{last}")),
            port: 80
        }));
    }
    // Every member carries the same destination.
    assert!(t.services.values().all(|s| s.dests.len() == 1));
}

#[test]
fn fwmark_family_follows_the_real_servers() {
    let cfg =
        parse("virtual_server fwmark 3 {\n lb_kind DR\n real_server 2001:db8:2::11 {\n }\n}\n");
    let t = full_table(&cfg);
    assert_eq!(
        *t.services.keys().next().unwrap(),
        ServiceKey::Fwmark {
            mark: 3,
            family: Family::Inet6
        }
    );
}

#[test]
fn alpha_real_servers_start_out_unless_inhibited() {
    let cfg = parse(
        r#"
virtual_server 198.51.100.10 80 {
    protocol TCP
    lb_kind DR
    alpha
    real_server 198.51.100.11 80 {
        TCP_CHECK { }
    }
    real_server 198.51.100.12 80 {
        inhibit_on_failure
        TCP_CHECK { }
    }
    real_server 198.51.100.13 80 {
    }
}
"#,
    );
    let t = full_table(&cfg);
    let s = t.services.values().next().unwrap();
    let got: Vec<_> = s.dests.values().map(|d| (d.addr, d.weight)).collect();
    assert_eq!(
        got,
        vec![(ip("198.51.100.12"), 0), (ip("198.51.100.13"), 1)]
    );
}

#[test]
fn a_reload_that_adds_a_real_server_touches_nothing_else() {
    let before = full_table(&parse(DR));
    let after = full_table(&parse(&DR.replace(
        "    real_server 198.51.100.12 8080 {",
        "    real_server 198.51.100.13 80 {\n    }\n    real_server 198.51.100.12 8080 {",
    )));
    let d = before.diff(&after);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        matches!(&d[0], rvs_api::Mutation::AddDest { dest, .. } if dest.addr == ip("198.51.100.13"))
    );
}
