//! keepalived's checks and defaults for VRRP after parsing (vrrp_complete_instance and
//! the sync group checks): state/priority derivation, preemption, advert interval,
//! tracked objects, interfaces.

use std::collections::HashSet;
use std::time::Duration;

use crate::build_vrrp::RawInstance;
use crate::cx::Cx;
use crate::model::*;

/// Applies defaults and checks to instances, using global settings and the scripts and groups.
pub fn finish(
    cx: &mut Cx<'_>,
    raws: Vec<RawInstance>,
    global: &GlobalDefs,
    scripts: &[VrrpScript],
    groups: &mut [SyncGroup],
    interfaces: Option<&HashSet<String>>,
) -> Vec<VrrpInstance> {
    let mut out = Vec::new();
    for r in raws {
        let mut i = r.inst;
        let n = i.name.clone();
        if i.virtual_router_id == 0 {
            cx.error(i.loc, format!("({n}) the virtual router id must be set"));
        }
        if !r.priority_set {
            i.priority = if r.state_set && i.state == VrrpState::Master {
                255
            } else {
                100
            };
        }
        if !r.state_set {
            i.state = if i.priority == 255 {
                VrrpState::Master
            } else {
                VrrpState::Backup
            };
        }
        if !r.version_set {
            i.version = global.vrrp_version;
        }
        let v6 = i
            .virtual_ipaddresses
            .first()
            .is_some_and(|v| v.prefix.addr.is_ipv6());
        if v6 {
            i.version = 3;
        }
        if !r.garp_set[0] {
            i.garp_master_delay = global.vrrp_garp_master_delay;
        }
        if !r.garp_set[1] {
            i.garp_master_repeat = global.vrrp_garp_master_repeat;
        }
        if !r.garp_set[2] {
            i.garp_master_refresh = global.vrrp_garp_master_refresh;
        }
        if !r.garp_set[3] {
            i.garp_master_refresh_repeat = global.vrrp_garp_master_refresh_repeat;
        }
        if i.virtual_ipaddresses.is_empty() {
            cx.warn(
                i.loc,
                format!("({n}) No VIP specified; at least one is sensible"),
            );
        }
        let fam = i
            .virtual_ipaddresses
            .first()
            .map(|v| v.prefix.addr.is_ipv4());
        if let Some(f) = fam
            && let Some(bad) = i
                .virtual_ipaddresses
                .iter()
                .find(|v| v.prefix.addr.is_ipv4() != f)
        {
            cx.error(bad.loc, format!("({n}) virtual_ipaddress addresses must all be of one family; use virtual_ipaddress_excluded for the other"));
        }
        if i.nopreempt {
            if i.priority == 255 {
                cx.warn(
                    i.loc,
                    format!(
                        "({n}) nopreempt is incompatible with priority 255. resetting nopreempt"
                    ),
                );
                i.nopreempt = false;
            } else if i.state == VrrpState::Master {
                cx.warn(i.loc, format!("({n}) Warning - nopreempt will not work with initial state MASTER - clearing"));
                i.nopreempt = false;
            }
        }
        if !i.preempt_delay.is_zero() {
            if i.nopreempt {
                cx.warn(
                    i.loc,
                    format!("({n}) preempt_delay is incompatible with nopreempt mode - resetting"),
                );
                i.preempt_delay = Duration::ZERO;
            } else if i.state == VrrpState::Master {
                cx.warn(i.loc, format!("({n}) Warning - preempt delay will not work with initial state MASTER - clearing"));
                i.preempt_delay = Duration::ZERO;
            }
        }
        if i.version == 2 {
            let us = i.advert_int.as_micros();
            if us % 1_000_000 != 0 {
                cx.warn(
                    i.loc,
                    format!(
                        "({n}) VRRPv2 advertisement interval {:.6}s must be an integer. rounding",
                        i.advert_int.as_secs_f64()
                    ),
                );
                let s = ((us + 500_000) / 1_000_000).max(1) as u64;
                i.advert_int = Duration::from_secs(s);
            }
        } else {
            // v3 carries centiseconds, 1..4095.
            let cs = (i.advert_int.as_micros() + 5_000) / 10_000;
            let cs = cs.clamp(1, 4095) as u64;
            i.advert_int = Duration::from_millis(cs * 10);
            if i.authentication.take().is_some() {
                cx.warn(
                    i.loc,
                    format!("({n}) VRRP version 3 does not support authentication. Ignoring."),
                );
            }
        }
        if i.authentication
            .as_ref()
            .is_some_and(|a| a.kind == AuthType::Ah)
            && i.state == VrrpState::Master
        {
            cx.warn(
                i.loc,
                format!(
                    "({n}) Initial state master is incompatible with AH authentication - clearing"
                ),
            );
            i.state = VrrpState::Backup;
        }
        if let Some(own) = i.interface.clone() {
            let before = i.track_interfaces.len();
            i.track_interfaces.retain(|t| t.name != own);
            if i.track_interfaces.len() != before {
                cx.warn(
                    i.loc,
                    format!("({n}) Ignoring track_interface {own} since own interface"),
                );
            }
            if own == "lo" {
                cx.error(
                    i.loc,
                    format!("({n}) cannot use a loopback interface (lo) for vrrp - ignoring"),
                );
            } else if let Some(known) = interfaces
                && !known.contains(&own)
                && !global.dynamic_interfaces
            {
                cx.warn(
                    i.loc,
                    format!("WARNING - interface {own} for vrrp_instance {n} doesn't exist"),
                );
            }
        } else if i.unicast_peers.is_empty() {
            cx.error(
                i.loc,
                format!("({n}) Unknown interface! (add 'interface IFNAME')"),
            );
        }
        let mut kept = Vec::new();
        for t in std::mem::take(&mut i.track_scripts) {
            if scripts.iter().any(|s| s.name == t.name) {
                kept.push(t);
            } else {
                cx.warn(
                    i.loc,
                    format!("({n}) track script {} not found, ignoring...", t.name),
                );
            }
        }
        i.track_scripts = kept;
        if !i.unicast_peers.is_empty()
            && let Some(vm) = &mut i.use_vmac
            && !vm.xmit_base
        {
            cx.warn(
                i.loc,
                format!("({n}) unicast with use_vmac requires vmac_xmit_base - setting"),
            );
            vm.xmit_base = true;
        }
        out.push(i);
    }
    sync_groups(cx, &mut out, scripts, groups);
    out
}

fn sync_groups(
    cx: &mut Cx<'_>,
    insts: &mut [VrrpInstance],
    scripts: &[VrrpScript],
    groups: &mut [SyncGroup],
) {
    for g in groups.iter_mut() {
        let mut members = Vec::new();
        for m in &g.members {
            if insts.iter().any(|i| &i.name == m) {
                members.push(m.clone());
            } else {
                cx.warn(
                    g.loc,
                    format!(
                        "Virtual router {m} specified in sync group {} doesn't exist - ignoring",
                        g.name
                    ),
                );
            }
        }
        g.members = members;
        if g.members.len() == 1 {
            cx.warn(g.loc, format!("Sync group {} has only 1 virtual router(s) - this probably isn't what you want", g.name));
        }
        if g.sync_group_tracking_weight {
            continue;
        }
        for i in insts.iter_mut().filter(|i| g.members.contains(&i.name)) {
            for t in &mut i.track_scripts {
                let w = t.weight.unwrap_or_else(|| {
                    scripts
                        .iter()
                        .find(|s| s.name == t.name)
                        .map_or(0, |s| s.weight)
                });
                if w != 0 {
                    cx.warn(
                        i.loc,
                        format!(
                            "({}) ignoring tracked script {} with weights due to SYNC group",
                            i.name, t.name
                        ),
                    );
                    t.weight = Some(0);
                }
            }
        }
    }
}

/// True if any VRRP-side script would run (notify scripts, tracked vrrp_scripts).
pub fn uses_scripts(insts: &[VrrpInstance], scripts: &[VrrpScript], groups: &[SyncGroup]) -> bool {
    let tracked = |name: &str| scripts.iter().any(|s| s.name == name && s.script.is_some());
    insts.iter().any(|i| {
        i.notify.scripts().next().is_some() || i.track_scripts.iter().any(|t| tracked(&t.name))
    }) || groups.iter().any(|g| {
        g.notify.scripts().next().is_some() || g.track_scripts.iter().any(|t| tracked(&t.name))
    })
}
