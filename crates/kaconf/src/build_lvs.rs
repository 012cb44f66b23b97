//! `virtual_server`, `real_server`, `sorry_server` and `virtual_server_group`.

use std::net::IpAddr;
use std::time::Duration;

use crate::build_check::{self, RawChecker, RawTiming};
use crate::cx::{Cx, parse_prefix};
use crate::model::*;
use crate::tree::Stmt;

/// A virtual server as written, with the settings its real servers inherit.
pub struct RawVs {
    /// The service; real servers are filled in by [`finish`].
    pub vs: VirtualServer,
    /// `protocol` was configured.
    pub protocol_set: bool,
    /// `lb_kind`/`lvs_method` was configured.
    pub method_set: bool,
    /// `lb_algo`/`lvs_sched` was configured.
    pub sched_set: bool,
    /// Timing defaults for real servers.
    pub timing: RawTiming,
    /// Real servers as written.
    pub rs: Vec<RawRs>,
}

/// A real server as written.
pub struct RawRs {
    /// The server; method/inheritance resolved in [`finish`].
    pub rs: RealServer,
    /// `lvs_method` was configured.
    pub method_set: bool,
    /// `smtp_alert` if configured.
    pub smtp_alert: Option<bool>,
    /// Timing overrides.
    pub timing: RawTiming,
    /// Checkers as written.
    pub checkers: Vec<RawChecker>,
}

fn method(cx: &mut Cx<'_>, s: &Stmt) -> Option<ForwardingMethod> {
    let kind = cx.text(s, 0)?;
    match kind.as_str() {
        "NAT" => Some(ForwardingMethod::Nat),
        "DR" => Some(ForwardingMethod::Dr),
        "TUN" => {
            let mut t = TunnelType::Ipip;
            let mut i = 1;
            while let Some(w) = s.arg(i).map(|t| t.text.clone()) {
                match w.as_str() {
                    "type" => {
                        match s.arg(i + 1).map(|t| t.text.as_str()) {
                            Some("ipip") => t = TunnelType::Ipip,
                            Some("gre") => t = TunnelType::Gre,
                            Some("gue") => {
                                if s.arg(i + 2).is_some_and(|t| t.text == "port") {
                                    t = TunnelType::Gue(cx.port(s, i + 3).unwrap_or(0));
                                    i += 2;
                                } else {
                                    cx.error(s.arg_loc(i + 1), "gue tunnel needs 'port N'");
                                }
                            }
                            _ => cx.error(s.arg_loc(i + 1), "unknown tunnel type (ipip, gue, gre)"),
                        }
                        i += 2;
                    }
                    "nocsum" | "csum" | "remcsum" => i += 1,
                    _ => {
                        cx.warn(s.arg_loc(i), format!("unknown TUN option '{w}'"));
                        i += 1;
                    }
                }
            }
            Some(ForwardingMethod::Tun(t))
        }
        other => {
            let other = other.to_string();
            cx.error(
                s.arg_loc(0),
                format!("unknown forwarding method '{other}' (NAT, DR or TUN)"),
            );
            None
        }
    }
}

fn addr_port(cx: &mut Cx<'_>, s: &Stmt, what: &str) -> Option<(IpAddr, u16)> {
    let ip_t = cx.text(s, 0)?;
    let Ok(ip) = ip_t.parse::<IpAddr>() else {
        cx.error(
            s.arg_loc(0),
            format!("Invalid {what} IP address '{ip_t}' - skipping"),
        );
        return None;
    };
    let port = if s.arg(1).is_some() {
        cx.port(s, 1)?
    } else {
        0
    };
    Some((ip, port))
}

/// `virtual_server IP PORT | fwmark N | group NAME { … }`; None if the key is invalid.
pub fn virtual_server(cx: &mut Cx<'_>, st: &Stmt) -> Option<RawVs> {
    let key = match st.arg(0).map(|t| t.text.as_str()) {
        Some("fwmark") => VsKey::Fwmark(cx.need_uint(st, 1, 1, u32::MAX as u64)? as u32),
        Some("group") => VsKey::Group(cx.text(st, 1)?),
        Some(ip_t) => {
            let ip_t = ip_t.to_string();
            let port_t = st.arg(1).map(|t| t.text.clone()).unwrap_or_default();
            match (
                ip_t.parse::<IpAddr>(),
                if port_t.is_empty() {
                    Some(0)
                } else {
                    crate::cx::parse_uint(&port_t).filter(|p| *p <= 65535)
                },
            ) {
                (Ok(addr), Some(port)) => VsKey::Addr {
                    addr,
                    port: port as u16,
                },
                _ => {
                    cx.error(
                        st.arg_loc(0),
                        format!(
                            "Invalid virtual server IP address/port {ip_t}/{port_t} - skipping"
                        ),
                    );
                    return None;
                }
            }
        }
        None => {
            cx.error(
                st.loc,
                "virtual_server needs an address and port, 'fwmark N' or 'group NAME'",
            );
            return None;
        }
    };
    let mut r = RawVs {
        vs: VirtualServer {
            key,
            protocol: Protocol::Udp,
            scheduler: "wlc".into(),
            flags: SchedFlags::default(),
            method: ForwardingMethod::Nat,
            persistence: None,
            persistence_engine: None,
            ha_suspend: false,
            virtualhost: None,
            omega: false,
            quorum: 1,
            hysteresis: 0,
            quorum_up: None,
            quorum_down: None,
            sorry_server: None,
            inhibit_on_failure: false,
            smtp_alert: None,
            ip_family: None,
            delay_loop: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
            real_servers: Vec::new(),
            loc: st.loc,
        },
        protocol_set: false,
        method_set: false,
        sched_set: false,
        timing: RawTiming::default(),
        rs: Vec::new(),
    };
    let mut sorry_method = None;
    let mut sorry_inhibit = false;
    let mut granularity = None;
    for s in cx.body(st) {
        if build_check::timing_kw(cx, s, &mut r.timing) {
            continue;
        }
        let v = &mut r.vs;
        match s.name() {
            "lb_algo" | "lvs_sched" => {
                if let Some(n) = cx.text(s, 0) {
                    if !SCHEDULERS.contains(&n.as_str()) {
                        cx.report(
                            crate::diag::Severity::Error,
                            crate::diag::KaClass::Silent,
                            s.arg_loc(0),
                            format!("unknown scheduler '{n}'"),
                            Some(format!("use one of {}", SCHEDULERS.join(", "))),
                        );
                    }
                    v.scheduler = n;
                    r.sched_set = true;
                }
            }
            "lb_kind" | "lvs_method" => {
                if let Some(m) = method(cx, s) {
                    v.method = m;
                    r.method_set = true
                }
            }
            "protocol" => match s.arg(0).map(|t| t.text.as_str()) {
                Some("TCP") => {
                    v.protocol = Protocol::Tcp;
                    r.protocol_set = true
                }
                Some("UDP") => {
                    v.protocol = Protocol::Udp;
                    r.protocol_set = true
                }
                Some("SCTP") => {
                    v.protocol = Protocol::Sctp;
                    r.protocol_set = true
                }
                _ => cx.error(s.arg_loc(0), "Unknown protocol - must be TCP, UDP or SCTP"),
            },
            "persistence_timeout" => {
                let t = if s.arg(0).is_some() {
                    cx.uint(s, 0, 1, 2_678_400)
                } else {
                    Some(360)
                };
                if let Some(t) = t {
                    v.persistence = Some(Persistence {
                        timeout: Duration::from_secs(t),
                        granularity: None,
                    });
                }
            }
            "persistence_granularity" => {
                granularity = cx.text(s, 0).and_then(|g| match g.parse::<IpAddr>() {
                    Ok(a) => Some(a),
                    Err(_) => {
                        cx.error(
                            s.arg_loc(0),
                            format!("invalid persistence_granularity '{g}'"),
                        );
                        None
                    }
                })
            }
            "persistence_engine" => v.persistence_engine = cx.text(s, 0),
            "ha_suspend" => v.ha_suspend = true,
            "virtualhost" => v.virtualhost = cx.text(s, 0),
            "omega" => v.omega = true,
            "quorum" => {
                if let Some(q) = cx.need_uint(s, 0, 1, u32::MAX as u64) {
                    v.quorum = q as u32
                }
            }
            "hysteresis" => {
                if let Some(h) = cx.need_uint(s, 0, 0, u32::MAX as u64) {
                    v.hysteresis = h as u32
                }
            }
            "quorum_up" => v.quorum_up = cx.script(s),
            "quorum_down" => v.quorum_down = cx.script(s),
            "sorry_server" => {
                if let Some((addr, port)) = addr_port(cx, s, "sorry server") {
                    v.sorry_server = Some(SorryServer {
                        addr,
                        port,
                        method: ForwardingMethod::Nat,
                        inhibit: false,
                    });
                }
            }
            "sorry_server_inhibit" => sorry_inhibit = true,
            "sorry_server_lvs_method" => sorry_method = method(cx, s),
            "smtp_alert" => v.smtp_alert = Some(cx.flag(s)),
            "ip_family" => v.ip_family = cx.text(s, 0),
            "flag-1" | "sh-fallback" | "mh-fallback" => v.flags.flag1 = true,
            "flag-2" | "sh-port" | "mh-port" => v.flags.flag2 = true,
            "flag-3" => v.flags.flag3 = true,
            "ops" => v.flags.ops = true,
            "hashed" => {}
            "weight" | "snmp_name" => cx.note(
                s.loc,
                format!("'{}' is accepted but not used by rvs-keepalived", s.name()),
            ),
            "real_server" => {
                if let Some(rs) = real_server(cx, s) {
                    r.rs.push(rs)
                }
            }
            _ => cx.unknown(s, "virtual_server", Some(st)),
        }
    }
    if let Some(g) = granularity {
        let p = r.vs.persistence.get_or_insert(Persistence {
            timeout: Duration::from_secs(360),
            granularity: None,
        });
        p.granularity = Some(g);
    }
    if let Some(ss) = &mut r.vs.sorry_server {
        ss.inhibit = sorry_inhibit;
        // Without sorry_server_lvs_method the sorry server uses the service's method.
        ss.method = sorry_method.unwrap_or(r.vs.method);
    }
    if let Some(d) = r.timing.delay_loop {
        r.vs.delay_loop = d;
    }
    if let Some(d) = r.timing.connect_timeout {
        r.vs.connect_timeout = d;
    }
    Some(r)
}

fn real_server(cx: &mut Cx<'_>, st: &Stmt) -> Option<RawRs> {
    let (addr, port) = addr_port(cx, st, "real server")?;
    let mut r = RawRs {
        rs: RealServer {
            addr,
            port,
            weight: 1,
            method: ForwardingMethod::Nat,
            uthreshold: None,
            lthreshold: None,
            inhibit_on_failure: false,
            notify_up: None,
            notify_down: None,
            smtp_alert: true,
            virtualhost: None,
            checkers: Vec::new(),
            loc: st.loc,
        },
        method_set: false,
        smtp_alert: None,
        timing: RawTiming::default(),
        checkers: Vec::new(),
    };
    for s in cx.body(st) {
        if build_check::timing_kw(cx, s, &mut r.timing) {
            continue;
        }
        if let Some(c) = build_check::checker(cx, s) {
            r.checkers.push(c);
            continue;
        }
        match s.name() {
            "weight" => match s.arg(0).map(|t| t.text.clone()) {
                Some(w) => match crate::cx::parse_uint(&w).filter(|v| *v <= i32::MAX as u64) {
                    Some(v) => r.rs.weight = v as i32,
                    None => cx.error(
                        s.arg_loc(0),
                        format!("Real server weight {w} is outside range 0-2147483647"),
                    ),
                },
                None => cx.error(s.loc, "weight needs a value"),
            },
            "lvs_method" => {
                if let Some(m) = method(cx, s) {
                    r.rs.method = m;
                    r.method_set = true
                }
            }
            "uthreshold" => {
                r.rs.uthreshold = cx.need_uint(s, 0, 0, u32::MAX as u64).map(|v| v as u32)
            }
            "lthreshold" => {
                r.rs.lthreshold = cx.need_uint(s, 0, 0, u32::MAX as u64).map(|v| v as u32)
            }
            "notify_up" => r.rs.notify_up = cx.script(s),
            "notify_down" => r.rs.notify_down = cx.script(s),
            "smtp_alert" => r.smtp_alert = Some(cx.flag(s)),
            "virtualhost" => r.rs.virtualhost = cx.text(s, 0),
            n @ ("snmp_name" | "FILE_CHECK" | "BFD_CHECK") => cx.note(
                s.loc,
                format!("'{n}' is accepted but not used by rvs-keepalived"),
            ),
            _ => cx.unknown(s, "real_server", Some(st)),
        }
    }
    Some(r)
}

/// `virtual_server_group NAME { … }`.
pub fn group(cx: &mut Cx<'_>, st: &Stmt) -> Option<VirtualServerGroup> {
    let name = cx.text(st, 0)?;
    let mut g = VirtualServerGroup {
        name,
        entries: Vec::new(),
        loc: st.loc,
    };
    for l in cx.body(st) {
        if l.name() == "fwmark" {
            if let Some(m) = cx.need_uint(l, 0, 1, u32::MAX as u64) {
                g.entries.push(VsgEntry::Fwmark(m as u32));
            }
            continue;
        }
        let spec = l.name();
        let port = if l.arg(0).is_some() {
            match cx.port(l, 0) {
                Some(p) => p,
                None => continue,
            }
        } else {
            0
        };
        match vsg_range(spec) {
            Some((first, last)) => g.entries.push(VsgEntry::Range { first, last, port }),
            None => cx.error(
                l.loc,
                format!("invalid virtual server group entry '{spec}'"),
            ),
        }
    }
    Some(g)
}

/// `IP`, `IP-LAST` (last octet / last group), `IP-IP`, or `IP/LEN`.
fn vsg_range(spec: &str) -> Option<(IpAddr, IpAddr)> {
    if spec.contains('/') {
        let p = parse_prefix(spec)?;
        return Some(match p.addr {
            IpAddr::V4(a) => {
                let mask = if p.len == 0 {
                    0
                } else {
                    u32::MAX << (32 - p.len as u32)
                };
                let net = u32::from(a) & mask;
                (IpAddr::V4(net.into()), IpAddr::V4((net | !mask).into()))
            }
            IpAddr::V6(a) => {
                let mask = if p.len == 0 {
                    0
                } else {
                    u128::MAX << (128 - p.len as u32)
                };
                let net = u128::from(a) & mask;
                (IpAddr::V6(net.into()), IpAddr::V6((net | !mask).into()))
            }
        });
    }
    let Some((a, b)) = spec.split_once('-') else {
        let ip = spec.parse().ok()?;
        return Some((ip, ip));
    };
    let first: IpAddr = a.parse().ok()?;
    if let Ok(last) = b.parse::<IpAddr>() {
        return (last.is_ipv4() == first.is_ipv4() && last >= first).then_some((first, last));
    }
    match first {
        IpAddr::V4(f) => {
            let end: u8 = b.parse().ok()?;
            let mut o = f.octets();
            (end >= o[3]).then(|| {
                o[3] = end;
                (first, IpAddr::V4(o.into()))
            })
        }
        IpAddr::V6(f) => {
            let end = u16::from_str_radix(b, 16).ok()?;
            let mut s = f.segments();
            (end >= s[7]).then(|| {
                s[7] = end;
                (first, IpAddr::V6(s.into()))
            })
        }
    }
}
