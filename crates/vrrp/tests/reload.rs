//! In-place reconfiguration (keepalived's reload) on a simulated LAN with a virtual clock:
//! matched instances keep their state, VIPs change by difference, unmatched ones restart.

#[allow(dead_code)]
mod sim;

use std::net::IpAddr;
use std::time::Duration;

use rvs_vrrp::{
    Action, Advert, Config, InstanceConfig, ScriptConfig, State, SyncGroupConfig, TrackScript,
    VirtualIp,
};
use sim::Lan;

const VIP: &str = "198.51.100.100";
const VIP2: &str = "198.51.100.101";
const VIP3: &str = "198.51.100.102";
const A: &str = "198.51.100.1";
const B: &str = "198.51.100.2";

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn inst(name: &str, vrid: u8, prio: u8) -> InstanceConfig {
    let mut i = InstanceConfig::new(name, "eth0", vrid);
    i.priority = prio;
    i.virtual_ipaddresses = vec![VirtualIp::host(ip(VIP))];
    i
}

fn one(i: InstanceConfig) -> Config {
    Config {
        instances: vec![i],
        ..Config::default()
    }
}

/// (VRID, priority) of every advert among `actions`.
fn adverts(actions: &[Action]) -> Vec<(u8, u8)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(t) => Advert::decode(&t.payload, &t.src, &t.dst).ok(),
            _ => None,
        })
        .map(|a| (a.vrid, a.priority))
        .collect()
}

fn state_changes(actions: &[Action]) -> Vec<(String, State, State)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::StateChange(c) => Some((c.name.clone(), c.from, c.to)),
            _ => None,
        })
        .collect()
}

/// The addresses of every `AddAddresses`, `RemoveAddresses` and `Announce` action.
fn address_actions(actions: &[Action]) -> (Vec<IpAddr>, Vec<IpAddr>, Vec<IpAddr>) {
    let (mut add, mut remove, mut announce) = (Vec::new(), Vec::new(), Vec::new());
    for a in actions {
        match a {
            Action::AddAddresses { addrs, .. } => add.extend(addrs.iter().map(|v| v.addr)),
            Action::RemoveAddresses { addrs, .. } => remove.extend(addrs.iter().map(|v| v.addr)),
            Action::Announce { addrs, .. } => announce.extend(addrs.iter().map(|v| v.addr)),
            _ => {}
        }
    }
    (add, remove, announce)
}

/// A (150) is master, B (`b_prio`) backup, after 10 s.
fn elected(b: InstanceConfig) -> Lan {
    let mut lan = Lan::new(vec![(one(inst("VI", 51, 150)), A), (one(b), B)]);
    lan.start_all();
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![0]);
    lan
}

#[test]
fn master_keeps_state_and_adverts_across_a_priority_and_vip_change() {
    let mut lan = elected(inst("VI", 51, 100));
    let reload = lan.elapsed();
    let sent = lan.nodes[0].engine.instances()[0].stats.adverts_sent;
    let heard = lan.nodes[1].engine.instances()[0].stats.adverts_received;

    let mut a = inst("VI", 51, 120);
    a.virtual_ipaddresses.push(VirtualIp::host(ip(VIP2)));
    let actions = lan.reconfigure(0, one(a));
    assert_eq!(state_changes(&actions), vec![], "no transition on reload");
    assert_eq!(
        adverts(&actions),
        vec![(51, 120)],
        "new priority advertised"
    );
    let (add, remove, announce) = address_actions(&actions);
    assert_eq!(add, vec![ip(VIP2)], "only the new VIP is added");
    assert_eq!(announce, vec![ip(VIP2)], "and announced");
    assert!(remove.is_empty(), "nothing removed: {remove:?}");

    lan.run_for(secs(20.0));
    assert_eq!(lan.when(0, "VI", State::Backup, reload), None);
    assert_eq!(lan.when(1, "VI", State::Master, reload), None);
    assert_eq!(lan.masters("VI"), vec![0]);
    assert!(lan.nodes[0].vips.contains(&ip(VIP)) && lan.nodes[0].vips.contains(&ip(VIP2)));
    assert!(lan.nodes[1].vips.is_empty());
    assert_eq!(lan.nodes[0].engine.instances()[0].priority, 120);
    assert!(lan.nodes[0].engine.instances()[0].stats.adverts_sent > sent);
    assert!(lan.nodes[1].engine.instances()[0].stats.adverts_received > heard);
}

#[test]
fn vip_diff_adds_and_removes_exactly_the_difference() {
    let mut a = inst("VI", 51, 150);
    a.virtual_ipaddresses.push(VirtualIp::host(ip(VIP2)));
    a.virtual_ipaddresses_excluded = vec![VirtualIp::host(ip("203.0.113.10"))];
    let mut lan = Lan::new(vec![(one(a.clone()), A)]);
    lan.start_all();
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![0]);

    a.virtual_ipaddresses = vec![VirtualIp::host(ip(VIP2)), VirtualIp::host(ip(VIP3))];
    let actions = lan.reconfigure(0, one(a));
    let (add, remove, announce) = address_actions(&actions);
    assert_eq!(remove, vec![ip(VIP)]);
    assert_eq!(add, vec![ip(VIP3)]);
    assert_eq!(announce, vec![ip(VIP3)]);
    let mut held: Vec<IpAddr> = lan.nodes[0].vips.iter().copied().collect();
    held.sort();
    assert_eq!(held, vec![ip(VIP2), ip(VIP3), ip("203.0.113.10")]);
    assert_eq!(state_changes(&actions), vec![]);
}

#[test]
fn backup_keeps_state_and_its_down_timer() {
    let mut lan = elected(inst("VI", 51, 100));
    let reload = lan.elapsed();
    let mut b = inst("VI", 51, 110);
    b.advert_int = secs(1.0);
    let actions = lan.reconfigure(1, one(b));
    assert_eq!(state_changes(&actions), vec![]);
    assert!(adverts(&actions).is_empty(), "a backup stays silent");
    lan.run_for(secs(20.0));
    assert_eq!(lan.when(1, "VI", State::Master, reload), None);
    // Its down timer still runs: it takes over when the master dies.
    lan.kill(0);
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![1]);
}

/// A master lowered below a preempting backup stays master until the backup's down timer
/// runs out; then exactly one handover. Below a `nopreempt` backup it stays master.
#[test]
fn lowering_the_master_below_the_backup_hands_over_once_unless_nopreempt() {
    for nopreempt in [false, true] {
        let mut b = inst("VI", 51, 120);
        b.nopreempt = nopreempt;
        let mut lan = elected(b);
        let reload = lan.elapsed();
        let actions = lan.reconfigure(0, one(inst("VI", 51, 100)));
        assert_eq!(state_changes(&actions), vec![], "still master right after");
        assert_eq!(adverts(&actions), vec![(51, 100)]);
        lan.run_for(secs(20.0));
        let changes = |i: usize| -> Vec<State> {
            lan.nodes[i]
                .changes
                .iter()
                .filter(|(t, _)| *t >= reload)
                .map(|(_, c)| c.to)
                .collect()
        };
        if nopreempt {
            assert_eq!(lan.masters("VI"), vec![0]);
            assert!(changes(0).is_empty() && changes(1).is_empty());
        } else {
            assert_eq!(lan.masters("VI"), vec![1]);
            assert_eq!(changes(0), vec![State::Backup]);
            assert_eq!(changes(1), vec![State::Master]);
            assert!(lan.nodes[1].vips.contains(&ip(VIP)) && lan.nodes[0].vips.is_empty());
        }
    }
}

#[test]
fn clearing_nopreempt_lets_the_higher_backup_preempt() {
    let mut b = inst("VI", 51, 150);
    b.nopreempt = true;
    let mut lan = Lan::new(vec![(one(inst("VI", 51, 100)), A), (one(b), B)]);
    lan.start(0);
    lan.run_for(secs(5.0));
    lan.start(1);
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![0], "nopreempt holds");
    let actions = lan.reconfigure(1, one(inst("VI", 51, 150)));
    assert_eq!(state_changes(&actions), vec![]);
    lan.run_for(secs(10.0));
    assert_eq!(
        lan.masters("VI"),
        vec![1],
        "preempts once nopreempt is gone"
    );
}

#[test]
fn a_vrid_change_starts_the_instance_over() {
    let mut lan = Lan::new(vec![(one(inst("VI", 51, 150)), A)]);
    lan.start_all();
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![0]);
    let actions = lan.reconfigure(0, one(inst("VI", 52, 150)));
    assert_eq!(adverts(&actions), vec![(51, 0)], "old router says goodbye");
    assert_eq!(
        state_changes(&actions),
        vec![
            ("VI".to_string(), State::Master, State::Stop),
            ("VI".to_string(), State::Init, State::Backup),
        ]
    );
    assert!(lan.nodes[0].vips.is_empty());
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![0], "new VRID elected alone");
    assert!(lan.nodes[0].vips.contains(&ip(VIP)));
}

fn group(members: &[&str], prio: u8) -> Config {
    let mut v2 = inst("VI_2", 2, prio);
    v2.virtual_ipaddresses = vec![VirtualIp::host(ip(VIP2))];
    Config {
        instances: vec![inst("VI_1", 1, prio), v2],
        sync_groups: vec![SyncGroupConfig {
            name: "G".into(),
            members: members.iter().map(|m| m.to_string()).collect(),
            ..SyncGroupConfig::default()
        }],
        ..Config::default()
    }
}

#[test]
fn sync_group_kept_in_place_unless_its_membership_changes() {
    let mut lan = Lan::new(vec![(group(&["VI_1", "VI_2"], 150), A)]);
    lan.start_all();
    lan.run_for(secs(10.0));
    assert_eq!(lan.nodes[0].engine.group_state("G"), Some(State::Master));
    let actions = lan.reconfigure(0, group(&["VI_1", "VI_2"], 120));
    assert_eq!(state_changes(&actions), vec![]);
    assert_eq!(lan.nodes[0].engine.group_state("G"), Some(State::Master));

    let actions = lan.reconfigure(0, group(&["VI_1"], 120));
    let stops: Vec<String> = state_changes(&actions)
        .into_iter()
        .filter(|c| c.2 == State::Stop)
        .map(|c| c.0)
        .collect();
    assert_eq!(
        stops,
        vec!["VI_1", "VI_2", "G"],
        "membership change restarts"
    );
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI_1"), vec![0]);
    assert_eq!(lan.masters("VI_2"), vec![0]);
}

#[test]
fn tracked_script_status_survives_a_reload() {
    let cfg = |fall: u32| {
        let mut a = inst("VI", 51, 150);
        a.track_scripts = vec![TrackScript {
            name: "chk".into(),
            weight: None,
            reverse: false,
        }];
        let mut s = ScriptConfig::new("chk", &["/bin/true"]);
        s.fall = fall;
        Config {
            instances: vec![a],
            scripts: vec![s],
            ..Config::default()
        }
    };
    let mut lan = Lan::new(vec![(cfg(1), A)]);
    lan.start_all();
    lan.script(0, "chk", true);
    lan.run_for(secs(10.0));
    assert_eq!(lan.masters("VI"), vec![0]);
    let actions = lan.reconfigure(0, cfg(2));
    assert_eq!(
        state_changes(&actions),
        vec![],
        "no FAULT while the script reruns"
    );
    lan.script(0, "chk", false);
    assert_eq!(
        lan.state(0, "VI"),
        State::Master,
        "fall 2 now: one failure is not enough"
    );
    lan.script(0, "chk", false);
    assert_eq!(lan.state(0, "VI"), State::Fault);
}
