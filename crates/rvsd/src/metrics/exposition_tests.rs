//! The exposition against a golden file, and the format's rules checked line by line.

use std::collections::HashSet;

use rvs_api::{
    DataplaneCounters, DestEntry, ServiceEntry, SteerCounters, TableCounters, WorkerCounters,
};
use rvs_core::model::{
    Counters, DestConfig, Family, ForwardMethod, Protocol, Rates, SchedFlags, ServiceConfig,
    ServiceKey, TunnelType,
};

use super::*;

fn service(key: ServiceKey, stats: Counters, dests: Vec<DestEntry>) -> ServiceEntry {
    ServiceEntry {
        service: ServiceConfig {
            key,
            scheduler: "wlc".into(),
            sched_flags: SchedFlags(0),
            persistence: None,
            one_packet: false,
            pe_name: None,
        },
        stats,
        rates: Rates {
            cps: 1,
            inpps: 2,
            outpps: 3,
            inbps: 4,
            outbps: 5,
        },
        dests,
    }
}

fn dest(addr: &str, port: u16, weight: i32, active: u32, stats: Counters) -> DestEntry {
    DestEntry {
        dest: DestConfig {
            addr: addr.parse().unwrap(),
            port,
            method: ForwardMethod::Masq,
            weight,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: TunnelType::Ipip,
            tun_port: 0,
            tun_flags: 0,
        },
        active_conns: active,
        inact_conns: 1,
        persist_conns: 0,
        stats,
        rates: Rates::default(),
    }
}

fn counters(conns: u64, pkts: u64) -> Counters {
    Counters {
        conns,
        inpkts: pkts,
        outpkts: pkts - 1,
        inbytes: pkts * 60,
        outbytes: (pkts - 1) * 1500,
    }
}

/// A TCP service with two destinations and an IPv6 firewall-mark service with none.
fn sample_services() -> Vec<ServiceEntry> {
    let tcp = ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "198.51.100.1".parse().unwrap(),
        port: 80,
    };
    let mark = ServiceKey::Fwmark {
        mark: 7,
        family: Family::Inet6,
    };
    vec![
        service(
            tcp,
            counters(5, 50),
            vec![
                dest("203.0.113.2", 8080, 2, 1, counters(2, 20)),
                dest("203.0.113.1", 8080, 1, 2, counters(3, 30)),
            ],
        ),
        service(mark, Counters::default(), Vec::new()),
    ]
}

fn sample_dataplane() -> DataplaneCounters {
    let w0 = WorkerCounters {
        rx_packets: 100,
        rx_bytes: 6000,
        tx_packets: 98,
        tx_bytes: 5880,
        processor_drops: 1,
        no_neighbour: 1,
        neighbour_held: 3,
        xsk_rx_fill_ring_empty: 3,
        ..WorkerCounters::default()
    };
    let w1 = WorkerCounters {
        rx_packets: 7,
        tx_ring_full: 2,
        ..WorkerCounters::default()
    };
    DataplaneCounters {
        steer: SteerCounters {
            steered: 107,
            passed: 12,
            no_socket: 0,
            fragments: 0,
            fast_hits: 40,
            ..SteerCounters::default()
        },
        workers: WorkerCounters::default(),
        per_worker: vec![w0, w1],
        drops: [("no_service".to_string(), 1), ("table_full".to_string(), 0)].into(),
        icmp_sent: 0,
        table: TableCounters {
            entries: 4,
            inserted: 5,
            expired: 1,
            evicted: 0,
            refused_full: 0,
            removed: 0,
        },
    }
}

#[test]
fn rendering_matches_the_golden_text() {
    let text = render(&sample_services(), &sample_dataplane());
    let golden = include_str!("testdata/metrics.prom");
    if text != golden {
        for (i, (a, b)) in text.lines().zip(golden.lines()).enumerate() {
            assert_eq!(a, b, "line {} differs", i + 1);
        }
        panic!(
            "the text has {} lines, the golden file {}:\n{text}",
            text.lines().count(),
            golden.lines().count()
        );
    }
}

/// Every line is a comment or a sample; every sample follows its own HELP and TYPE; a family
/// appears once; counters end in `_total`; names and labels use the allowed characters.
#[test]
fn rendering_follows_the_text_format_rules() {
    let text = render(&sample_services(), &sample_dataplane());
    assert!(text.ends_with('\n'));
    let mut seen = HashSet::new();
    let mut current: Option<(String, String)> = None;
    let mut help_for: Option<String> = None;
    let mut samples = 0;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(!help.is_empty(), "{line}");
            assert!(seen.insert(name.to_string()), "family {name} twice");
            help_for = Some(name.to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert_eq!(help_for.as_deref(), Some(name), "TYPE right after HELP");
            assert!(kind == "counter" || kind == "gauge", "{line}");
            assert!(name.starts_with("rvs_"), "{line}");
            assert_eq!(name.ends_with("_total"), kind == "counter", "{line}");
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name}"
            );
            current = Some((name.to_string(), kind.to_string()));
        } else {
            let (series, value) = line.rsplit_once(' ').expect("sample: series value");
            value.parse::<u64>().expect("an integer value");
            let name = series.split('{').next().unwrap();
            let (family, _) = current.as_ref().expect("a sample after a TYPE");
            assert_eq!(name, family, "sample {line} outside its family");
            if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
                let inner = labels
                    .strip_prefix('{')
                    .and_then(|l| l.strip_suffix('}'))
                    .expect("labels in braces");
                for pair in inner.split("\",") {
                    let (label, v) = pair.split_once("=\"").expect("label=\"value\"");
                    assert!(
                        label.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                        "{label}"
                    );
                    assert!(!v.trim_end_matches('"').is_empty(), "{line}");
                }
            }
            samples += 1;
        }
    }
    // 2 services × 10 + 2 destinations × 14 + 2 drop reasons + 1 ICMP + 4 steering
    // + 3 fast path + 2 workers × (24 + 1 fast-path gauge) + 6 table.
    assert_eq!(samples, 20 + 28 + 2 + 1 + 4 + 3 + 50 + 6);
}

#[test]
fn an_empty_director_still_names_every_family() {
    let text = render(&[], &DataplaneCounters::default());
    assert!(text.contains("# TYPE rvs_service_connections_total counter\n"));
    assert!(text.contains("# TYPE rvs_destination_active_connections gauge\n"));
    assert!(text.contains("rvs_conn_table_entries 0\n"));
    assert!(text.contains("rvs_steer_redirected_packets_total 0\n"));
    assert!(!text.contains("rvs_service_connections_total{"));
}

#[test]
fn label_values_and_help_are_escaped() {
    assert_eq!(escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    assert_eq!(escape_help("a\\b\"c\nd"), "a\\\\b\"c\\nd");
    let dp = DataplaneCounters {
        drops: [("odd\"reason".to_string(), 1)].into(),
        ..DataplaneCounters::default()
    };
    let text = render(&[], &dp);
    assert!(
        text.contains("rvs_drops_total{reason=\"odd\\\"reason\"} 1\n"),
        "{text}"
    );
}
