//! keepalived.conf's `vrrp_instance`, `vrrp_script` and `vrrp_sync_group` as the VRRP
//! crate's configuration, field by field.

use rvs_kaconf as ka;
use rvs_vrrp as vr;

fn script(s: &ka::Script) -> vr::Script {
    vr::Script {
        argv: s.argv.clone(),
        user: s.user.clone(),
        group: s.group.clone(),
    }
}

fn notify(n: &ka::Notify) -> vr::Notify {
    vr::Notify {
        master: n.master.as_ref().map(script),
        backup: n.backup.as_ref().map(script),
        fault: n.fault.as_ref().map(script),
        stop: n.stop.as_ref().map(script),
        any: n.any.as_ref().map(script),
    }
}

fn vip(v: &ka::VirtualIp) -> vr::VirtualIp {
    vr::VirtualIp {
        addr: v.prefix.addr,
        prefix_len: v.prefix.len,
        broadcast: v.broadcast,
        dev: v.dev.clone(),
        scope: v.scope.clone(),
        label: v.label.clone(),
    }
}

/// Things the VRRP crate does not do that the configuration asks for (logged as warnings).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Unsupported(pub Vec<String>);

fn instance(
    i: &ka::VrrpInstance,
    g: &ka::GlobalDefs,
    unsupported: &mut Unsupported,
) -> vr::InstanceConfig {
    let interface = i
        .interface
        .clone()
        .or_else(|| g.default_interface.clone())
        .unwrap_or_default();
    let mut c = vr::InstanceConfig::new(&i.name, &interface, i.virtual_router_id);
    // The state, tracked interfaces and scripts and unicast peers are the same types.
    c.state = i.state;
    c.priority = i.priority;
    c.advert_int = i.advert_int;
    c.version = if i.version == 3 {
        vr::Version::V3
    } else {
        vr::Version::V2
    };
    c.auth_pass = match &i.authentication {
        Some(a) if a.kind == ka::AuthType::Pass => Some(a.pass.clone()),
        Some(_) => {
            unsupported.0.push(format!(
                "({}) auth_type AH is not supported - sending without authentication",
                i.name
            ));
            None
        }
        None => None,
    };
    c.virtual_ipaddresses = i.virtual_ipaddresses.iter().map(vip).collect();
    c.virtual_ipaddresses_excluded = i.virtual_ipaddresses_excluded.iter().map(vip).collect();
    c.track_interfaces = i.track_interfaces.clone();
    c.track_scripts = i.track_scripts.clone();
    c.unicast_src_ip = i.unicast_src_ip;
    c.unicast_peers = i.unicast_peers.clone();
    c.mcast_src_ip = i.mcast_src_ip;
    c.nopreempt = i.nopreempt;
    c.preempt_delay = i.preempt_delay;
    c.garp_master_delay = i.garp_master_delay;
    c.garp_master_repeat = i.garp_master_repeat;
    c.garp_master_refresh = i.garp_master_refresh;
    c.garp_master_refresh_repeat = i.garp_master_refresh_repeat;
    c.notify = notify(&i.notify);
    c.dont_track_primary = i.dont_track_primary;
    c.down_timer_adverts = i.down_timer_adverts;
    c.unicast_ttl = i.unicast_ttl;
    c.check_unicast_src = i.check_unicast_src || g.vrrp_check_unicast_src;
    c.lower_prio_no_advert = g.vrrp_lower_prio_no_advert;
    c.higher_prio_send_advert = g.vrrp_higher_prio_send_advert;
    if !i.virtual_routes.is_empty() {
        unsupported
            .0
            .push(format!("({}) virtual_routes are not applied", i.name));
    }
    if i.use_vmac.is_some() {
        unsupported
            .0
            .push(format!("({}) use_vmac is not supported", i.name));
    }
    c
}

fn vrrp_script(s: &ka::VrrpScript) -> Option<vr::ScriptConfig> {
    let cmd = s.script.as_ref()?;
    let mut sc = script(cmd);
    if let Some((user, group)) = &s.user {
        sc.user = Some(user.clone());
        sc.group = group.clone();
    }
    Some(vr::ScriptConfig {
        name: s.name.clone(),
        script: sc,
        interval: s.interval,
        timeout: s.timeout,
        weight: s.weight,
        reverse: s.reverse,
        rise: s.rise,
        fall: s.fall,
        init_fail: s.init_fail,
    })
}

/// The VRRP configuration of `cfg`, and what of it is not supported.
pub fn config(cfg: &ka::Config) -> (vr::Config, Unsupported) {
    let mut unsupported = Unsupported::default();
    let instances = cfg
        .vrrp_instances
        .iter()
        .map(|i| instance(i, &cfg.global, &mut unsupported))
        .collect();
    let scripts = cfg.vrrp_scripts.iter().filter_map(vrrp_script).collect();
    let sync_groups = cfg
        .sync_groups
        .iter()
        .map(|g| vr::SyncGroupConfig {
            name: g.name.clone(),
            members: g.members.clone(),
            notify: notify(&g.notify),
            track_interfaces: g.track_interfaces.clone(),
            track_scripts: g.track_scripts.clone(),
        })
        .collect();
    (
        vr::Config {
            instances,
            scripts,
            sync_groups,
        },
        unsupported,
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rvs_kaconf::{CheckOptions, parse_str};

    use super::*;

    const HA: &str = r#"
global_defs {
    enable_script_security
    script_user root
}
vrrp_script chk {
    script "/bin/true"
    interval 2
    weight -20
    fall 3
}
vrrp_sync_group G {
    group {
        VI_1
    }
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        198.51.100.10/24 dev eth0 label eth0:1
    }
    unicast_peer {
        198.51.100.3
    }
    track_script {
        chk
    }
    notify_master "/bin/true master"
}
"#;

    #[test]
    fn an_instance_maps_field_by_field_and_validates() {
        let p = parse_str("/t/keepalived.conf", HA, &CheckOptions::default());
        assert!(!p.has_errors(), "{}", p.render());
        let (mut c, unsupported) = config(&p.config);
        assert!(unsupported.0.is_empty(), "{unsupported:?}");
        let i = &c.instances[0];
        assert_eq!((i.name.as_str(), i.interface.as_str()), ("VI_1", "eth0"));
        assert_eq!((i.virtual_router_id, i.priority), (51, 100));
        assert_eq!(i.state, vr::InitialState::Master);
        assert_eq!(i.advert_int, Duration::from_secs(1));
        assert_eq!(i.auth_pass.as_deref(), Some(&b"secret"[..]));
        let v = &i.virtual_ipaddresses[0];
        assert_eq!(v.addr.to_string(), "198.51.100.10");
        assert_eq!(v.prefix_len, 24);
        assert_eq!(v.label.as_deref(), Some("eth0:1"));
        assert_eq!(i.unicast_peers[0].addr.to_string(), "198.51.100.3");
        assert_eq!(i.track_scripts[0].name, "chk");
        assert_eq!(
            i.notify.master.as_ref().map(|s| s.argv.clone()),
            Some(vec!["/bin/true".to_string(), "master".to_string()])
        );
        assert_eq!(c.scripts[0].weight, -20);
        assert_eq!(c.scripts[0].fall, 3);
        assert_eq!(c.sync_groups[0].members, vec!["VI_1".to_string()]);
        c.validate().expect("the VRRP crate accepts it");
    }
}
