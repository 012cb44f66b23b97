//! The state machine on a simulated LAN with a virtual clock: elections, preemption,
//! failover and tracking, checked against RFC 3768/5798 and keepalived's behaviour.

mod sim;

use std::net::IpAddr;
use std::time::Duration;

use rvs_vrrp::timer::{master_down_interval, skew};
use rvs_vrrp::{
    Config, InitialState, InstanceConfig, Notify, Script, ScriptConfig, State, SyncGroupConfig,
    TrackInterface, TrackScript, UnicastPeer, Version, VirtualIp,
};
use sim::Lan;

const VIP: &str = "198.51.100.100";
const A: &str = "198.51.100.1";
const B: &str = "198.51.100.2";
const C: &str = "198.51.100.3";

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn inst(name: &str, vrid: u8, prio: u8) -> InstanceConfig {
    let mut i = InstanceConfig::new(name, "eth0", vrid);
    i.priority = prio;
    i.virtual_ipaddresses = vec![VirtualIp::host(VIP.parse().unwrap())];
    i
}

fn one(i: InstanceConfig) -> Config {
    Config {
        instances: vec![i],
        ..Config::default()
    }
}

fn vip() -> IpAddr {
    VIP.parse().unwrap()
}

/// The VIP is on exactly the master.
fn vip_on_master_only(lan: &Lan, name: &str) {
    let masters = lan.masters(name);
    assert_eq!(masters.len(), 1, "one master for {name}");
    for (i, n) in lan.nodes.iter().enumerate() {
        assert_eq!(
            n.vips.contains(&vip()),
            masters.contains(&i),
            "VIP on node {i}"
        );
    }
}

#[test]
fn highest_priority_wins() {
    let mut lan = Lan::new(vec![
        (one(inst("VI", 51, 100)), A),
        (one(inst("VI", 51, 150)), B),
        (one(inst("VI", 51, 120)), C),
    ]);
    lan.start_all();
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![1]);
    vip_on_master_only(&lan, "VI");
    // It took one Master_Down_Interval of the winner (priority 150, 1 s, v2).
    let down = master_down_interval(Version::V2, 3, 150, secs(1.0));
    assert_eq!(lan.when(1, "VI", State::Master, Duration::ZERO), Some(down));
    assert_eq!(lan.state(0, "VI"), State::Backup);
}

#[test]
fn equal_priority_higher_address_wins() {
    let mut lan = Lan::new(vec![
        (one(inst("VI", 51, 100)), A),
        (one(inst("VI", 51, 100)), B),
    ]);
    lan.start_all();
    lan.run_for(secs(10.0));
    // Both time out together; the lower address yields on seeing the other's advert.
    assert_eq!(lan.masters("VI"), vec![1]);
    vip_on_master_only(&lan, "VI");
    assert!(lan.when(0, "VI", State::Master, Duration::ZERO).is_some());
}

#[test]
fn owner_takes_over_at_once() {
    let mut owner = inst("VI", 51, 255);
    owner.state = InitialState::Master;
    let mut lan = Lan::new(vec![(one(inst("VI", 51, 254)), A), (one(owner), B)]);
    lan.start_all();
    lan.run_for(secs(5.0));
    assert_eq!(
        lan.when(1, "VI", State::Master, Duration::ZERO),
        Some(Duration::ZERO)
    );
    vip_on_master_only(&lan, "VI");
}

#[test]
fn higher_priority_preempts_a_running_master() {
    let mut lan = Lan::new(vec![
        (one(inst("VI", 51, 100)), A),
        (one(inst("VI", 51, 150)), B),
    ]);
    lan.start(0);
    lan.run_for(secs(5.0));
    assert_eq!(lan.masters("VI"), vec![0]);
    let joined = lan.elapsed();
    lan.start(1);
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![1]);
    vip_on_master_only(&lan, "VI");
    let took = lan.when(1, "VI", State::Master, joined).unwrap() - joined;
    assert_eq!(took, master_down_interval(Version::V2, 3, 150, secs(1.0)));
}

#[test]
fn nopreempt_keeps_the_running_master() {
    let mut b = inst("VI", 51, 150);
    b.nopreempt = true;
    let mut lan = Lan::new(vec![(one(inst("VI", 51, 100)), A), (one(b), B)]);
    lan.start(0);
    lan.run_for(secs(5.0));
    lan.start(1);
    lan.run_for(secs(20.0));
    assert_eq!(lan.masters("VI"), vec![0]);
    vip_on_master_only(&lan, "VI");
    // ...but it still takes over when the master dies.
    lan.kill(0);
    lan.run_for(secs(5.0));
    assert_eq!(lan.masters("VI"), vec![1]);
}

#[test]
fn preempt_delay_postpones_preemption() {
    let mut b = inst("VI", 51, 150);
    b.preempt_delay = secs(10.0);
    let mut lan = Lan::new(vec![(one(inst("VI", 51, 100)), A), (one(b), B)]);
    lan.start(0);
    lan.run_for(secs(5.0));
    let joined = lan.elapsed();
    lan.start(1);
    lan.run_for(secs(9.0));
    assert_eq!(lan.masters("VI"), vec![0], "still within preempt_delay");
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![1]);
    let took = lan.when(1, "VI", State::Master, joined).unwrap() - joined;
    assert!(took > secs(10.0) && took < secs(15.0), "took {took:?}");
}

/// Master dies: the backup takes over within Master_Down_Interval of the last advert.
#[test]
fn master_death_takeover_within_down_interval() {
    for (version, int) in [(Version::V2, 1.0), (Version::V3, 1.0), (Version::V3, 0.3)] {
        let cfg = |prio| {
            let mut i = inst("VI", 51, prio);
            i.version = version;
            i.advert_int = secs(int);
            one(i)
        };
        let mut lan = Lan::new(vec![(cfg(150), A), (cfg(100), B)]);
        lan.start_all();
        lan.run_for(secs(10.0));
        assert_eq!(lan.masters("VI"), vec![0]);
        let died = lan.elapsed();
        lan.kill(0);
        lan.run_for(secs(10.0));
        let took = lan.when(1, "VI", State::Master, died).unwrap() - died;
        let bound = master_down_interval(version, 3, 100, secs(int));
        assert!(
            took <= bound,
            "{version:?} {int}: took {took:?} > {bound:?}"
        );
        assert!(
            took + secs(int) >= bound,
            "{version:?}: not before the down interval"
        );
        assert!(lan.nodes[1].vips.contains(&vip()));
    }
}

/// Planned stop: priority 0 makes the backup take over after Skew_Time.
#[test]
fn shutdown_sends_priority_zero_and_backup_takes_over_after_skew() {
    let mut lan = Lan::new(vec![
        (one(inst("VI", 51, 150)), A),
        (one(inst("VI", 51, 100)), B),
    ]);
    lan.start_all();
    lan.run_for(secs(10.0));
    let stopped = lan.elapsed();
    lan.stop(0);
    assert!(lan.nodes[0].vips.is_empty(), "VIPs removed on stop");
    assert_eq!(lan.state(0, "VI"), State::Stop);
    lan.run_for(secs(5.0));
    let took = lan.when(1, "VI", State::Master, stopped).unwrap() - stopped;
    assert_eq!(took, lan.delay + skew(Version::V2, 100, secs(1.0)));
    assert!(lan.nodes[1].vips.contains(&vip()));
}

#[test]
fn track_interface_down_is_fault_and_recovers() {
    let mut a = inst("VI", 51, 150);
    a.track_interfaces = vec![TrackInterface {
        name: "eth1".into(),
        weight: 0,
        reverse: false,
    }];
    let mut lan = Lan::new(vec![(one(a), A), (one(inst("VI", 51, 100)), B)]);
    lan.set_link(0, "eth1", true);
    lan.start_all();
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![0]);
    let t = lan.elapsed();
    lan.set_link(0, "eth1", false);
    assert_eq!(lan.state(0, "VI"), State::Fault);
    assert!(lan.nodes[0].vips.is_empty());
    lan.run_for(secs(2.0));
    // FAULT sends priority 0: the backup takes over after its skew.
    assert_eq!(
        lan.when(1, "VI", State::Master, t),
        Some(t + lan.delay + skew(Version::V2, 100, secs(1.0)))
    );
    lan.set_link(0, "eth1", true);
    assert_eq!(lan.state(0, "VI"), State::Backup);
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![0], "recovered and preempted");
    vip_on_master_only(&lan, "VI");
}

#[test]
fn own_interface_down_is_fault_unless_dont_track_primary() {
    let mut lan = Lan::new(vec![(one(inst("VI", 51, 150)), A)]);
    lan.start_all();
    lan.run_for(secs(5.0));
    lan.set_link(0, "eth0", false);
    assert_eq!(lan.state(0, "VI"), State::Fault);
    let mut i = inst("VI", 51, 150);
    i.dont_track_primary = true;
    let mut lan = Lan::new(vec![(one(i), A)]);
    lan.start_all();
    lan.run_for(secs(5.0));
    lan.set_link(0, "eth0", false);
    assert_eq!(lan.state(0, "VI"), State::Master);
}

#[test]
fn script_weight_changes_priority_and_moves_the_master() {
    let mut a = inst("VI", 51, 150);
    a.track_scripts = vec![TrackScript {
        name: "chk".into(),
        weight: None,
        reverse: false,
    }];
    let mut script = ScriptConfig::new("chk", &["/bin/true"]);
    script.weight = -60;
    script.fall = 2;
    let ca = Config {
        instances: vec![a],
        scripts: vec![script],
        ..Config::default()
    };
    let mut lan = Lan::new(vec![(ca, A), (one(inst("VI", 51, 100)), B)]);
    lan.start_all();
    lan.script(0, "chk", true);
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![0]);
    lan.script(0, "chk", false);
    assert_eq!(
        lan.nodes[0].engine.instances()[0].priority,
        150,
        "fall 2: one failure is not enough"
    );
    lan.script(0, "chk", false);
    assert_eq!(lan.nodes[0].engine.instances()[0].priority, 90);
    lan.run_for(secs(10.0));
    assert_eq!(
        lan.masters("VI"),
        vec![1],
        "the backup preempted the lower-priority master"
    );
    vip_on_master_only(&lan, "VI");
    lan.script(0, "chk", true);
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![0]);
}

#[test]
fn weight_zero_script_waits_silently_then_faults() {
    let mut a = inst("VI", 51, 150);
    a.track_scripts = vec![TrackScript {
        name: "chk".into(),
        weight: None,
        reverse: false,
    }];
    let ca = Config {
        instances: vec![a],
        scripts: vec![ScriptConfig::new("chk", &["/bin/true"])],
        ..Config::default()
    };
    let mut lan = Lan::new(vec![(ca, A)]);
    lan.start_all();
    assert_eq!(lan.state(0, "VI"), State::Fault);
    assert!(
        lan.nodes[0].changes.is_empty(),
        "no FAULT notification while waiting"
    );
    lan.script(0, "chk", true);
    assert_eq!(lan.state(0, "VI"), State::Backup);
    lan.run_for(secs(5.0));
    assert_eq!(lan.state(0, "VI"), State::Master);
    lan.script(0, "chk", false);
    assert_eq!(lan.state(0, "VI"), State::Fault);
}

fn pair(prio: u8, track: bool) -> Config {
    let mut v1 = inst("VI_1", 1, prio);
    let mut v2 = inst("VI_2", 2, prio);
    v2.virtual_ipaddresses = vec![VirtualIp::host("198.51.100.101".parse().unwrap())];
    if track {
        v1.track_interfaces = vec![TrackInterface {
            name: "eth1".into(),
            weight: 0,
            reverse: false,
        }];
    }
    v1.notify.any = None;
    Config {
        instances: vec![v1, v2],
        sync_groups: vec![SyncGroupConfig {
            name: "G".into(),
            members: vec!["VI_1".into(), "VI_2".into()],
            notify: Notify {
                any: Some(Script {
                    argv: vec!["/n".into()],
                    ..Script::default()
                }),
                ..Notify::default()
            },
            ..SyncGroupConfig::default()
        }],
        ..Config::default()
    }
}

#[test]
fn sync_group_members_move_together() {
    let mut lan = Lan::new(vec![(pair(150, true), A), (pair(100, false), B)]);
    lan.set_link(0, "eth1", true);
    lan.start_all();
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI_1"), vec![0]);
    assert_eq!(lan.masters("VI_2"), vec![0]);
    assert_eq!(lan.nodes[0].engine.group_state("G"), Some(State::Master));
    assert!(lan.nodes[0].runs.contains(&vec![
        "/n".into(),
        "GROUP".into(),
        "G".into(),
        "MASTER".into(),
        "0".into()
    ]));
    // One member faults: the whole group goes to FAULT and the peer's group takes over.
    lan.set_link(0, "eth1", false);
    assert_eq!(lan.state(0, "VI_2"), State::Fault);
    lan.run_for(secs(5.0));
    assert_eq!(lan.masters("VI_1"), vec![1]);
    assert_eq!(lan.masters("VI_2"), vec![1]);
    lan.set_link(0, "eth1", true);
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI_1"), vec![0]);
    assert_eq!(lan.masters("VI_2"), vec![0]);
}

#[test]
fn sync_group_does_not_split_when_one_vrid_is_lost() {
    let mut lan = Lan::new(vec![(pair(150, false), A), (pair(100, false), B)]);
    lan.start_all();
    lan.run_for(secs(10.0));
    // VRID 1 adverts from A stop reaching B; VRID 2 still arrive.
    lan.loss = Box::new(|from, _, t| from == 0 && t.payload[1] == 1);
    lan.run_for(secs(20.0));
    assert_eq!(
        lan.masters("VI_1"),
        vec![0],
        "B holds VI_1 in BACKUP: VI_2 does not want MASTER"
    );
    assert_eq!(lan.masters("VI_2"), vec![0]);
}

#[test]
fn split_brain_heals_to_the_higher_priority() {
    let mut lan = Lan::new(vec![
        (one(inst("VI", 51, 150)), A),
        (one(inst("VI", 51, 100)), B),
    ]);
    lan.start_all();
    lan.run_for(secs(10.0));
    lan.loss = Box::new(|_, _, _| true);
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![0, 1], "partitioned: both master");
    lan.loss = Box::new(|_, _, _| false);
    lan.run_for(secs(3.0));
    assert_eq!(lan.masters("VI"), vec![0]);
    vip_on_master_only(&lan, "VI");
}

#[test]
fn notify_scripts_get_keepalived_arguments() {
    let mut a = inst("VI", 51, 150);
    a.notify = Notify {
        master: Some(Script {
            argv: vec!["/m".into()],
            ..Script::default()
        }),
        any: Some(Script {
            argv: vec!["/n".into(), "x".into()],
            ..Script::default()
        }),
        ..Notify::default()
    };
    let mut lan = Lan::new(vec![(one(a), A)]);
    lan.start_all();
    lan.run_for(secs(5.0));
    lan.stop(0);
    let runs = &lan.nodes[0].runs;
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        runs,
        &vec![
            s(&["/n", "x", "INSTANCE", "VI", "BACKUP", "150"]),
            s(&["/m"]),
            s(&["/n", "x", "INSTANCE", "VI", "MASTER", "150"]),
            s(&["/n", "x", "INSTANCE", "VI", "STOP", "150"]),
        ]
    );
    assert_eq!(
        lan.nodes[0].announced, 5,
        "garp_master_repeat 5, second burst not due yet"
    );
}

#[test]
fn ipv6_v3_centiseconds_learns_the_master_interval() {
    let cfg = |prio, int| {
        let mut i = InstanceConfig::new("VI6", "eth0", 7);
        i.version = Version::V3;
        i.priority = prio;
        i.advert_int = secs(int);
        i.virtual_ipaddresses = vec![VirtualIp::host("2001:db8::100".parse().unwrap())];
        one(i)
    };
    let mut lan = Lan::new(vec![
        (cfg(200, 0.25), "fe80::1"),
        (cfg(100, 2.0), "fe80::2"),
    ]);
    lan.start_all();
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI6"), vec![0]);
    let died = lan.elapsed();
    lan.kill(0);
    lan.run_for(secs(10.0));
    // The backup uses the master's 0.25 s, not its own 2 s.
    let took = lan.when(1, "VI6", State::Master, died).unwrap() - died;
    assert!(
        took <= master_down_interval(Version::V3, 3, 100, secs(0.25)),
        "took {took:?}"
    );
}

#[test]
fn unicast_peers() {
    let cfg = |prio, me: &str, peer: &str| {
        let mut i = inst("VI", 51, prio);
        i.unicast_src_ip = Some(me.parse().unwrap());
        i.unicast_peers = vec![UnicastPeer {
            addr: peer.parse().unwrap(),
            min_ttl: None,
            max_ttl: None,
        }];
        one(i)
    };
    let mut lan = Lan::new(vec![(cfg(150, A, B), A), (cfg(100, B, A), B)]);
    lan.start_all();
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![0]);
    assert_eq!(
        lan.nodes[1].engine.instances()[0].stats.adverts_received,
        lan.nodes[0].engine.instances()[0].stats.adverts_sent
    );
}

#[test]
fn v2_password_mismatch_means_no_election() {
    let cfg = |prio, pass: &[u8]| {
        let mut i = inst("VI", 51, prio);
        i.auth_pass = Some(pass.to_vec());
        one(i)
    };
    let mut lan = Lan::new(vec![(cfg(150, b"1111"), A), (cfg(100, b"2222"), B)]);
    lan.start_all();
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![0, 1]);
    assert!(lan.nodes[1].engine.instances()[0].stats.auth_errors > 0);
}
