//! `-S`: the table as `-A` / `-a` rules that `-R` reads back. Thresholds are not saved
//! (ipvsadm does not either).

use core::fmt::Write as _;

use rvs_api::DestEntry;
use rvs_core::model::{ForwardMethod, ServiceConfig, TunnelType};

use super::service::{has_sched_flags, mask_text, sched_flags};

/// The `-A` rule of a service (without the newline); `name` is its `-t/-u/-f` option.
pub(crate) fn service_rule(name: &str, cfg: &ServiceConfig) -> String {
    let mut s = format!("-A {name} -s {}", cfg.scheduler);
    if let Some(p) = cfg.persistence {
        let _ = write!(s, " -p {}", p.timeout);
        if let Some(m) = mask_text(&cfg.key, p.netmask) {
            let _ = write!(s, " -M {m}");
        }
    }
    if let Some(pe) = cfg.pe_name.as_deref().filter(|p| !p.is_empty()) {
        let _ = write!(s, " --pe {pe}");
    }
    if cfg.one_packet {
        s.push_str(" -o");
    }
    if has_sched_flags(cfg) {
        let _ = write!(s, " -b {}", sched_flags(cfg));
    }
    s
}

/// The `-a` rule of a real server (with the newline).
pub(crate) fn dest_rule(name: &str, dname: &str, d: &DestEntry) -> String {
    let switch = match d.dest.method {
        ForwardMethod::Masq => "-m",
        ForwardMethod::Tunnel => "-i",
        ForwardMethod::Route => "-g",
    };
    let mut s = format!("-a {name} -r {dname} {switch} -w {}", d.dest.weight);
    if d.dest.method == ForwardMethod::Tunnel {
        const CSUM: [&str; 3] = ["--tun-nocsum", "--tun-csum", "--tun-remcsum"];
        let c = CSUM[usize::from(d.dest.tun_flags).min(2)];
        match d.dest.tun_type {
            TunnelType::Ipip => s.push_str(" --tun-type ipip"),
            TunnelType::Gue => {
                let _ = write!(s, " --tun-type gue --tun-port {} {c}", d.dest.tun_port);
            }
            TunnelType::Gre => {
                let _ = write!(s, " --tun-type gre {c}");
            }
        }
    }
    s.push('\n');
    s
}
