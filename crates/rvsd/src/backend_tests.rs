//! The backend over the recording engine double: the `counters` query, a metrics scrape of
//! the live table, and data plane failures answered as errors.

use rvs_api::{Backend, DataplaneCounters, TableCounters, WorkerCounters, handle_line};
use rvs_core::model::{DestConfig, ForwardMethod, Protocol, SchedFlags, ServiceConfig, TunnelType};
use serde_json::Value;

use super::*;
use crate::engine::double::RecordingEngine;

fn key() -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "198.51.100.1".parse().unwrap(),
        port: 80,
    }
}

fn service() -> ServiceConfig {
    ServiceConfig {
        key: key(),
        scheduler: "rr".into(),
        sched_flags: SchedFlags(0),
        persistence: None,
        one_packet: false,
        pe_name: None,
    }
}

fn dest() -> DestConfig {
    DestConfig {
        addr: "203.0.113.1".parse().unwrap(),
        port: 8080,
        method: ForwardMethod::Masq,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
        tun_type: TunnelType::Ipip,
        tun_port: 0,
        tun_flags: 0,
    }
}

/// A backend with one service and one destination, and its engine double.
fn backend() -> (RvsdBackend, RecordingEngine) {
    let engine = RecordingEngine::default();
    engine.0.lock().unwrap().counters = DataplaneCounters {
        per_worker: vec![WorkerCounters {
            rx_packets: 41,
            ..WorkerCounters::default()
        }],
        drops: [("no_service".to_string(), 2)].into(),
        table: TableCounters {
            entries: 1,
            inserted: 3,
            ..TableCounters::default()
        },
        ..DataplaneCounters::default()
    };
    let mut b = RvsdBackend::new(Box::new(engine.clone()), None);
    b.add_service(&service()).unwrap();
    b.add_dest(&key(), &dest()).unwrap();
    (b, engine)
}

#[test]
fn counters_query_answers_the_engines_counters() {
    let (mut b, engine) = backend();
    let line = handle_line(&mut b, r#"{"v":1,"id":1,"op":"counters"}"#);
    let v: Value = serde_json::from_str(&line).unwrap();
    let got: DataplaneCounters = serde_json::from_value(v["ok"].clone()).unwrap();
    assert_eq!(got, engine.0.lock().unwrap().counters);
}

#[test]
fn a_scrape_shows_the_table_and_the_data_plane() {
    let (b, _engine) = backend();
    let text = crate::metrics::scrape(&b).unwrap();
    let svc = r#"{protocol="tcp",vip="198.51.100.1",port="80"}"#;
    let dst =
        r#"{protocol="tcp",vip="198.51.100.1",port="80",dest="203.0.113.1",dest_port="8080"}"#;
    for want in [
        format!("rvs_service_connections_total{svc} 3\n"),
        format!("rvs_service_out_bytes_total{svc} 30000\n"),
        format!("rvs_destination_in_packets_total{dst} 30\n"),
        format!("rvs_destination_active_connections{dst} 2\n"),
        format!("rvs_destination_inactive_connections{dst} 1\n"),
        "rvs_worker_rx_packets_total{worker=\"0\"} 41\n".to_string(),
        "rvs_drops_total{reason=\"no_service\"} 2\n".to_string(),
        "rvs_conn_table_entries 1\n".to_string(),
        "rvs_conn_table_inserted_total 3\n".to_string(),
    ] {
        assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    }
}

#[test]
fn a_data_plane_that_does_not_answer_is_an_internal_error() {
    let (b, engine) = backend();
    engine.0.lock().unwrap().fail = true;
    let e = b.counters().unwrap_err();
    assert_eq!((e.kind, e.errno), (ErrorKind::Internal, errno::EIO));
    assert!(e.message.starts_with("data plane: "), "{}", e.message);
    assert!(crate::metrics::scrape(&b).is_err());
}

#[test]
fn a_change_the_data_plane_refuses_leaves_the_table_as_it_was() {
    let (mut b, engine) = backend();
    let installs = engine.0.lock().unwrap().installs.len();
    engine.0.lock().unwrap().fail = true;
    let e = b.del_service(&key()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Internal);
    engine.0.lock().unwrap().fail = false;
    assert_eq!(b.list_services().unwrap().len(), 1);
    assert_eq!(engine.0.lock().unwrap().installs.len(), installs);
}
