//! `vrrp_instance`, `vrrp_script` and `vrrp_sync_group` blocks.

use std::time::Duration;

use crate::cx::Cx;
use crate::model::*;
use crate::tree::Stmt;
use crate::vrrp_lines::{route_line, track_interfaces, track_scripts, vip_line};

/// `vrrp_instance` keywords keepalived 2.2.7 knows that rvs accepts without using.
const INSTANCE_ACCEPTED: &[&str] = &[
    "vrf",
    "track_file",
    "track_process",
    "track_bfd",
    "mcast_dst_ip",
    "track_src_ip",
    "promote_secondaries",
    "virtual_rules",
    "skip_check_adv_addr",
    "strict_mode",
    "debug",
    "notify_master_rx_lower_pri",
    "notify_priority_changes",
    "lvs_sync_daemon_interface",
    "garp_lower_prio_delay",
    "garp_lower_prio_repeat",
    "garp_extra_if",
    "vmac_garp_intvl",
    "lower_prio_no_advert",
    "higher_prio_send_advert",
    "kernel_rx_buf_size",
    "use_vmac_addr",
    "use_ipvlan",
    "unicast_fault_no_peer",
    "old_unicast_checksum",
];

/// An instance as written, before keepalived's defaults and checks.
pub struct RawInstance {
    /// The instance with defaults filled in where nothing was configured.
    pub inst: VrrpInstance,
    /// `state` was configured.
    pub state_set: bool,
    /// `priority` was configured.
    pub priority_set: bool,
    /// `version` was configured.
    pub version_set: bool,
    /// `advert_int` was configured.
    pub advert_set: bool,
    /// Garp settings configured (else the global ones apply).
    pub garp_set: [bool; 4],
}

fn name_of(cx: &mut Cx<'_>, st: &Stmt, what: &str) -> String {
    match st.arg(0) {
        Some(t) => t.text.clone(),
        None => {
            cx.error(st.loc, format!("{what} needs a name"));
            String::new()
        }
    }
}

/// Handles the notify keywords shared by instances and sync groups; true if it was one.
pub fn notify_kw(cx: &mut Cx<'_>, s: &Stmt, n: &mut Notify) -> bool {
    let slot = match s.name() {
        "notify_master" => &mut n.master,
        "notify_backup" => &mut n.backup,
        "notify_fault" => &mut n.fault,
        "notify_stop" => &mut n.stop,
        "notify_deleted" => &mut n.deleted,
        "notify" => &mut n.any,
        _ => return false,
    };
    *slot = cx.script(s);
    true
}

/// `vrrp_instance NAME { … }`.
pub fn instance(cx: &mut Cx<'_>, st: &Stmt) -> RawInstance {
    let name = name_of(cx, st, "vrrp_instance");
    let mut r = RawInstance {
        inst: VrrpInstance {
            name: name.clone(),
            state: VrrpState::Backup,
            interface: None,
            virtual_router_id: 0,
            priority: 100,
            advert_int: Duration::from_secs(1),
            version: 2,
            authentication: None,
            virtual_ipaddresses: Vec::new(),
            virtual_ipaddresses_excluded: Vec::new(),
            virtual_routes: Vec::new(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            unicast_src_ip: None,
            unicast_peers: Vec::new(),
            mcast_src_ip: None,
            nopreempt: false,
            preempt_delay: Duration::ZERO,
            garp_master_delay: Duration::from_secs(5),
            garp_master_repeat: 5,
            garp_master_refresh: Duration::ZERO,
            garp_master_refresh_repeat: 1,
            notify: Notify::default(),
            smtp_alert: None,
            native_ipv6: false,
            use_vmac: None,
            dont_track_primary: false,
            accept: true,
            down_timer_adverts: 3,
            unicast_ttl: 255,
            check_unicast_src: false,
            loc: st.loc,
        },
        state_set: false,
        priority_set: false,
        version_set: false,
        advert_set: false,
        garp_set: [false; 4],
    };
    let i = &mut r.inst;
    for s in cx.body(st) {
        if notify_kw(cx, s, &mut i.notify) {
            continue;
        }
        match s.name() {
            "state" => match s.arg(0).map(|t| t.text.as_str()) {
                Some("MASTER") => {
                    i.state = VrrpState::Master;
                    r.state_set = true;
                }
                Some("BACKUP") => {
                    i.state = VrrpState::Backup;
                    r.state_set = true;
                }
                Some(o) => {
                    let o = o.to_string();
                    cx.error(
                        s.arg_loc(0),
                        format!("({name}) unknown state '{o}', defaulting to BACKUP"),
                    );
                }
                None => cx.error(s.loc, format!("({name}) state needs MASTER or BACKUP")),
            },
            "interface" => i.interface = cx.text(s, 0),
            "virtual_router_id" => match s.arg(0).map(|t| t.text.clone()) {
                Some(t) => match crate::cx::parse_uint(&t) {
                    Some(v @ 1..=255) => i.virtual_router_id = v as u8,
                    _ => cx.error(
                        s.arg_loc(0),
                        format!("({name}): VRID '{t}' not valid - must be between 1 & 255"),
                    ),
                },
                None => cx.error(s.loc, format!("({name}): virtual_router_id needs a value")),
            },
            "priority" => {
                if let Some(v) = cx.need_uint(s, 0, 1, 255) {
                    i.priority = v as u8;
                    r.priority_set = true;
                }
            }
            "advert_int" => {
                if let Some(d) = cx.timer(s, 0, 255) {
                    i.advert_int = d;
                    r.advert_set = true;
                }
            }
            "version" => {
                if let Some(v) = cx.need_uint(s, 0, 2, 3) {
                    i.version = v as u8;
                    r.version_set = true;
                }
            }
            "authentication" => {
                let mut kind = None;
                let mut pass = Vec::new();
                for a in cx.body(s) {
                    match a.name() {
                        "auth_type" => match a.arg(0).map(|t| t.text.as_str()) {
                            Some("PASS") => kind = Some(AuthType::Pass),
                            Some("AH") => kind = Some(AuthType::Ah),
                            _ => cx.error(
                                a.arg_loc(0),
                                format!("({name}) unknown authentication type (PASS or AH)"),
                            ),
                        },
                        "auth_pass" => {
                            if let Some(p) = cx.text(a, 0) {
                                let mut b = p.into_bytes();
                                if b.len() > 8 {
                                    cx.warn(
                                        a.arg_loc(0),
                                        format!("({name}) Truncating auth_pass to 8 characters"),
                                    );
                                    b.truncate(8);
                                }
                                pass = b;
                            }
                        }
                        _ => cx.unknown(a, "authentication", Some(s)),
                    }
                }
                match kind {
                    Some(kind) => i.authentication = Some(Authentication { kind, pass }),
                    None => cx.error(s.loc, format!("({name}) authentication without auth_type")),
                }
            }
            "virtual_ipaddress" | "virtual_ipaddress_excluded" => {
                let excluded = s.name() == "virtual_ipaddress_excluded";
                for l in cx.body(s) {
                    if let Some(v) = vip_line(cx, l) {
                        if excluded {
                            i.virtual_ipaddresses_excluded.push(v)
                        } else {
                            i.virtual_ipaddresses.push(v)
                        }
                    }
                }
            }
            "virtual_routes" => {
                for l in cx.body(s) {
                    if let Some(rt) = route_line(cx, l) {
                        i.virtual_routes.push(rt);
                    }
                }
            }
            "track_interface" => i.track_interfaces = track_interfaces(cx, s),
            "track_script" => i.track_scripts = track_scripts(cx, s),
            "unicast_src_ip" => i.unicast_src_ip = cx.ip(s, 0),
            "mcast_src_ip" => i.mcast_src_ip = cx.ip(s, 0),
            "unicast_peer" => {
                for l in cx.body(s) {
                    let Ok(addr) = l.name().parse() else {
                        cx.error(
                            l.loc,
                            format!("({name}) invalid unicast peer address '{}'", l.name()),
                        );
                        continue;
                    };
                    let mut p = UnicastPeer {
                        addr,
                        min_ttl: None,
                        max_ttl: None,
                    };
                    let mut k = 0;
                    while let Some(w) = l.arg(k).map(|t| t.text.clone()) {
                        let v = cx.uint(l, k + 1, 0, 255).map(|v| v as u8);
                        match w.as_str() {
                            "min_ttl" => p.min_ttl = v,
                            "max_ttl" => p.max_ttl = v,
                            _ => cx.warn(
                                l.arg_loc(k),
                                format!("({name}) unknown unicast peer option '{w}'"),
                            ),
                        }
                        k += 2;
                    }
                    i.unicast_peers.push(p);
                }
            }
            "nopreempt" => i.nopreempt = true,
            "preempt" => i.nopreempt = false,
            "preempt_delay" => {
                if let Some(d) = cx.timer(s, 0, 1000) {
                    i.preempt_delay = d
                }
            }
            "garp_master_delay" => {
                if let Some(v) = cx.need_uint(s, 0, 0, 86400) {
                    i.garp_master_delay = Duration::from_secs(v);
                    r.garp_set[0] = true
                }
            }
            "garp_master_repeat" => {
                if let Some(v) = cx.need_uint(s, 0, 0, u32::MAX as u64) {
                    i.garp_master_repeat = v as u32;
                    r.garp_set[1] = true
                }
            }
            "garp_master_refresh" => {
                if let Some(v) = cx.need_uint(s, 0, 0, u32::MAX as u64) {
                    i.garp_master_refresh = Duration::from_secs(v);
                    r.garp_set[2] = true
                }
            }
            "garp_master_refresh_repeat" => {
                if let Some(v) = cx.need_uint(s, 0, 0, u32::MAX as u64) {
                    i.garp_master_refresh_repeat = v as u32;
                    r.garp_set[3] = true
                }
            }
            "smtp_alert" => i.smtp_alert = Some(cx.flag(s)),
            "native_ipv6" => {
                i.native_ipv6 = true;
                i.version = 3;
                r.version_set = true;
            }
            "use_vmac" => {
                let xmit = i.use_vmac.as_ref().is_some_and(|v| v.xmit_base);
                i.use_vmac = Some(Vmac {
                    name: s.arg(0).map(|t| t.text.clone()),
                    xmit_base: xmit,
                });
            }
            "vmac_xmit_base" => match &mut i.use_vmac {
                Some(v) => v.xmit_base = true,
                None => {
                    i.use_vmac = Some(Vmac {
                        name: None,
                        xmit_base: true,
                    })
                }
            },
            "dont_track_primary" => i.dont_track_primary = true,
            "accept" => i.accept = true,
            "no_accept" => i.accept = false,
            "down_timer_adverts" => {
                if let Some(v) = cx.need_uint(s, 0, 1, 100) {
                    i.down_timer_adverts = v as u32
                }
            }
            "unicast_ttl" => {
                if let Some(v) = cx.need_uint(s, 0, 1, 255) {
                    i.unicast_ttl = v as u8
                }
            }
            "check_unicast_src" => i.check_unicast_src = true,
            n if INSTANCE_ACCEPTED.contains(&n) => cx.note(
                s.loc,
                format!("'{n}' is accepted but not used by rvs-keepalived"),
            ),
            _ => cx.unknown(s, "vrrp_instance", Some(st)),
        }
    }
    r
}

/// `vrrp_script NAME { … }`.
pub fn script(cx: &mut Cx<'_>, st: &Stmt) -> VrrpScript {
    let mut v = VrrpScript {
        name: name_of(cx, st, "vrrp_script"),
        script: None,
        interval: Duration::from_secs(1),
        timeout: Duration::ZERO,
        weight: 0,
        reverse: false,
        rise: 1,
        fall: 1,
        user: None,
        init_fail: false,
        loc: st.loc,
    };
    let mut timeout_set = false;
    for s in cx.body(st) {
        match s.name() {
            "script" => v.script = cx.script(s),
            "interval" => {
                if let Some(d) = cx.timer(s, 0, u32::MAX as u64) {
                    v.interval = d
                }
            }
            "timeout" => {
                if let Some(d) = cx.timer(s, 0, u32::MAX as u64) {
                    v.timeout = d;
                    timeout_set = true
                }
            }
            "weight" => {
                if let Some(w) = cx.int(s, 0, -253, 253) {
                    v.weight = w as i32
                }
                v.reverse = s.arg(1).is_some_and(|t| t.text == "reverse");
            }
            "rise" => {
                if let Some(n) = cx.need_uint(s, 0, 1, u32::MAX as u64) {
                    v.rise = n as u32
                }
            }
            "fall" => {
                if let Some(n) = cx.need_uint(s, 0, 1, u32::MAX as u64) {
                    v.fall = n as u32
                }
            }
            "user" => v.user = cx.user(s),
            "init_fail" => v.init_fail = true,
            _ => cx.unknown(s, "vrrp_script", Some(st)),
        }
    }
    if !timeout_set {
        v.timeout = v.interval;
    }
    if v.script.is_none() {
        cx.error(
            st.loc,
            format!("vrrp_script {} has no 'script' - it will never run", v.name),
        );
    }
    v
}

/// `vrrp_sync_group NAME { … }`.
pub fn sync_group(cx: &mut Cx<'_>, st: &Stmt) -> SyncGroup {
    let mut g = SyncGroup {
        name: name_of(cx, st, "vrrp_sync_group"),
        members: Vec::new(),
        notify: Notify::default(),
        smtp_alert: None,
        track_interfaces: Vec::new(),
        track_scripts: Vec::new(),
        sync_group_tracking_weight: false,
        loc: st.loc,
    };
    for s in cx.body(st) {
        if notify_kw(cx, s, &mut g.notify) {
            continue;
        }
        match s.name() {
            "group" => {
                for l in cx.body(s) {
                    g.members.extend(l.words().map(|t| t.text.clone()));
                }
            }
            "track_interface" => g.track_interfaces = track_interfaces(cx, s),
            "track_script" => g.track_scripts = track_scripts(cx, s),
            "smtp_alert" => g.smtp_alert = Some(cx.flag(s)),
            "sync_group_tracking_weight" => g.sync_group_tracking_weight = true,
            n @ ("global_tracking"
            | "notify_priority_changes"
            | "track_file"
            | "track_process"
            | "track_bfd") => cx.note(
                s.loc,
                format!("'{n}' is accepted but not used by rvs-keepalived"),
            ),
            _ => cx.unknown(s, "vrrp_sync_group", Some(st)),
        }
    }
    g
}
