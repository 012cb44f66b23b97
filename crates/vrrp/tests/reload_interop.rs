//! Root test: a reload of our MASTER (new priority, one more VIP) with Debian's keepalived
//! as the BACKUP on the same LAN (veth pair between two network namespaces). The VIP never
//! leaves the master, neither side changes state, the new VIP appears on the master.

#[allow(dead_code)]
mod lab;

use std::time::{Duration, Instant};

use lab::Lab;
use rvs_vrrp::{Config, Driver, InstanceConfig, State, VirtualIp};

const VIP: &str = "198.51.100.100";
const VIP2: &str = "198.51.100.101";
const LIMIT: Duration = Duration::from_secs(15);

fn ours(lab: &Lab, prio: u8, vips: &[&str]) -> Config {
    let mut i = InstanceConfig::new("VI", &lab.if_a, 61);
    i.priority = prio;
    i.virtual_ipaddresses = vips
        .iter()
        .map(|v| VirtualIp::host(v.parse().unwrap()))
        .collect();
    Config {
        instances: vec![i],
        ..Config::default()
    }
}

#[test]
fn reload_of_the_master_keeps_the_vip_and_adds_the_new_one() {
    if !lab::can_run() {
        return;
    }
    let mut lab = Lab::new();
    lab.start_keepalived(&format!(
        "  state BACKUP\n  virtual_router_id 61\n  priority 100\n  advert_int 1\n  \
         virtual_ipaddress {{\n    {VIP}/32\n  }}"
    ));
    let (mut driver, changes) = Driver::start(ours(&lab, 150, &[VIP])).expect("driver starts");
    if lab.wait_for(VIP, (true, false), LIMIT).is_none() {
        panic!("ours not elected: {:?}\n{}", lab.holders(VIP), lab.log());
    }
    let deadline = Instant::now() + LIMIT;
    while !lab.log().contains("Entering BACKUP STATE") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(lab.log().contains("Entering BACKUP STATE"), "{}", lab.log());
    let before: Vec<_> = changes.try_iter().collect();
    assert!(before.iter().any(|c| c.to == State::Master), "{before:?}");

    driver
        .reconfigure(ours(&lab, 120, &[VIP, VIP2]))
        .expect("reconfigured in place");
    // Watch for three advert intervals: the VIP stays on our side only.
    let watch = Instant::now();
    let mut vip2_seen = false;
    while watch.elapsed() < Duration::from_secs(3) {
        assert_eq!(
            lab.holders(VIP),
            (true, false),
            "the VIP moved during the reload\n{}",
            lab.log()
        );
        vip2_seen |= lab.holders(VIP2).0;
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        vip2_seen || lab.wait_for(VIP2, (true, false), LIMIT).is_some(),
        "the new VIP did not appear on the master"
    );
    let after: Vec<_> = changes.try_iter().collect();
    assert!(after.is_empty(), "state changes on reload: {after:?}");
    let status = driver.status();
    assert_eq!(status[0].state, State::Master);
    assert_eq!(status[0].priority, 120);
    let log = lab.log();
    assert!(!log.contains("Entering MASTER STATE"), "{log}");
    assert_eq!(log.matches("Entering BACKUP STATE").count(), 1, "{log}");
    driver.shutdown();
    lab.stop_keepalived(true);
}
