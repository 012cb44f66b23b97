//! Golden snapshots of every output format, rendered from in-memory data with counters,
//! rates, connection counts, tunnels and connections that a fresh table cannot show.

mod common;

use core::net::IpAddr;

use common::{HOSTS, SERVICES, golden};
use rvs_api::{ConnEntry, DaemonState, DestEntry, Info, ServiceEntry, SyncDaemon};
use rvs_core::model::{
    Counters, DestConfig, Family, ForwardMethod, Persistence, Protocol, Rates, SchedFlags,
    ServiceConfig, ServiceKey, Timeouts, TunnelType,
};
use rvsadm::TableNames;
use rvsadm::format::{self, Format};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn svc(key: ServiceKey, sched: &str) -> ServiceConfig {
    ServiceConfig {
        key,
        scheduler: sched.into(),
        sched_flags: SchedFlags(0),
        persistence: None,
        one_packet: false,
        pe_name: None,
    }
}

fn tcp(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: ip(addr),
        port,
    }
}

fn dest(addr: &str, port: u16, method: ForwardMethod, weight: i32) -> DestConfig {
    DestConfig {
        addr: ip(addr),
        port,
        method,
        weight,
        u_threshold: 0,
        l_threshold: 0,
        tun_type: TunnelType::Ipip,
        tun_port: 0,
        tun_flags: 0,
    }
}

fn counters(base: u64) -> Counters {
    Counters {
        conns: base,
        inpkts: base * 64,
        outpkts: base * 70,
        inbytes: base * 4500,
        outbytes: base * 98_000,
    }
}

fn rates(base: u64) -> Rates {
    Rates {
        cps: base,
        inpps: base * 40,
        outpps: base * 42,
        inbps: base * 3300,
        outbps: base * 52_000,
    }
}

fn entry(d: DestConfig, active: u32, inact: u32, persist: u32, base: u64) -> DestEntry {
    DestEntry {
        dest: d,
        active_conns: active,
        inact_conns: inact,
        persist_conns: persist,
        stats: counters(base),
        rates: rates(base),
    }
}

/// A table in kernel order (destinations newest first), exercising every column.
fn table() -> Vec<ServiceEntry> {
    let mut web = svc(tcp("198.51.100.1", 80), "wlc");
    web.sched_flags = SchedFlags(SchedFlags::SCHED3);
    let mut tls = svc(tcp("198.51.100.2", 443), "rr");
    tls.persistence = Some(Persistence {
        timeout: 360,
        netmask: 24,
    });
    tls.pe_name = Some("sip".into());
    let mut dns = svc(
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: ip("198.51.100.3"),
            port: 53,
        },
        "sh",
    );
    dns.sched_flags = SchedFlags(SchedFlags::SCHED1 | SchedFlags::SCHED2);
    dns.one_packet = true;
    let mut fwm = svc(
        ServiceKey::Fwmark {
            mark: 1,
            family: Family::Inet,
        },
        "wlc",
    );
    fwm.persistence = Some(Persistence {
        timeout: 300,
        netmask: 32,
    });
    let mut fwm6 = svc(
        ServiceKey::Fwmark {
            mark: 3_000_000_000,
            family: Family::Inet6,
        },
        "mh",
    );
    fwm6.persistence = Some(Persistence {
        timeout: 60,
        netmask: 64,
    });
    fwm6.sched_flags = SchedFlags(SchedFlags::SCHED1);
    let v6 = svc(tcp("2001:db8::80", 80), "rr");
    let far = svc(tcp("200.0.0.1", 80), "lc");
    let sctp = svc(
        ServiceKey::Addr {
            protocol: Protocol::Sctp,
            addr: ip("198.51.100.4"),
            port: 5060,
        },
        "wrr",
    );

    let mut with_thresholds = dest("203.0.113.11", 8080, ForwardMethod::Masq, 3);
    with_thresholds.u_threshold = 100;
    with_thresholds.l_threshold = 50;
    let mut gue = dest("203.0.113.21", 53, ForwardMethod::Tunnel, 1);
    gue.tun_type = TunnelType::Gue;
    gue.tun_port = 6080;
    let mut gre = dest("203.0.113.22", 53, ForwardMethod::Tunnel, 2);
    gre.tun_type = TunnelType::Gre;
    gre.tun_flags = 1;
    let mut gue_rem = dest("203.0.113.23", 53, ForwardMethod::Tunnel, 1);
    gue_rem.tun_type = TunnelType::Gue;
    gue_rem.tun_port = 65535;
    gue_rem.tun_flags = 2;

    vec![
        ServiceEntry {
            service: web,
            stats: counters(1523),
            rates: rates(3),
            dests: vec![
                entry(with_thresholds, 35, 88, 0, 763),
                entry(
                    dest("203.0.113.10", 80, ForwardMethod::Masq, 1),
                    12,
                    30,
                    0,
                    760,
                ),
            ],
        },
        ServiceEntry {
            service: tls,
            stats: Counters {
                conns: 123_456_789,
                inpkts: 1_234_567_890,
                outpkts: 0,
                inbytes: 123_456_789_012,
                outbytes: u64::MAX,
            },
            rates: rates(0),
            dests: vec![
                entry(
                    dest("203.0.113.12", 443, ForwardMethod::Route, 0),
                    2,
                    1,
                    4,
                    99_999_999,
                ),
                entry(
                    dest("203.0.113.13", 443, ForwardMethod::Route, 1),
                    0,
                    0,
                    7,
                    100_000_000,
                ),
            ],
        },
        ServiceEntry {
            service: dns,
            stats: counters(5),
            rates: rates(1),
            dests: vec![
                entry(gue_rem, 0, 3, 0, 1),
                entry(gre, 0, 5, 0, 2),
                entry(gue, 0, 7, 0, 3),
                entry(
                    dest("2001:db8::a:b", 53, ForwardMethod::Tunnel, 1),
                    0,
                    1,
                    0,
                    4,
                ),
            ],
        },
        ServiceEntry {
            service: fwm,
            stats: counters(0),
            rates: rates(0),
            dests: vec![entry(
                dest("203.0.113.10", 0, ForwardMethod::Masq, 1),
                0,
                0,
                2,
                0,
            )],
        },
        ServiceEntry {
            service: fwm6,
            stats: counters(2),
            rates: rates(2),
            dests: vec![entry(
                dest("2001:db8::a0", 0, ForwardMethod::Route, 1),
                1,
                0,
                1,
                2,
            )],
        },
        ServiceEntry {
            service: v6,
            stats: counters(9),
            rates: rates(9),
            dests: vec![
                entry(
                    dest("::ffff:203.0.113.9", 80, ForwardMethod::Masq, 65535),
                    1,
                    2,
                    0,
                    9,
                ),
                entry(dest("2001:db8::a0", 80, ForwardMethod::Masq, 1), 3, 4, 0, 9),
            ],
        },
        ServiceEntry {
            service: far,
            stats: counters(1),
            rates: rates(1),
            dests: vec![],
        },
        ServiceEntry {
            service: sctp,
            stats: counters(1),
            rates: rates(1),
            dests: vec![entry(
                dest("198.51.100.2", 5060, ForwardMethod::Masq, 1),
                0,
                0,
                0,
                1,
            )],
        },
    ]
}

fn names() -> TableNames {
    TableNames::new(HOSTS, SERVICES)
}

fn render(fmt: Format) -> String {
    let info = Info {
        version_code: 0x010201,
        conn_tab_size: 4096,
        connections: 0,
    };
    let mut s = String::new();
    if !fmt.has(Format::RULE) {
        s.push_str(&format::header(&info));
    }
    s.push_str(&format::table(table(), fmt, &names()));
    s
}

#[test]
fn list_default() {
    golden("format/list_n.txt", &render(Format::NUMERIC));
    golden("format/list_names.txt", &render(Format::NONE));
    golden(
        "format/list_nosort.txt",
        &render(Format::NUMERIC | Format::NOSORT),
    );
}

#[test]
fn list_stats_and_rates() {
    golden("format/stats.txt", &render(Format::NUMERIC | Format::STATS));
    golden(
        "format/stats_exact.txt",
        &render(Format::NUMERIC | Format::STATS | Format::EXACT),
    );
    golden("format/rate.txt", &render(Format::NUMERIC | Format::RATE));
    golden(
        "format/rate_exact.txt",
        &render(Format::NUMERIC | Format::RATE | Format::EXACT),
    );
    golden("format/stats_names.txt", &render(Format::STATS));
}

#[test]
fn list_columns() {
    golden(
        "format/thresholds.txt",
        &render(Format::NUMERIC | Format::THRESHOLDS),
    );
    golden(
        "format/persistent_conn.txt",
        &render(Format::NUMERIC | Format::PERSISTENTCONN),
    );
    golden(
        "format/tun_info.txt",
        &render(Format::NUMERIC | Format::TUN_INFO),
    );
    // Precedence when several are given: stats > rate > thresholds > persistent-conn > tun-info.
    assert_eq!(
        render(Format::NUMERIC | Format::STATS | Format::RATE),
        render(Format::NUMERIC | Format::STATS)
    );
    assert_eq!(
        render(Format::NUMERIC | Format::THRESHOLDS | Format::TUN_INFO),
        render(Format::NUMERIC | Format::THRESHOLDS)
    );
}

#[test]
fn save() {
    golden("format/save_n.txt", &render(Format::NUMERIC | Format::RULE));
    golden("format/save_names.txt", &render(Format::RULE));
}

#[test]
fn single_service() {
    let t = table();
    let s = format::single(t[1].clone(), Format::NUMERIC, &names());
    golden("format/single.txt", &s);
}

fn conns() -> Vec<ConnEntry> {
    let c = |p: &str, cl: &str, v: &str, d: &str, st: &str, exp: u32| ConnEntry {
        protocol: p.into(),
        client: cl.parse().unwrap(),
        vaddr: v.parse().unwrap(),
        dest: d.parse().unwrap(),
        state: st.into(),
        expires: exp,
        template: false,
        pe_name: None,
        pe_data: None,
    };
    let mut sip = c(
        "UDP",
        "198.51.100.77:5060",
        "198.51.100.3:5060",
        "203.0.113.21:5060",
        "UDP",
        299,
    );
    sip.pe_name = Some("sip".into());
    sip.pe_data = Some("a84b4c76e66710".into());
    let mut tmpl = c(
        "IP",
        "198.51.100.66:0",
        "0.0.0.1:0",
        "203.0.113.10:0",
        "NONE",
        298,
    );
    tmpl.template = true;
    vec![
        c(
            "TCP",
            "198.51.100.70:51514",
            "198.51.100.1:80",
            "203.0.113.10:80",
            "ESTABLISHED",
            899,
        ),
        c(
            "TCP",
            "198.51.100.70:51500",
            "198.51.100.1:80",
            "203.0.113.11:8080",
            "FIN_WAIT",
            118,
        ),
        c(
            "TCP",
            "198.51.100.69:40000",
            "198.51.100.2:443",
            "203.0.113.12:443",
            "SYN_RECV",
            58,
        ),
        c(
            "TCP",
            "198.51.100.0:0",
            "198.51.100.2:443",
            "203.0.113.12:443",
            "ASSURED",
            359,
        ),
        c(
            "UDP",
            "198.51.100.68:53000",
            "198.51.100.3:53",
            "203.0.113.21:53",
            "UDP",
            6000,
        ),
        c(
            "TCP",
            "[2001:db8::c]:40001",
            "[2001:db8::80]:80",
            "[2001:db8::a0]:80",
            "TIME_WAIT",
            5,
        ),
        c(
            "SCTP",
            "198.51.100.67:5060",
            "198.51.100.4:5060",
            "198.51.100.2:5060",
            "ESTABLISHED",
            1,
        ),
        tmpl,
        sip,
    ]
}

#[test]
fn connections() {
    let n = names();
    golden(
        "format/conn_n.txt",
        &format::list_connections(&conns(), Format::NUMERIC, &n),
    );
    golden(
        "format/conn_names.txt",
        &format::list_connections(&conns(), Format::NONE, &n),
    );
    golden(
        "format/conn_persistent.txt",
        &format::list_connections(&conns(), Format::NUMERIC | Format::PERSISTENTCONN, &n),
    );
}

#[test]
fn timeouts_and_daemons() {
    let mut s = format::timeouts(&Timeouts::default());
    s.push_str(&format::timeouts(&Timeouts {
        tcp: 7200,
        tcp_fin: 30,
        udp: 1,
    }));
    let daemons = vec![
        SyncDaemon {
            state: DaemonState::Backup,
            mcast_ifn: "eth1".into(),
            syncid: 2,
            sync_maxlen: 0,
            mcast_group: None,
            mcast_port: 0,
            mcast_ttl: 0,
        },
        SyncDaemon {
            state: DaemonState::Master,
            mcast_ifn: "eth0".into(),
            syncid: 1,
            sync_maxlen: 1472,
            mcast_group: Some(ip("224.0.0.81")),
            mcast_port: 8848,
            mcast_ttl: 1,
        },
    ];
    s.push_str(&format::daemons(&daemons));
    golden("format/timeout_daemon.txt", &s);
}
