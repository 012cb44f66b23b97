//! `-L` listings: the title lines and each service with its real servers, in the default,
//! `--stats`, `--rate`, `--thresholds`, `--persistent-conn` and `--tun-info` formats
//! (precedence in that order when several are given).

use core::fmt::Write as _;

use rvs_api::{DestEntry, ServiceEntry};
use rvs_core::model::{Family, ForwardMethod, SchedFlags, ServiceConfig, ServiceKey, TunnelType};

use super::{Format, addrport, cut, largenum, save, service_protocol};
use crate::names::Names;

/// The title lines for `format` (none for `-S`).
pub fn title(format: Format) -> String {
    const PROT: &str = "Prot LocalAddress:Port";
    const REMOTE: &str = "  -> RemoteAddress:Port";
    if format.has(Format::STATS) {
        format!(
            "{PROT:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n{REMOTE}\n",
            "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        )
    } else if format.has(Format::RATE) {
        format!(
            "{PROT:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n{REMOTE}\n",
            "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        )
    } else if format.has(Format::THRESHOLDS) {
        format!(
            "{PROT:<33} {:<10} {:<10} {:<10} {:<10}\n{REMOTE}\n",
            "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        )
    } else if format.has(Format::PERSISTENTCONN) {
        format!(
            "{PROT:<33} {:<9} {:<11} {:<10} {:<10}\n{REMOTE}\n",
            "Weight", "PersistConn", "ActiveConn", "InActConn"
        )
    } else if format.has(Format::TUN_INFO) {
        format!(
            "{PROT} Scheduler Flags\n{REMOTE}           Forward TunnelInfo    Weight ActiveConn InActConn\n"
        )
    } else if format.has(Format::RULE) {
        String::new()
    } else {
        format!("{PROT} Scheduler Flags\n{REMOTE}           Forward Weight ActiveConn InActConn\n")
    }
}

/// `print_sched_flags`: the names of the set scheduler flags, comma separated.
pub(crate) fn sched_flags(cfg: &ServiceConfig) -> String {
    let f = cfg.sched_flags.0;
    let names: [(u32, &str); 3] = match cfg.scheduler.as_str() {
        "sh" => [
            (SchedFlags::SCHED1, "sh-fallback"),
            (SchedFlags::SCHED2, "sh-port"),
            (0, ""),
        ],
        "mh" => [
            (SchedFlags::SCHED1, "mh-fallback"),
            (SchedFlags::SCHED2, "mh-port"),
            (0, ""),
        ],
        _ => [
            (SchedFlags::SCHED1, "flag-1"),
            (SchedFlags::SCHED2, "flag-2"),
            (SchedFlags::SCHED3, "flag-3"),
        ],
    };
    let set: Vec<&str> = names
        .iter()
        .filter(|(bit, _)| *bit != 0 && f & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    set.join(",")
}

/// Whether any of SCHED1..3 is set.
pub(crate) fn has_sched_flags(cfg: &ServiceConfig) -> bool {
    cfg.sched_flags.0 & (SchedFlags::SCHED1 | SchedFlags::SCHED2 | SchedFlags::SCHED3) != 0
}

/// The service's family (fwmark services carry their own).
pub(crate) fn family(key: &ServiceKey) -> Family {
    match key {
        ServiceKey::Addr { addr, .. } if addr.is_ipv4() => Family::Inet,
        ServiceKey::Addr { .. } => Family::Inet6,
        ServiceKey::Fwmark { family, .. } => *family,
    }
}

/// The mask text after ` mask ` / ` -M `, if the mask is not the full one: dotted for
/// IPv4, a prefix length for IPv6.
pub(crate) fn mask_text(key: &ServiceKey, prefix: u8) -> Option<String> {
    match family(key) {
        Family::Inet if prefix < 32 => {
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            Some(core::net::Ipv4Addr::from(m).to_string())
        }
        Family::Inet6 if prefix != 128 => Some(prefix.to_string()),
        _ => None,
    }
}

/// The service column: `TCP  addr:port` (cut to 33 bytes for IPv4), `FWM  mark`, or for
/// `-S` the option that names the service.
pub(crate) fn service_name(key: &ServiceKey, format: Format, names: &dyn Names) -> String {
    let rule = format.has(Format::RULE);
    match *key {
        ServiceKey::Fwmark { mark, family } => {
            // ipvsadm prints the mark with %d.
            let mark = mark as i32;
            match (rule, family) {
                (true, Family::Inet6) => format!("-f {mark} -6"),
                (true, Family::Inet) => format!("-f {mark}"),
                (false, Family::Inet6) => format!("FWM  {mark} IPv6"),
                (false, Family::Inet) => format!("FWM  {mark}"),
            }
        }
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => {
            let vname = addrport(addr, port, protocol.number(), format, names);
            if rule {
                let opt = match protocol.number() {
                    6 => "-t",
                    17 => "-u",
                    _ => "--sctp-service",
                };
                format!("{opt} {vname}")
            } else {
                let s = format!("{:<4} {vname}", protocol.name());
                if addr.is_ipv4() { cut(s, 33) } else { s }
            }
        }
    }
}

/// The default service line after the name: scheduler, flags, persistence, ops.
fn service_details(cfg: &ServiceConfig) -> String {
    let mut s = format!(" {}", cfg.scheduler);
    if has_sched_flags(cfg) {
        let _ = write!(s, " ({})", sched_flags(cfg));
    }
    if let Some(p) = cfg.persistence {
        let _ = write!(s, " persistent {}", p.timeout);
        if let Some(m) = mask_text(&cfg.key, p.netmask) {
            let _ = write!(s, " mask {m}");
        }
        if let Some(pe) = cfg.pe_name.as_deref().filter(|p| !p.is_empty()) {
            let _ = write!(s, " pe {pe}");
        }
    }
    if cfg.one_packet {
        s.push_str(" ops");
    }
    s
}

/// TunnelInfo column: `ipip`, `gue:<port>:<csum>`, `gre:<csum>`, or `n/a`.
fn tun_info(d: &DestEntry) -> String {
    const CSUM: [&str; 3] = ["-c", "+c", "r+c"];
    let c = CSUM[usize::from(d.dest.tun_flags).min(2)];
    match (d.dest.method, d.dest.tun_type) {
        (ForwardMethod::Tunnel, TunnelType::Ipip) => "ipip".into(),
        (ForwardMethod::Tunnel, TunnelType::Gue) => format!("gue:{}:{c}", d.dest.tun_port),
        (ForwardMethod::Tunnel, TunnelType::Gre) => format!("gre:{c}"),
        _ => "n/a".into(),
    }
}

fn dest_line(out: &mut String, d: &DestEntry, dname: &str, format: Format) {
    let fwd = d.dest.method.name();
    if format.has(Format::STATS) {
        let _ = write!(out, "  -> {dname:<28}");
        let s = d.stats;
        for v in [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes] {
            out.push_str(&largenum(v, format));
        }
        out.push('\n');
    } else if format.has(Format::RATE) {
        let r = d.rates;
        let _ = write!(
            out,
            "  -> {dname:<28} {:>8} {:>8} {:>8}",
            r.cps, r.inpps, r.outpps
        );
        out.push_str(&largenum(r.inbps, format));
        out.push_str(&largenum(r.outbps, format));
        out.push('\n');
    } else if format.has(Format::THRESHOLDS) {
        let _ = writeln!(
            out,
            "  -> {dname:<28} {:<10} {:<10} {:<10} {:<10}",
            d.dest.u_threshold, d.dest.l_threshold, d.active_conns, d.inact_conns
        );
    } else if format.has(Format::PERSISTENTCONN) {
        let _ = writeln!(
            out,
            "  -> {dname:<28} {:<9} {:<11} {:<10} {:<10}",
            d.dest.weight as u32, d.persist_conns, d.active_conns, d.inact_conns
        );
    } else if format.has(Format::TUN_INFO) {
        let _ = writeln!(
            out,
            "  -> {dname:<28} {fwd:<7} {:<13} {:<6} {:<10} {:<10}",
            tun_info(d),
            d.dest.weight,
            d.active_conns,
            d.inact_conns
        );
    } else {
        let _ = writeln!(
            out,
            "  -> {dname:<28} {fwd:<7} {:<6} {:<10} {:<10}",
            d.dest.weight, d.active_conns, d.inact_conns
        );
    }
}

/// `print_service_entry`: the service line and one line per real server (sorted unless
/// `--nosort`), in `format`.
pub fn service_entry(se: &mut ServiceEntry, format: Format, names: &dyn Names) -> String {
    let name = service_name(&se.service.key, format, names);
    let mut out = String::new();
    if format.has(Format::RULE) {
        out.push_str(&save::service_rule(&name, &se.service));
    } else if format.has(Format::STATS) || format.has(Format::RATE) {
        let _ = write!(out, "{name:<33}");
        let v = if format.has(Format::STATS) {
            let s = se.stats;
            [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
        } else {
            let r = se.rates;
            [r.cps, r.inpps, r.outpps, r.inbps, r.outbps]
        };
        for n in v {
            out.push_str(&largenum(n, format));
        }
    } else {
        out.push_str(&name);
        out.push_str(&service_details(&se.service));
    }
    out.push('\n');
    if !format.has(Format::NOSORT) {
        crate::sort::sort_dests(&mut se.dests);
    }
    let protocol = service_protocol(&se.service.key);
    for d in &se.dests {
        let mut dname = addrport(d.dest.addr, d.dest.port, protocol, format, names);
        if format.has(Format::RULE) {
            out.push_str(&save::dest_rule(&name, &dname, d));
            continue;
        }
        if d.dest.addr.is_ipv4() {
            dname = cut(dname, 28);
        }
        dest_line(&mut out, d, &dname, format);
    }
    out
}
