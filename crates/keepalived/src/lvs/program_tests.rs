//! The programming thread against a fake rvsd: `MemoryBackend` behind a Unix socket.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rvs_api::{Backend, MemoryBackend, Mutation, handle_line};
use rvs_core::model::{
    DestConfig, ForwardMethod, Protocol, SchedFlags, ServiceConfig, ServiceKey, TunnelType,
};

use super::*;
use crate::lvs::table::Service;

/// A fake rvsd: serves `backend` on `path` until stopped; counts mutating requests.
struct FakeRvsd {
    backend: Arc<Mutex<MemoryBackend>>,
    stop: Arc<AtomicBool>,
    writes: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeRvsd {
    fn start(path: &Path, backend: MemoryBackend) -> FakeRvsd {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let backend = Arc::new(Mutex::new(backend));
        let stop = Arc::new(AtomicBool::new(false));
        let writes = Arc::new(AtomicUsize::new(0));
        let (b, s, w) = (backend.clone(), stop.clone(), writes.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_millis(50)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                let mut line = String::new();
                while !s.load(Ordering::Relaxed) {
                    match reader.read_line(&mut line) {
                        Ok(0) => break,
                        Ok(_) => {
                            if !line.contains("\"list_services\"") && !line.contains("\"info\"") {
                                w.fetch_add(1, Ordering::Relaxed);
                            }
                            let resp = handle_line(&mut *b.lock().unwrap(), line.trim_end());
                            line.clear();
                            if out.write_all(format!("{resp}\n").as_bytes()).is_err() {
                                break;
                            }
                        }
                        Err(_) => continue,
                    }
                }
            }
        });
        FakeRvsd {
            backend,
            stop,
            writes,
            thread: Some(thread),
        }
    }

    fn services(&self) -> Vec<rvs_api::ServiceEntry> {
        self.backend.lock().unwrap().list_services().unwrap()
    }

    fn shutdown(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

fn key(port: u16) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 10)),
        port,
    }
}

fn dest(last: u8) -> DestConfig {
    DestConfig {
        addr: IpAddr::V4(Ipv4Addr::new(198, 51, 100, last)),
        port: 80,
        method: ForwardMethod::Route,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
        tun_type: TunnelType::Ipip,
        tun_port: 0,
        tun_flags: 0,
    }
}

fn table(port: u16, sched: &str, dests: &[u8]) -> Table {
    let mut s = Service::new(ServiceConfig {
        key: key(port),
        scheduler: sched.into(),
        sched_flags: SchedFlags::default(),
        persistence: None,
        one_packet: false,
        pe_name: None,
    });
    for d in dests {
        s.insert(dest(*d));
    }
    let mut t = Table::default();
    t.services.insert(key(port), s);
    t
}

/// Waits (bounded) until `f` holds.
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn dests_of(rvsd: &FakeRvsd, port: u16) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = rvsd
        .services()
        .iter()
        .filter(|e| e.service.key == key(port))
        .flat_map(|e| e.dests.iter().map(|d| d.dest.addr))
        .collect();
    v.sort();
    v
}

#[test]
fn programs_changes_survives_an_rvsd_restart_and_releases_on_stop() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("rvsd.sock");
    // A service someone else added with rvsadm: never touched.
    let mut other = MemoryBackend::new();
    other
        .apply(&[Mutation::AddService {
            service: table(8080, "rr", &[]).services[&key(8080)].config.clone(),
        }])
        .unwrap();
    let rvsd = FakeRvsd::start(&sock, other.clone());
    let p = Programmer::start(sock.clone(), false).unwrap();
    p.set(table(80, "wlc", &[11, 12]));
    eventually("two destinations", || dests_of(&rvsd, 80).len() == 2);

    // A pool change sends only the difference.
    let before = rvsd.writes.load(Ordering::Relaxed);
    p.set(table(80, "wlc", &[12]));
    eventually("rs1 removed", || dests_of(&rvsd, 80).len() == 1);
    assert_eq!(rvsd.writes.load(Ordering::Relaxed), before + 1, "one apply");

    // rvsd restarts with an empty table (plus the foreign service): programmed again.
    rvsd.shutdown();
    let rvsd = FakeRvsd::start(&sock, other);
    eventually("re-programmed", || dests_of(&rvsd, 80).len() == 1);

    p.stop(true, Duration::from_secs(5));
    let left: Vec<ServiceKey> = rvsd.services().iter().map(|e| e.service.key).collect();
    assert_eq!(left, vec![key(8080)], "only our service is removed");
    rvsd.shutdown();
}

#[test]
fn existing_services_are_adopted_without_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("rvsd.sock");
    let mut b = MemoryBackend::new();
    let want = table(80, "wlc", &[11, 12]);
    b.apply(&Table::default().diff(&want)).unwrap();
    let rvsd = FakeRvsd::start(&sock, b);
    let p = Programmer::start(sock.clone(), false).unwrap();
    p.set(want);
    // Give it a few sync rounds; it must not have written anything.
    std::thread::sleep(PING_INTERVAL * 3);
    assert_eq!(rvsd.writes.load(Ordering::Relaxed), 0);
    p.stop(false, Duration::from_secs(5));
    assert_eq!(dests_of(&rvsd, 80).len(), 2, "-I keeps the services");
    rvsd.shutdown();
}

#[test]
fn a_refused_change_does_not_block_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("rvsd.sock");
    let rvsd = FakeRvsd::start(&sock, MemoryBackend::new());
    let p = Programmer::start(sock.clone(), false).unwrap();
    let mut t = table(80, "wlc", &[11]);
    let bad = table(81, "no-such-sched", &[11]);
    t.services.extend(bad.services);
    p.set(t);
    eventually("the good service", || dests_of(&rvsd, 80).len() == 1);
    assert!(dests_of(&rvsd, 81).is_empty());
    p.stop(true, Duration::from_secs(5));
    assert!(rvsd.services().is_empty());
    rvsd.shutdown();
}

#[test]
fn lvs_flush_clears_the_table_once_and_lvs_timeouts_are_set() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("rvsd.sock");
    let mut foreign = MemoryBackend::new();
    foreign
        .apply(&Table::default().diff(&table(8080, "rr", &[11])))
        .unwrap();
    let rvsd = FakeRvsd::start(&sock, foreign);
    let p = Programmer::start(sock.clone(), true).unwrap();
    let t = rvs_core::model::Timeouts {
        tcp: 600,
        tcp_fin: 0,
        udp: 30,
    };
    p.set_timeouts(Some(t));
    p.set(table(80, "wlc", &[11]));
    eventually("our service", || dests_of(&rvsd, 80).len() == 1);
    assert!(dests_of(&rvsd, 8080).is_empty(), "flushed at start");
    let got = rvsd.backend.lock().unwrap().get_timeouts().unwrap();
    assert_eq!((got.tcp, got.tcp_fin, got.udp), (600, 120, 30));
    p.stop(true, Duration::from_secs(5));
    rvsd.shutdown();
}

#[test]
fn adopted_services_are_released_even_when_a_sync_ran_before_the_table_arrived() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("rvsd.sock");
    let mut b = MemoryBackend::new();
    let want = table(80, "wlc", &[11, 12]);
    b.apply(&Table::default().diff(&want)).unwrap();
    let rvsd = FakeRvsd::start(&sock, b);
    let p = Programmer::start(sock.clone(), false).unwrap();
    // A first sync with nothing wanted reads an empty view of our services...
    p.set_timeouts(None);
    std::thread::sleep(PING_INTERVAL * 2);
    // ...then the table arrives: the existing service is adopted, not re-added.
    p.set(want);
    std::thread::sleep(PING_INTERVAL * 2);
    assert_eq!(rvsd.writes.load(Ordering::Relaxed), 0);
    p.stop(true, Duration::from_secs(5));
    assert!(rvsd.services().is_empty(), "released on stop");
    rvsd.shutdown();
}

#[test]
fn changes_made_behind_our_back_are_repaired_on_the_next_change() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("rvsd.sock");
    let rvsd = FakeRvsd::start(&sock, MemoryBackend::new());
    let p = Programmer::start(sock.clone(), false).unwrap();
    p.set(table(80, "wlc", &[11, 12]));
    eventually("programmed", || dests_of(&rvsd, 80).len() == 2);
    // `rvsadm -d` of rs 11 behind our back...
    rvsd.backend
        .lock()
        .unwrap()
        .apply(&[Mutation::DelDest {
            service: key(80),
            addr: dest(11).addr,
            port: 80,
        }])
        .unwrap();
    // ...then a change that edits it: the table is read again and rs 11 comes back.
    let mut t = table(80, "wlc", &[11, 12]);
    if let Some(s) = t.services.get_mut(&key(80)) {
        let mut d = dest(11);
        d.weight = 5;
        s.insert(d);
    }
    p.set(t);
    eventually("repaired", || dests_of(&rvsd, 80).len() == 2);
    p.stop(true, Duration::from_secs(5));
    rvsd.shutdown();
}
