//! keepalived's checks and fix-ups of virtual servers after parsing (validate_check_config):
//! dropped services, default protocol/scheduler/method, port reconciliation, quorum bounds.

use std::collections::HashSet;

use crate::build_check;
use crate::build_lvs::RawVs;
use crate::cx::Cx;
use crate::model::*;

fn fmt_vs(v: &VirtualServer, protocol_set: bool) -> String {
    let proto = if !protocol_set {
        "none"
    } else {
        match v.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    };
    match &v.key {
        VsKey::Addr { addr, port } => format!("[{addr}]:{proto}:{port}"),
        VsKey::Fwmark(m) => format!("FWM {m}"),
        VsKey::Group(g) => format!("[{g}]:0"),
    }
}

/// Applies keepalived's validation to every virtual server; returns those it keeps.
pub fn finish(
    cx: &mut Cx<'_>,
    raws: Vec<RawVs>,
    groups: &[VirtualServerGroup],
) -> Vec<VirtualServer> {
    let mut out = Vec::new();
    for mut r in raws {
        let group = match &r.vs.key {
            VsKey::Group(g) => match groups.iter().find(|x| &x.name == g) {
                Some(x) => Some(x.clone()),
                None => {
                    cx.error(
                        r.vs.loc,
                        format!("Virtual server group {g} not found - ignoring virtual server"),
                    );
                    continue;
                }
            },
            _ => None,
        };
        let name = fmt_vs(&r.vs, r.protocol_set);
        if r.rs.is_empty() {
            cx.warn(
                r.vs.loc,
                format!("Virtual server {name} has no real servers - ignoring"),
            );
            continue;
        }
        let (has_ranges, has_fwmarks) = match &group {
            Some(g) => (
                g.entries
                    .iter()
                    .any(|e| matches!(e, VsgEntry::Range { .. })),
                g.entries.iter().any(|e| matches!(e, VsgEntry::Fwmark(_))),
            ),
            None => (
                matches!(r.vs.key, VsKey::Addr { .. }),
                matches!(r.vs.key, VsKey::Fwmark(_)),
            ),
        };
        let v = &mut r.vs;
        if v.ha_suspend && has_fwmarks {
            cx.warn(v.loc, format!("Virtual server {name}: cannot use ha_suspend with fwmarks - clearing ha_suspend"));
            v.ha_suspend = false;
        }
        if has_ranges {
            if !r.protocol_set {
                cx.warn(
                    v.loc,
                    format!("Virtual server {name}: no protocol set - defaulting to UDP"),
                );
                v.protocol = Protocol::Udp;
            }
            if v.flags.ops && v.protocol != Protocol::Udp {
                cx.warn(
                    v.loc,
                    format!(
                        "Virtual server {name}: one packet scheduling requires UDP - resetting"
                    ),
                );
                v.flags.ops = false;
            }
            let zero_port = match (&v.key, &group) {
                (VsKey::Addr { port, .. }, _) => *port == 0,
                (_, Some(g)) => g
                    .entries
                    .iter()
                    .any(|e| matches!(e, VsgEntry::Range { port: 0, .. })),
                _ => false,
            };
            if v.persistence.is_none() && zero_port {
                cx.warn(v.loc, format!("Virtual server {name}: zero port only valid for persistent services - setting"));
                v.persistence = Some(Persistence {
                    timeout: std::time::Duration::from_secs(360),
                    granularity: None,
                });
            }
        } else if has_fwmarks && r.protocol_set {
            cx.warn(v.loc, format!("Warning: Virtual server {name}: protocol specified for fwmark - protocol will be ignored"));
        }
        if !r.sched_set {
            cx.warn(
                v.loc,
                format!("Virtual server {name}: no scheduler set, setting default 'wlc'"),
            );
        }
        v.inhibit_on_failure = r.timing.inhibit.unwrap_or(false);
        let mut seen = HashSet::new();
        let mut weight_sum: u64 = 0;
        let vs_port = match v.key {
            VsKey::Addr { port, .. } => port,
            _ => 0,
        };
        for mut rr in std::mem::take(&mut r.rs) {
            if !seen.insert((rr.rs.addr, rr.rs.port)) {
                cx.warn(
                    rr.rs.loc,
                    format!(
                        "VS {name}: real server [{}]:{} is duplicated - removing second rs",
                        rr.rs.addr, rr.rs.port
                    ),
                );
                continue;
            }
            if !rr.method_set {
                if !r.method_set {
                    cx.warn(
                        v.loc,
                        format!(
                            "Virtual server {name}: no forwarding method set, setting default NAT"
                        ),
                    );
                    r.method_set = true;
                    v.method = ForwardingMethod::Nat;
                }
                rr.rs.method = v.method;
            }
            let t = build_check::RawTiming {
                delay_loop: rr.timing.delay_loop.or(r.timing.delay_loop),
                connect_timeout: rr.timing.connect_timeout.or(r.timing.connect_timeout),
                retry: rr.timing.retry.or(r.timing.retry),
                delay_before_retry: rr.timing.delay_before_retry.or(r.timing.delay_before_retry),
                warmup: rr.timing.warmup.or(r.timing.warmup),
                alpha: rr.timing.alpha.or(r.timing.alpha),
                inhibit: rr.timing.inhibit.or(r.timing.inhibit),
            };
            rr.rs.inhibit_on_failure = t.inhibit.unwrap_or(false);
            rr.rs.smtp_alert = rr.smtp_alert.or(v.smtp_alert).unwrap_or(true);
            rr.rs.checkers = rr
                .checkers
                .into_iter()
                .map(|c| build_check::resolve(c, &t, v.delay_loop, v.connect_timeout))
                .collect();
            weight_sum += rr.rs.weight.max(0) as u64;
            // Ports: non-NAT real servers must use the service port (or none for fwmark).
            if rr.rs.method != ForwardingMethod::Nat || !matches!(v.key, VsKey::Addr { .. }) {
                match (&v.key, &group) {
                    (VsKey::Fwmark(_), _)
                        if rr.rs.port != 0 && rr.rs.method != ForwardingMethod::Nat =>
                    {
                        cx.warn(rr.rs.loc, format!("WARNING - fwmark virtual server {name}, real server [{}]:{} has port specified - clearing", rr.rs.addr, rr.rs.port));
                        rr.rs.port = 0;
                    }
                    (VsKey::Group(_), Some(g)) if rr.rs.method != ForwardingMethod::Nat => {
                        if has_fwmarks && rr.rs.port != 0 {
                            cx.warn(rr.rs.loc, format!("WARNING - fwmark virtual server {name}, real server [{}]:{} has port specified - port will be ignored", rr.rs.addr, rr.rs.port));
                        }
                        for e in &g.entries {
                            if let VsgEntry::Range { port, .. } = e
                                && rr.rs.port != 0
                                && *port != rr.rs.port
                            {
                                cx.warn(rr.rs.loc, format!("virtual server {name} and real server [{}]:{} ports don't match", rr.rs.addr, rr.rs.port));
                            }
                        }
                    }
                    (VsKey::Addr { .. }, _) => {
                        if rr.rs.port == 0 {
                            rr.rs.port = vs_port;
                        } else if rr.rs.port != vs_port {
                            cx.warn(rr.rs.loc, format!("WARNING - virtual server {name} and real server [{}]:{} ports don't match - resetting", rr.rs.addr, rr.rs.port));
                            rr.rs.port = vs_port;
                        }
                    }
                    _ => {}
                }
            } else if rr.rs.port == 0 {
                rr.rs.port = vs_port;
            }
            v.real_servers.push(rr.rs);
        }
        if u64::from(v.quorum) > weight_sum {
            cx.warn(v.loc, format!("Warning - quorum {} for {name} exceeds total weight of real servers {weight_sum}, reducing quorum to {weight_sum}", v.quorum));
            v.quorum = weight_sum as u32;
        }
        if v.hysteresis >= v.quorum && (v.hysteresis > 0 || v.quorum == 0) {
            let h = v.quorum.saturating_sub(1);
            cx.warn(
                v.loc,
                format!(
                    "Virtual server {name}: hysteresis {} >= quorum {}; setting hysteresis to {h}",
                    v.hysteresis, v.quorum
                ),
            );
            v.hysteresis = h;
        }
        if let Some(ss) = &mut v.sorry_server
            && !r.method_set
        {
            cx.warn(
                v.loc,
                format!("Virtual server {name}: no forwarding method set, setting default NAT"),
            );
            ss.method = ForwardingMethod::Nat;
        }
        out.push(r.vs);
    }
    out
}

/// True if any checker-side script is configured (MISC_CHECK, notify_up/down, quorum_up/down).
pub fn uses_scripts(vss: &[VirtualServer]) -> bool {
    vss.iter().any(|v| {
        v.quorum_up.is_some()
            || v.quorum_down.is_some()
            || v.real_servers.iter().any(|r| {
                r.notify_up.is_some()
                    || r.notify_down.is_some()
                    || r.checkers
                        .iter()
                        .any(|c| matches!(&c.kind, CheckerKind::Misc(m) if m.path.is_some()))
            })
    })
}
