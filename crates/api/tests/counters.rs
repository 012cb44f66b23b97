//! The `counters` query end to end: its request shape, the answer through the client and
//! `handle_line`, the documented JSON field names, and `unsupported` from a backend that has
//! no data plane.

use core::net::IpAddr;

use rvs_api::{
    ApiError, Backend, Client, ClientError, ConnEntry, DaemonState, DataplaneCounters, ErrorKind,
    Info, LocalTransport, Mutation, Op, Query, ServiceEntry, SteerCounters, SyncDaemon,
    TableCounters, WorkerCounters, handle_line,
};
use rvs_core::model::{DestConfig, ServiceConfig, ServiceKey, Timeouts};
use serde_json::{Value, json};

fn sample() -> DataplaneCounters {
    let w0 = WorkerCounters {
        rx_packets: 10,
        rx_bytes: 1000,
        tx_packets: 9,
        tx_bytes: 900,
        processor_drops: 1,
        no_neighbour: 2,
        xsk_rx_dropped: 3,
        ..WorkerCounters::default()
    };
    let w1 = WorkerCounters {
        rx_packets: 5,
        tx_ring_full: 4,
        ..WorkerCounters::default()
    };
    DataplaneCounters {
        steer: SteerCounters {
            steered: 15,
            passed: 7,
            no_socket: 0,
            fragments: 1,
            ..SteerCounters::default()
        },
        workers: WorkerCounters {
            rx_packets: 15,
            rx_bytes: 1000,
            tx_packets: 9,
            tx_bytes: 900,
            processor_drops: 1,
            tx_ring_full: 4,
            no_neighbour: 2,
            xsk_rx_dropped: 3,
            ..WorkerCounters::default()
        },
        per_worker: vec![w0, w1],
        drops: [("no_service".to_string(), 1), ("table_full".to_string(), 0)].into(),
        icmp_sent: 2,
        table: TableCounters {
            entries: 3,
            inserted: 8,
            expired: 4,
            evicted: 1,
            refused_full: 0,
            removed: 0,
        },
    }
}

#[test]
fn counters_request_has_the_documented_shape() {
    let op = Op::Query(Query::Counters);
    assert_eq!(op.name(), "counters");
    let v = serde_json::to_value(&op).unwrap();
    assert_eq!(v, json!({"op":"counters"}));
    assert_eq!(serde_json::from_value::<Op>(v).unwrap(), op);
    assert!(rvs_api::QUERY_OPS.contains(&"counters"));
}

#[test]
fn counters_round_trip_through_the_client() {
    let mut c = Client::new(LocalTransport::new(WithDataplane(sample())));
    assert_eq!(c.counters().unwrap(), sample());
}

#[test]
fn counters_answer_uses_the_documented_field_names() {
    let mut b = WithDataplane(sample());
    let line = handle_line(&mut b, r#"{"v":1,"id":3,"op":"counters"}"#);
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["id"], 3);
    let ok = &v["ok"];
    assert_eq!(ok["steer"]["steered"], 15);
    assert_eq!(ok["workers"]["rx_packets"], 15);
    assert_eq!(ok["per_worker"][1]["tx_ring_full"], 4);
    assert_eq!(ok["per_worker"][0]["xsk_rx_dropped"], 3);
    assert_eq!(ok["drops"]["no_service"], 1);
    assert_eq!(ok["icmp_sent"], 2);
    assert_eq!(ok["table"]["entries"], 3);
    assert_eq!(ok["table"]["refused_full"], 0);
}

#[cfg(feature = "memory")]
#[test]
fn memory_backend_answers_what_was_set_and_zero_leaves_it() {
    let mut b = rvs_api::MemoryBackend::new();
    b.set_counters(sample());
    let mut c = Client::new(LocalTransport::new(b));
    assert_eq!(c.counters().unwrap(), sample());
    // `zero` is about services; the data plane's counters only grow.
    c.zero(None).unwrap();
    assert_eq!(c.counters().unwrap(), sample());
}

#[test]
fn missing_fields_read_as_zero() {
    // An older or smaller server may leave fields out; the client still reads the answer.
    let c: DataplaneCounters =
        serde_json::from_value(json!({"steer":{"steered":1},"table":{}})).unwrap();
    assert_eq!(c.steer.steered, 1);
    assert_eq!(c.table, TableCounters::default());
    assert!(c.per_worker.is_empty() && c.drops.is_empty());
}

/// The table operations of the test backends: none is needed here, so each refuses.
macro_rules! no_table {
    () => {
        fn add_service(&mut self, _: &ServiceConfig) -> Result<(), ApiError> {
            Err(ApiError::unsupported("tables"))
        }
        fn edit_service(&mut self, _: &ServiceConfig) -> Result<(), ApiError> {
            Err(ApiError::unsupported("tables"))
        }
        fn del_service(&mut self, _: &ServiceKey) -> Result<(), ApiError> {
            Err(ApiError::unsupported("tables"))
        }
        fn flush(&mut self) -> Result<(), ApiError> {
            Err(ApiError::unsupported("tables"))
        }
        fn add_dest(&mut self, _: &ServiceKey, _: &DestConfig) -> Result<(), ApiError> {
            Err(ApiError::unsupported("tables"))
        }
        fn edit_dest(&mut self, _: &ServiceKey, _: &DestConfig) -> Result<(), ApiError> {
            Err(ApiError::unsupported("tables"))
        }
        fn del_dest(&mut self, _: &ServiceKey, _: IpAddr, _: u16) -> Result<(), ApiError> {
            Err(ApiError::unsupported("tables"))
        }
        fn zero(&mut self, _: Option<&ServiceKey>) -> Result<(), ApiError> {
            Err(ApiError::unsupported("tables"))
        }
        fn set_timeouts(&mut self, _: &Timeouts) -> Result<(), ApiError> {
            Err(ApiError::unsupported("tables"))
        }
        fn apply(&mut self, _: &[Mutation]) -> Result<(), ApiError> {
            Err(ApiError::unsupported("tables"))
        }
        fn list_services(&self) -> Result<Vec<ServiceEntry>, ApiError> {
            Ok(Vec::new())
        }
        fn get_service(&self, _: &ServiceKey) -> Result<ServiceEntry, ApiError> {
            Err(ApiError::no_such_service())
        }
        fn list_connections(&self) -> Result<Vec<ConnEntry>, ApiError> {
            Ok(Vec::new())
        }
        fn get_timeouts(&self) -> Result<Timeouts, ApiError> {
            Ok(Timeouts::default())
        }
        fn info(&self) -> Result<Info, ApiError> {
            Err(ApiError::unsupported("tables"))
        }
        fn daemon_status(&self) -> Result<Vec<SyncDaemon>, ApiError> {
            Ok(Vec::new())
        }
        fn start_daemon(&mut self, _: &SyncDaemon) -> Result<(), ApiError> {
            Err(ApiError::unsupported("tables"))
        }
        fn stop_daemon(&mut self, _: DaemonState) -> Result<(), ApiError> {
            Err(ApiError::unsupported("tables"))
        }
    };
}

/// A backend whose data plane reports fixed counters.
struct WithDataplane(DataplaneCounters);

impl Backend for WithDataplane {
    no_table!();

    fn counters(&self) -> Result<DataplaneCounters, ApiError> {
        Ok(self.0.clone())
    }
}

/// A backend that keeps the trait's default `counters` (no data plane).
struct NoDataplane;

impl Backend for NoDataplane {
    no_table!();
}

#[test]
fn a_backend_without_a_data_plane_answers_unsupported() {
    let mut c = Client::new(LocalTransport::new(NoDataplane));
    match c.counters() {
        Err(ClientError::Api(e)) => {
            assert_eq!(e.kind, ErrorKind::Unsupported);
            assert!(e.message.contains("data plane counters"), "{}", e.message);
        }
        other => panic!("expected unsupported, got {other:?}"),
    }
    // The other operations still work.
    assert!(c.list_services().unwrap().is_empty());
}
