//! The legal combinations of commands and options, the tunnel-option table, and the
//! semantic checks ipvsadm makes before it talks to the kernel — in its order, with its
//! messages — ending in the [`Action`] to run.

use rvs_api::{Mutation, SyncDaemon};
use rvs_core::model::{
    DestConfig, Family, ForwardMethod, Persistence, Protocol, SchedFlags, ServiceConfig,
    ServiceKey, TunnelType,
};

use crate::action::Action;
use crate::format::Format;
use crate::parse::{Af, Cmd, F_ONEPACKET, F_PERSISTENT, F_SCHED_MASK, Fwd, Parsed, Stop, opt};

/// Rows: commands (in [`Cmd`] order); columns: option classes (in [`opt`] order).
/// `+` required, `x` illegal, `1` at most one of the `1`s, blank optional.
const COMMANDS_V_OPTIONS: [&[u8; opt::COUNT]; 14] = [
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx", // add-service
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx", // edit-service
    b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // delete-service
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // flush
    b" 11xxxxxxxxx11       xxxxxxx xxxxx", // list
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ", // add-server
    b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx", // delete-server
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ", // edit-server
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // set
    b"xxxxxxxxxxx xxxxxxx xxxx    xxxxxx", // start-daemon
    b"xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx", // stop-daemon
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // restore
    b" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // save
    b"xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // zero
];

/// Tunnel types (ipip, gue, gre) against tun-port, tun-nocsum, tun-csum, tun-remcsum.
const TUNNEL_TYPES_V_OPTIONS: [&[u8; 4]; 3] = [b"xxxx", b"+111", b"x11x"];
const TUN_OPTS: [usize; 4] = [
    opt::TUN_PORT,
    opt::TUN_NOCSUM,
    opt::TUN_CSUM,
    opt::TUN_REMCSUM,
];
const TUN_NAMES: [&str; 3] = ["ipip", "gue", "gre"];

/// Walk one row of a legality table; `what` is "command" or "tunnel type".
fn walk_table(
    row: &[u8],
    columns: &[usize],
    options: u64,
    owner: &str,
    what: &str,
) -> Result<(), Stop> {
    let mut first_exclusive: Option<usize> = None;
    for (j, &k) in columns.iter().enumerate() {
        let given = options & (1 << k) != 0;
        let name = opt::NAMES[k];
        match (given, row[j]) {
            (false, b'+') => {
                return Err(Stop::fail(
                    2,
                    format!("You need to supply the '{name}' option for the '{owner}' {what}"),
                ));
            }
            (true, b'x') => {
                return Err(Stop::fail(
                    2,
                    format!("Illegal '{name}' option with the '{owner}' {what}"),
                ));
            }
            (true, b'1') => match first_exclusive {
                None => first_exclusive = Some(k),
                Some(last) => {
                    return Err(Stop::fail(
                        2,
                        format!(
                            "The option '{name}' conflicts with the '{}' option in the '{owner}' {what}",
                            opt::NAMES[last]
                        ),
                    ));
                }
            },
            _ => {}
        }
    }
    Ok(())
}

/// ipvsadm's `generic_opt_check`.
pub fn generic_opt_check(cmd: Cmd, options: u64) -> Result<(), Stop> {
    let columns: Vec<usize> = (0..opt::COUNT).collect();
    walk_table(
        COMMANDS_V_OPTIONS[cmd.index()],
        &columns,
        options,
        cmd.name(),
        "command",
    )
}

/// ipvsadm's `tunnel_opt_check`.
pub fn tunnel_opt_check(tun_type: u8, options: u64) -> Result<(), Stop> {
    let t = usize::from(tun_type).min(2);
    walk_table(
        TUNNEL_TYPES_V_OPTIONS[t],
        &TUN_OPTS,
        options,
        TUN_NAMES[t],
        "tunnel type",
    )
}

const TUN_OPTION_BITS: u64 = (1 << opt::TUN_TYPE)
    | (1 << opt::TUN_PORT)
    | (1 << opt::TUN_NOCSUM)
    | (1 << opt::TUN_CSUM)
    | (1 << opt::TUN_REMCSUM);

/// All checks after parsing, in ipvsadm's order; then the action to run.
pub fn check(mut p: Parsed) -> Result<Action, Stop> {
    generic_opt_check(p.cmd, p.options)?;
    if matches!(p.cmd, Cmd::Add | Cmd::Edit) {
        if p.svc.fwmark == 0 && p.svc.port == 0 && p.svc.flags & F_PERSISTENT == 0 {
            return Err(Stop::fail(
                2,
                "Zero port specified for non-persistent service",
            ));
        }
        if p.svc.flags & F_ONEPACKET != 0 && p.svc.fwmark == 0 && p.svc.protocol != 17 {
            return Err(Stop::fail(
                2,
                "One-Packet Scheduling is only for UDP virtual services",
            ));
        }
        if p.svc.sched.is_empty() {
            p.svc.sched = "wlc".into();
        }
    }
    if p.cmd == Cmd::StartDaemon && p.daemon.mcast_ifn.is_empty() {
        p.daemon.mcast_ifn = "eth0".into();
    }
    if matches!(p.cmd, Cmd::AddDest | Cmd::EditDest) {
        if p.svc.fwmark == 0 && matches!(p.dest.fwd, Fwd::Tunnel | Fwd::Route) {
            p.dest.port = p.svc.port;
        }
        if p.dest.af != p.svc.af && p.dest.fwd != Fwd::Tunnel {
            return Err(Stop::fail(
                2,
                "Different address family is allowed only for tunneling servers",
            ));
        }
        if p.options & TUN_OPTION_BITS != 0 && p.dest.fwd != Fwd::Tunnel {
            return Err(Stop::fail(2, "Tunnel options conflict with forward method"));
        }
        tunnel_opt_check(p.dest.tun_type, p.options)?;
    }
    if p.cmd == Cmd::List {
        let view = (1 << opt::CONNECTION) | (1 << opt::TIMEOUT) | (1 << opt::DAEMON);
        let numbers = (1 << opt::STATS) | (1 << opt::RATE) | (1 << opt::THRESHOLDS);
        let global = (1 << opt::TIMEOUT) | (1 << opt::DAEMON);
        if (p.options & view != 0 && p.options & numbers != 0)
            || (p.options & global != 0 && p.has(opt::PERSISTENTCONN))
        {
            return Err(Stop::fail(2, "options conflicts in the list command"));
        }
    }
    action(&p)
}

/// The service key the command names (ipvsadm sends whatever `ce.svc` holds).
pub fn service_key(p: &Parsed) -> Option<ServiceKey> {
    if p.svc.fwmark != 0 {
        let family = if p.svc.af == Af::Inet6 {
            Family::Inet6
        } else {
            Family::Inet
        };
        return Some(ServiceKey::Fwmark {
            mark: p.svc.fwmark,
            family,
        });
    }
    let protocol = Protocol::from_number(p.svc.protocol)?;
    Some(ServiceKey::Addr {
        protocol,
        addr: p.svc.addr?,
        port: p.svc.port,
    })
}

fn required_key(p: &Parsed) -> Result<ServiceKey, Stop> {
    service_key(p).ok_or_else(|| Stop::fail(2, "illegal virtual server address[:port] specified"))
}

/// The persistence netmask as a prefix length; rvsd keeps prefixes, so a non-contiguous
/// IPv4 mask (which IPv4 IPVS accepts) is refused here.
fn prefix_len(p: &Parsed) -> Result<u8, Stop> {
    if p.svc.af == Af::Inet6 {
        return Ok(p.svc.netmask as u8);
    }
    let m = p.svc.netmask;
    let ones = m.leading_ones();
    if ones < 32 && m << ones != 0 {
        let mask = core::net::Ipv4Addr::from(m);
        return Err(Stop::fail(
            2,
            format!("rvsd does not support non-contiguous persistence netmasks ({mask}) yet"),
        ));
    }
    Ok(ones as u8)
}

fn service_config(p: &Parsed) -> Result<ServiceConfig, Stop> {
    let persistence = if p.svc.flags & F_PERSISTENT != 0 {
        Some(Persistence {
            timeout: p.svc.timeout,
            netmask: prefix_len(p)?,
        })
    } else {
        None
    };
    Ok(ServiceConfig {
        key: required_key(p)?,
        scheduler: p.svc.sched.clone(),
        sched_flags: SchedFlags(p.svc.flags & F_SCHED_MASK),
        persistence,
        one_packet: p.svc.flags & F_ONEPACKET != 0,
        pe_name: (!p.svc.pe.is_empty()).then(|| p.svc.pe.clone()),
    })
}

fn dest_config(p: &Parsed) -> Result<DestConfig, Stop> {
    let addr = p
        .dest
        .addr
        .ok_or_else(|| Stop::fail(2, "illegal real server address[:port] specified"))?;
    Ok(DestConfig {
        addr,
        port: p.dest.port,
        method: match p.dest.fwd {
            Fwd::Masq => ForwardMethod::Masq,
            Fwd::Tunnel => ForwardMethod::Tunnel,
            Fwd::Route => ForwardMethod::Route,
        },
        weight: p.dest.weight,
        u_threshold: p.dest.u_threshold,
        l_threshold: p.dest.l_threshold,
        tun_type: match p.dest.tun_type {
            1 => TunnelType::Gue,
            2 => TunnelType::Gre,
            _ => TunnelType::Ipip,
        },
        tun_port: p.dest.tun_port,
        tun_flags: p.dest.tun_flags,
    })
}

/// `-Z` with no service, or with an all-zero address and port, zeroes everything (libipvs
/// sends no service then).
fn zero_target(p: &Parsed) -> Option<ServiceKey> {
    let any = p.svc.addr.is_none_or(|a| a.is_unspecified());
    if p.svc.fwmark == 0 && any && p.svc.port == 0 {
        None
    } else {
        service_key(p)
    }
}

fn action(p: &Parsed) -> Result<Action, Stop> {
    Ok(match p.cmd {
        Cmd::List => {
            if p.has(opt::CONNECTION) {
                Action::ListConnections(p.format)
            } else if p.has(opt::SERVICE) {
                Action::ListService(required_key(p)?, p.format)
            } else if p.has(opt::TIMEOUT) {
                Action::ListTimeout
            } else if p.has(opt::DAEMON) {
                Action::ListDaemon
            } else {
                Action::ListAll(p.format)
            }
        }
        Cmd::Restore => Action::Restore,
        Cmd::Save => Action::ListAll(p.format | Format::RULE),
        Cmd::Flush => Action::Change(Mutation::Flush),
        Cmd::Add => Action::Change(Mutation::AddService {
            service: service_config(p)?,
        }),
        Cmd::Edit => Action::Change(Mutation::EditService {
            service: service_config(p)?,
        }),
        Cmd::Del => Action::Change(Mutation::DelService {
            service: required_key(p)?,
        }),
        Cmd::Zero => Action::Change(Mutation::Zero {
            service: zero_target(p),
        }),
        Cmd::AddDest => Action::Change(Mutation::AddDest {
            service: required_key(p)?,
            dest: dest_config(p)?,
        }),
        Cmd::EditDest => Action::Change(Mutation::EditDest {
            service: required_key(p)?,
            dest: dest_config(p)?,
        }),
        Cmd::DelDest => {
            let d = dest_config(p)?;
            Action::Change(Mutation::DelDest {
                service: required_key(p)?,
                addr: d.addr,
                port: d.port,
            })
        }
        Cmd::Timeout => Action::Change(Mutation::SetTimeouts {
            timeouts: p.timeouts,
        }),
        Cmd::StartDaemon => Action::StartDaemon(SyncDaemon {
            state: p.daemon.state.unwrap_or(rvs_api::DaemonState::Master),
            mcast_ifn: p.daemon.mcast_ifn.clone(),
            syncid: p.daemon.syncid,
            sync_maxlen: p.daemon.maxlen,
            mcast_group: p.daemon.group,
            mcast_port: p.daemon.port,
            mcast_ttl: p.daemon.ttl,
        }),
        Cmd::StopDaemon => {
            Action::StopDaemon(p.daemon.state.unwrap_or(rvs_api::DaemonState::Master))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_the_right_shape() {
        for row in COMMANDS_V_OPTIONS {
            assert!(row.iter().all(|c| b" x+1".contains(c)));
        }
        // Spot checks against ipvsadm's table.
        assert_eq!(COMMANDS_V_OPTIONS[Cmd::List.index()][opt::TUN_INFO], b' ');
        assert_eq!(
            COMMANDS_V_OPTIONS[Cmd::AddDest.index()][opt::TUN_REMCSUM],
            b' '
        );
        assert_eq!(COMMANDS_V_OPTIONS[Cmd::Add.index()][opt::SCHED_FLAGS], b' ');
        assert_eq!(
            COMMANDS_V_OPTIONS[Cmd::StartDaemon.index()][opt::SYNC_MAXLEN],
            b' '
        );
        assert_eq!(
            COMMANDS_V_OPTIONS[Cmd::StopDaemon.index()][opt::SYNCID],
            b' '
        );
    }

    #[test]
    fn messages() {
        let e = generic_opt_check(Cmd::AddDest, 1 << opt::SERVICE).unwrap_err();
        assert_eq!(
            e.stderr,
            "You need to supply the 'real-server' option for the 'add-server' command\n"
        );
        let e = generic_opt_check(Cmd::Add, (1 << opt::SERVICE) | (1 << opt::WEIGHT)).unwrap_err();
        assert_eq!(
            e.stderr,
            "Illegal 'weight' option with the 'add-service' command\n"
        );
        let e =
            generic_opt_check(Cmd::List, (1 << opt::CONNECTION) | (1 << opt::TIMEOUT)).unwrap_err();
        assert_eq!(
            e.stderr,
            "The option 'timeout' conflicts with the 'connection' option in the 'list' command\n"
        );
        let e = tunnel_opt_check(1, 1 << opt::TUN_TYPE).unwrap_err();
        assert_eq!(
            e.stderr,
            "You need to supply the 'tun-port' option for the 'gue' tunnel type\n"
        );
        let e = tunnel_opt_check(
            1,
            (1 << opt::TUN_PORT) | (1 << opt::TUN_NOCSUM) | (1 << opt::TUN_CSUM),
        )
        .unwrap_err();
        assert_eq!(
            e.stderr,
            "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type\n"
        );
        assert!(tunnel_opt_check(0, 0).is_ok());
    }
}
