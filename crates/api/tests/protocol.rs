//! The control protocol end to end: JSON shapes, every operation through the client and
//! `handle_line` on the in-memory backend, bad requests changing nothing, `apply` being
//! all-or-nothing, and the Unix-socket transport.

#![cfg(feature = "memory")]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;

use proptest::prelude::*;
use rvs_api::{
    ApiError, Backend, Client, ClientError, ConnEntry, DaemonState, DestCounts, ErrorKind,
    LocalTransport, MemoryBackend, Mutation, Op, Query, SyncDaemon, errno, handle_line,
};
use rvs_core::model::{
    Counters, DestConfig, Family, ForwardMethod, Persistence, Protocol, Rates, SchedFlags,
    ServiceConfig, ServiceKey, Timeouts, TunnelType,
};
use serde_json::{Value, json};

fn key(port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "198.51.100.1".parse().unwrap(),
        port,
    }
}

fn service(port: u16) -> ServiceConfig {
    ServiceConfig {
        key: key(port),
        scheduler: "wlc".into(),
        sched_flags: SchedFlags(0),
        persistence: None,
        one_packet: false,
        pe_name: None,
    }
}

fn dest(last: u8) -> DestConfig {
    DestConfig {
        addr: format!("203.0.113.{last}").parse().unwrap(),
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

fn client() -> Client<LocalTransport<MemoryBackend>> {
    Client::new(LocalTransport::new(MemoryBackend::new()))
}

fn api_err(r: Result<impl std::fmt::Debug, ClientError>) -> ApiError {
    match r {
        Err(ClientError::Api(e)) => e,
        other => panic!("expected an error answer, got {other:?}"),
    }
}

#[test]
fn request_shapes_are_as_documented() {
    let op = Op::Mutate(Mutation::AddService {
        service: service(80),
    });
    assert_eq!(
        serde_json::to_value(&op).unwrap(),
        json!({"op":"add_service","service":{"key":{"addr":{"protocol":"tcp","addr":"198.51.100.1","port":80}},
            "scheduler":"wlc","sched_flags":0,"persistence":null,"one_packet":false,"pe_name":null}})
    );
    let op = Op::Mutate(Mutation::DelDest {
        service: key(80),
        addr: "203.0.113.1".parse().unwrap(),
        port: 8080,
    });
    assert_eq!(
        serde_json::to_value(&op).unwrap(),
        json!({"op":"del_dest","service":{"addr":{"protocol":"tcp","addr":"198.51.100.1","port":80}},
            "addr":"203.0.113.1","port":8080})
    );
    let fw = ServiceKey::Fwmark {
        mark: 7,
        family: Family::Inet6,
    };
    assert_eq!(
        serde_json::to_value(Op::Query(Query::GetService { service: fw })).unwrap(),
        json!({"op":"get_service","service":{"fwmark":{"mark":7,"family":"inet6"}}})
    );
    assert_eq!(
        serde_json::to_value(Op::Mutate(Mutation::Flush)).unwrap(),
        json!({"op":"flush"})
    );
    assert_eq!(
        serde_json::to_value(Op::Apply(vec![
            Mutation::Flush,
            Mutation::Zero { service: None }
        ]))
        .unwrap(),
        json!({"op":"apply","ops":[{"op":"flush"},{"op":"zero","service":null}]})
    );
    assert_eq!(
        serde_json::to_value(Op::Query(Query::StopDaemon {
            state: DaemonState::Backup
        }))
        .unwrap(),
        json!({"op":"stop_daemon","state":"backup"})
    );
    // And every shape reads back.
    for op in [
        Op::Mutate(Mutation::SetTimeouts {
            timeouts: Timeouts::default(),
        }),
        Op::Query(Query::ListServices),
        Op::Query(Query::Info),
        Op::Apply(vec![Mutation::AddDest {
            service: key(80),
            dest: dest(1),
        }]),
    ] {
        let v = serde_json::to_value(&op).unwrap();
        assert_eq!(serde_json::from_value::<Op>(v).unwrap(), op);
    }
}

#[test]
fn response_lines() {
    let mut b = MemoryBackend::new();
    assert_eq!(
        handle_line(&mut b, r#"{"v":1,"id":7,"op":"flush"}"#),
        r#"{"v":1,"id":7,"ok":null}"#
    );
    assert_eq!(
        handle_line(&mut b, r#"{"v":1,"id":8,"op":"get_timeouts"}"#),
        r#"{"v":1,"id":8,"ok":{"tcp":900,"tcp_fin":120,"udp":300}}"#
    );
    let r: Value = serde_json::from_str(&handle_line(
        &mut b,
        r#"{"v":1,"id":9,"op":"del_service","service":{"addr":{"protocol":"tcp","addr":"198.51.100.1","port":80}}}"#,
    ))
    .unwrap();
    assert_eq!(
        r,
        json!({"v":1,"id":9,"error":{"kind":"no_such_service","errno":3,"message":"No such service"}})
    );
}

#[test]
fn every_operation_through_the_client() {
    let mut c = client();
    c.add_service(&service(80)).unwrap();
    assert_eq!(
        api_err(c.add_service(&service(80))).kind,
        ErrorKind::ServiceExists
    );
    let mut edited = service(80);
    edited.scheduler = "rr".into();
    edited.persistence = Some(Persistence {
        timeout: 60,
        netmask: 24,
    });
    c.edit_service(&edited).unwrap();
    c.add_dest(&key(80), &dest(1)).unwrap();
    c.add_dest(&key(80), &dest(2)).unwrap();
    assert_eq!(api_err(c.add_dest(&key(80), &dest(2))).errno, errno::EEXIST);
    assert_eq!(api_err(c.add_dest(&key(81), &dest(2))).errno, errno::ESRCH);
    let mut heavier = dest(1);
    heavier.weight = 9;
    c.edit_dest(&key(80), &heavier).unwrap();
    assert_eq!(
        api_err(c.edit_dest(&key(80), &dest(3))).kind,
        ErrorKind::NoSuchDest
    );

    let list = c.list_services().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].service, edited);
    // Newest first, as IPVS keeps them.
    let addrs: Vec<_> = list[0]
        .dests
        .iter()
        .map(|d| d.dest.addr.to_string())
        .collect();
    assert_eq!(addrs, ["203.0.113.2", "203.0.113.1"]);
    assert_eq!(list[0].dests[1].dest.weight, 9);
    assert_eq!(c.get_service(&key(80)).unwrap(), list[0]);
    assert_eq!(
        api_err(c.get_service(&key(81))).kind,
        ErrorKind::NoSuchService
    );

    c.set_timeouts(&Timeouts {
        tcp: 10,
        tcp_fin: 0,
        udp: 30,
    })
    .unwrap();
    assert_eq!(
        c.get_timeouts().unwrap(),
        Timeouts {
            tcp: 10,
            tcp_fin: 120,
            udp: 30
        }
    );
    let info = c.info().unwrap();
    assert_eq!((info.version_code, info.conn_tab_size), (0x010201, 4096));
    assert!(c.list_connections().unwrap().is_empty());
    assert!(c.daemon_status().unwrap().is_empty());
    let d = SyncDaemon {
        state: DaemonState::Master,
        mcast_ifn: "eth0".into(),
        syncid: 0,
        sync_maxlen: 0,
        mcast_group: None,
        mcast_port: 0,
        mcast_ttl: 0,
    };
    let e = api_err(c.start_daemon(&d));
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(
        e.message.contains("synchronisation daemon"),
        "{}",
        e.message
    );
    assert_eq!(
        api_err(c.stop_daemon(DaemonState::Master)).kind,
        ErrorKind::Unsupported
    );

    c.zero(Some(&key(80))).unwrap();
    assert_eq!(
        api_err(c.zero(Some(&key(81)))).kind,
        ErrorKind::NoSuchService
    );
    c.zero(None).unwrap();
    c.del_dest(&key(80), "203.0.113.2".parse().unwrap(), 8080)
        .unwrap();
    assert_eq!(
        api_err(c.del_dest(&key(80), "203.0.113.2".parse().unwrap(), 8080)).kind,
        ErrorKind::NoSuchDest
    );
    c.del_service(&key(80)).unwrap();
    c.add_service(&service(80)).unwrap();
    c.flush().unwrap();
    assert!(c.list_services().unwrap().is_empty());
}

#[test]
fn unsupported_features_are_named() {
    let mut c = client();
    c.add_service(&service(80)).unwrap();
    let mut gue = dest(1);
    gue.method = ForwardMethod::Tunnel;
    gue.port = 80;
    gue.tun_type = TunnelType::Gue;
    gue.tun_port = 6080;
    let e = api_err(c.add_dest(&key(80), &gue));
    assert_eq!(
        (e.kind, e.errno),
        (ErrorKind::Unsupported, errno::EOPNOTSUPP)
    );
    assert!(e.message.contains("GUE"), "{}", e.message);
}

#[test]
fn apply_is_all_or_nothing() {
    let mut c = client();
    c.add_service(&service(80)).unwrap();
    let ops = vec![
        Mutation::AddService {
            service: service(81),
        },
        Mutation::AddDest {
            service: key(81),
            dest: dest(1),
        },
        Mutation::AddService {
            service: service(80),
        },
        Mutation::AddService {
            service: service(82),
        },
    ];
    let e = api_err(c.apply(&ops));
    assert_eq!((e.kind, e.index), (ErrorKind::ServiceExists, Some(2)));
    assert_eq!(
        c.list_services().unwrap().len(),
        1,
        "nothing of the failed apply stays"
    );
    c.apply(&ops[..2]).unwrap();
    let list = c.list_services().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].dests.len(), 1);
}

#[test]
fn bad_requests_change_nothing() {
    let mut b = MemoryBackend::new();
    b.add_service(&service(80)).unwrap();
    let before = b.list_services().unwrap();
    let cases: &[(&str, u64, ErrorKind)] = &[
        ("not json", 0, ErrorKind::BadRequest),
        ("[1,2]", 0, ErrorKind::BadRequest),
        (r#"{"v":1,"op":"flush"}"#, 0, ErrorKind::BadRequest),
        (r#"{"v":1,"id":-1,"op":"flush"}"#, 0, ErrorKind::BadRequest),
        (r#"{"id":3,"op":"flush"}"#, 3, ErrorKind::BadRequest),
        (r#"{"v":2,"id":4,"op":"flush"}"#, 4, ErrorKind::BadVersion),
        (r#"{"v":1,"id":5}"#, 5, ErrorKind::BadRequest),
        (r#"{"v":1,"id":6,"op":"explode"}"#, 6, ErrorKind::BadRequest),
        (
            r#"{"v":1,"id":7,"op":"del_service"}"#,
            7,
            ErrorKind::BadRequest,
        ),
        (
            r#"{"v":1,"id":8,"op":"del_service","service":{"fwmark":{"mark":0,"family":"inet"}}}"#,
            8,
            ErrorKind::BadRequest,
        ),
        (
            r#"{"v":1,"id":9,"op":"apply","ops":[{"op":"flush"},{"op":"info"}]}"#,
            9,
            ErrorKind::BadRequest,
        ),
        (
            r#"{"v":1,"id":10,"op":"apply","ops":[{"op":"flush"},{"op":"del_service","service":{"fwmark":{"mark":0,"family":"inet"}}}]}"#,
            10,
            ErrorKind::BadRequest,
        ),
    ];
    for (line, id, kind) in cases {
        let r: Value = serde_json::from_str(&handle_line(&mut b, line)).unwrap();
        assert_eq!(r["v"], 1, "{line}");
        assert_eq!(r["id"], *id, "{line}");
        let e: ApiError =
            serde_json::from_value(r["error"].clone()).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(e.kind, *kind, "{line}: {}", e.message);
        assert_eq!(
            b.list_services().unwrap(),
            before,
            "{line} changed the table"
        );
    }
    let long = format!(
        r#"{{"v":1,"id":11,"op":"add_service","service":{{"key":{{"fwmark":{{"mark":1,"family":"inet"}}}},"scheduler":"{}","sched_flags":0,"persistence":null,"one_packet":false,"pe_name":null}}}}"#,
        "x".repeat(16)
    );
    let r: Value = serde_json::from_str(&handle_line(&mut b, &long)).unwrap();
    assert_eq!(r["error"]["kind"], "bad_request");
}

#[test]
fn counters_and_connections_are_reported() {
    let mut b = MemoryBackend::new();
    b.add_service(&service(80)).unwrap();
    b.add_dest(&key(80), &dest(1)).unwrap();
    let stats = Counters {
        conns: 1,
        inpkts: 2,
        outpkts: 3,
        inbytes: 4,
        outbytes: 5,
    };
    let rates = Rates {
        cps: 6,
        inpps: 7,
        outpps: 8,
        inbps: 9,
        outbps: 10,
    };
    b.set_service_counts(&key(80), stats, rates).unwrap();
    let counts = DestCounts {
        active_conns: 3,
        inact_conns: 4,
        persist_conns: 5,
        stats,
        rates,
    };
    b.set_dest_counts(&key(80), "203.0.113.1".parse().unwrap(), 8080, counts)
        .unwrap();
    let conn = ConnEntry {
        protocol: "TCP".into(),
        client: "198.51.100.9:4000".parse().unwrap(),
        vaddr: "198.51.100.1:80".parse().unwrap(),
        dest: "203.0.113.1:8080".parse().unwrap(),
        state: "ESTABLISHED".into(),
        expires: 899,
        template: false,
        pe_name: None,
        pe_data: None,
    };
    b.set_connections(vec![conn.clone()]);
    let mut c = Client::new(LocalTransport::new(b));
    let se = c.get_service(&key(80)).unwrap();
    assert_eq!((se.stats, se.rates), (stats, rates));
    assert_eq!(
        (
            se.dests[0].active_conns,
            se.dests[0].persist_conns,
            se.dests[0].stats
        ),
        (3, 5, stats)
    );
    assert_eq!(c.list_connections().unwrap(), vec![conn]);
    assert_eq!(c.info().unwrap().connections, 1);
    // -Z resets counters and rates, not connection counts.
    c.zero(None).unwrap();
    let se = c.get_service(&key(80)).unwrap();
    assert_eq!(
        (se.stats, se.dests[0].stats, se.dests[0].active_conns),
        (Counters::default(), Counters::default(), 3)
    );
}

#[test]
fn unix_socket_transport() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rvsd.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let server = std::thread::spawn(move || {
        let mut backend = MemoryBackend::new();
        let (stream, _) = listener.accept().unwrap();
        let mut writer = stream.try_clone().unwrap();
        for line in BufReader::new(stream).lines() {
            let line = line.unwrap();
            writeln!(writer, "{}", handle_line(&mut backend, &line)).unwrap();
        }
        backend.list_services().unwrap().len()
    });
    let mut c = Client::connect(&path).unwrap();
    c.add_service(&service(80)).unwrap();
    c.add_service(&service(81)).unwrap();
    assert_eq!(
        api_err(c.add_service(&service(81))).kind,
        ErrorKind::ServiceExists
    );
    assert_eq!(c.list_services().unwrap().len(), 2);
    drop(c);
    assert_eq!(server.join().unwrap(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any line gets exactly one well-formed response line and never panics.
    #[test]
    fn any_line_gets_one_response(line in ".{0,200}") {
        let mut b = MemoryBackend::new();
        let r = handle_line(&mut b, &line);
        prop_assert!(!r.contains('\n'));
        let v: Value = serde_json::from_str(&r).unwrap();
        prop_assert_eq!(&v["v"], 1);
        prop_assert!(v.get("ok").is_some() != v.get("error").is_some());
    }

    /// Lines that look like requests, with random ops and fields, never panic either.
    #[test]
    fn request_like_lines_never_panic(
        op in prop::sample::select(vec!["add_service", "edit_service", "del_service", "flush", "add_dest",
            "edit_dest", "del_dest", "zero", "set_timeouts", "apply", "list_services", "get_service",
            "list_connections", "get_timeouts", "info", "daemon_status", "start_daemon", "stop_daemon", "x"]),
        field in prop::sample::select(vec!["service", "dest", "ops", "timeouts", "daemon", "state", "addr"]),
        value in prop::sample::select(vec!["null", "1", "-1", "\"tcp\"", "[]", "{}", "[{\"op\":\"flush\"}]",
            "{\"addr\":{\"protocol\":\"udp\",\"addr\":\"::1\",\"port\":1}}", "{\"fwmark\":{\"mark\":4294967295,\"family\":\"inet\"}}"]),
    ) {
        let mut b = MemoryBackend::new();
        let line = format!("{{\"v\":1,\"id\":1,\"op\":\"{op}\",\"{field}\":{value}}}");
        let v: Value = serde_json::from_str(&handle_line(&mut b, &line)).unwrap();
        prop_assert_eq!(&v["id"], 1);
    }
}
