//! Root interop test: our driver and Debian's keepalived on one LAN (veth pair between two
//! network namespaces). Each is master in turn; failover works both ways, after a crash
//! and after a planned stop; the VIP is on exactly the master at every stable point.
//! Takeover times are printed (never asserted beyond a generous limit).

mod lab;

use std::time::{Duration, Instant};

use lab::Lab;
use rvs_vrrp::{Config, Driver, InstanceConfig, Version, VirtualIp};

const LIMIT: Duration = Duration::from_secs(15);

struct Variant {
    name: &'static str,
    version: Version,
    pass: Option<&'static str>,
    vip: &'static str,
    vip_len: &'static str,
}

fn ours(lab: &Lab, v: &Variant, prio: u8) -> Driver {
    let mut i = InstanceConfig::new("VI", &lab.if_a, 61);
    i.priority = prio;
    i.version = v.version;
    i.auth_pass = v.pass.map(|p| p.as_bytes().to_vec());
    i.virtual_ipaddresses = vec![VirtualIp::host(v.vip.parse().unwrap())];
    let (d, _changes) = Driver::start(Config {
        instances: vec![i],
        ..Config::default()
    })
    .expect("driver starts");
    d
}

fn keepalived_instance(v: &Variant, prio: u8) -> String {
    let auth = match v.pass {
        Some(p) => format!("  authentication {{\n    auth_type PASS\n    auth_pass {p}\n  }}\n"),
        None => String::new(),
    };
    let version = if v.version == Version::V2 { 2 } else { 3 };
    format!(
        "  state BACKUP\n  virtual_router_id 61\n  priority {prio}\n  advert_int 1\n  version {version}\n{auth}  virtual_ipaddress {{\n    {}\n  }}",
        v.vip_len
    )
}

/// Waits for the VIP to be on exactly one side and returns how long it took.
fn settle(lab: &Lab, v: &Variant, on_a: bool, what: &str) -> Duration {
    match lab.wait_for(v.vip, (on_a, !on_a), LIMIT) {
        Some(t) => t,
        None => panic!(
            "{}: {what}: VIP holders {:?}, want {:?}\nkeepalived log:\n{}",
            v.name,
            lab.holders(v.vip),
            (on_a, !on_a),
            lab.log()
        ),
    }
}

fn scenario(v: &Variant) -> Vec<(String, Duration)> {
    let mut lab = Lab::new();
    let mut times = Vec::new();

    // 1. Ours (150) against keepalived (100): ours is master.
    lab.start_keepalived(&keepalived_instance(v, 100));
    let d = ours(&lab, v, 150);
    settle(&lab, v, true, "ours elected");

    // 2. Ours crashes: keepalived takes over.
    let start = Instant::now();
    d.abort();
    lab.clear(lab.a.name(), &lab.if_a, v.vip_len);
    settle(&lab, v, false, "keepalived takes over after our crash");
    times.push((
        "keepalived takeover after crash of master".to_string(),
        start.elapsed(),
    ));

    // 3. Ours back at 100 stays backup; keepalived freezes: ours takes over.
    let d = ours(&lab, v, 100);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        lab.holders(v.vip),
        (false, true),
        "{}: ours must stay backup",
        v.name
    );
    let start = Instant::now();
    lab.freeze_keepalived();
    // The frozen keepalived cannot remove its copy: wait for ours to appear.
    if lab.wait_for(v.vip, (true, true), LIMIT).is_none() {
        panic!(
            "{}: ours did not take over from a frozen keepalived: {}",
            v.name,
            lab.log()
        );
    }
    times.push((
        "rvs-vrrp takeover after crash of master".to_string(),
        start.elapsed(),
    ));
    lab.stop_keepalived(false);

    // 4. keepalived at 150 preempts ours; then a planned stop hands back to ours.
    lab.clear(lab.b.name(), &lab.if_b, v.vip_len);
    lab.start_keepalived(&keepalived_instance(v, 150));
    settle(&lab, v, false, "keepalived preempts ours");
    let start = Instant::now();
    lab.terminate_keepalived();
    settle(
        &lab,
        v,
        true,
        "ours takes over after keepalived's planned stop",
    );
    times.push((
        "rvs-vrrp takeover after planned stop (priority 0)".to_string(),
        start.elapsed(),
    ));
    lab.stop_keepalived(true);

    // 5. keepalived at 100 stays backup; our planned stop hands over to it.
    lab.start_keepalived(&keepalived_instance(v, 100));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        lab.holders(v.vip),
        (true, false),
        "{}: keepalived must stay backup",
        v.name
    );
    let start = Instant::now();
    d.shutdown();
    settle(
        &lab,
        v,
        false,
        "keepalived takes over after our planned stop",
    );
    times.push((
        "keepalived takeover after planned stop (priority 0)".to_string(),
        start.elapsed(),
    ));
    lab.stop_keepalived(true);
    times
}

fn report(v: &Variant, times: &[(String, Duration)]) {
    for (what, t) in times {
        eprintln!("[{}] {what}: {:.3} s", v.name, t.as_secs_f64());
    }
}

#[test]
fn interop_with_keepalived_v2_pass() {
    if !lab::can_run() {
        return;
    }
    let v = Variant {
        name: "v2+PASS",
        version: Version::V2,
        pass: Some("s3cret"),
        vip: "198.51.100.100",
        vip_len: "198.51.100.100/32",
    };
    report(&v, &scenario(&v));
}

#[test]
fn interop_with_keepalived_v3() {
    if !lab::can_run() {
        return;
    }
    let v = Variant {
        name: "v3",
        version: Version::V3,
        pass: None,
        vip: "198.51.100.101",
        vip_len: "198.51.100.101/32",
    };
    report(&v, &scenario(&v));
}

#[test]
fn interop_with_keepalived_v3_ipv6() {
    if !lab::can_run() {
        return;
    }
    let v = Variant {
        name: "v3 IPv6",
        version: Version::V3,
        pass: None,
        vip: "2001:db8::100",
        vip_len: "2001:db8::100/128",
    };
    report(&v, &scenario(&v));
}

/// Takeover after a crash of the master, several times each way (v2, priority 100
/// backup, 1 s adverts). Run: `cargo test -p rvs-vrrp --test interop -- --ignored --nocapture`.
#[test]
#[ignore = "measurement: about two minutes"]
fn takeover_times() {
    if !lab::can_run() {
        return;
    }
    let v = Variant {
        name: "measure",
        version: Version::V2,
        pass: None,
        vip: "198.51.100.100",
        vip_len: "198.51.100.100/32",
    };
    let mut lab = Lab::new();
    let (mut ka, mut rvs) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        // keepalived (100) takes over from ours (150).
        lab.start_keepalived(&keepalived_instance(&v, 100));
        let d = ours(&lab, &v, 150);
        settle(&lab, &v, true, "ours elected");
        std::thread::sleep(Duration::from_millis(1500));
        let start = Instant::now();
        d.abort();
        lab.clear(lab.a.name(), &lab.if_a, v.vip_len);
        settle(&lab, &v, false, "keepalived takes over");
        ka.push(start.elapsed().as_secs_f64());
        lab.stop_keepalived(false);
        lab.clear(lab.b.name(), &lab.if_b, v.vip_len);
        // Ours (100) takes over from keepalived (150).
        let d = ours(&lab, &v, 100);
        lab.start_keepalived(&keepalived_instance(&v, 150));
        settle(&lab, &v, false, "keepalived elected");
        std::thread::sleep(Duration::from_millis(1500));
        let start = Instant::now();
        lab.freeze_keepalived();
        if lab.wait_for(v.vip, (true, true), LIMIT).is_none() {
            panic!("ours did not take over");
        }
        rvs.push(start.elapsed().as_secs_f64());
        lab.stop_keepalived(false);
        lab.clear(lab.b.name(), &lab.if_b, v.vip_len);
        d.shutdown();
    }
    let stats = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let max = v.iter().cloned().fold(0.0, f64::max);
        format!("mean {mean:.3} s, max {max:.3} s, runs {v:.3?}")
    };
    eprintln!("keepalived takeover after crash: {}", stats(&ka));
    eprintln!("rvs-vrrp takeover after crash:   {}", stats(&rvs));
}
