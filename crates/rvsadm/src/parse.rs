//! From argv to a parsed command, exactly in ipvsadm's order: the first option must be a
//! command; every later option is checked and stored as it comes (so the first bad value
//! wins), popt errors are reported after the options before them were taken, then the
//! `--set` values, leftover words and scheduler flags.

use core::net::IpAddr;

use rvs_api::DaemonState;
use rvs_core::model::Timeouts;

use crate::addr::{atoi, parse_netmask, parse_service, string_to_number};
use crate::format::Format;
use crate::names::Names;
use crate::options::Tag;
use crate::popt::Popt;
pub use crate::spec::{
    Af, Cmd, DEFAULT_PERSISTENT_TIMEOUT, DaemonSpec, DestSpec, F_ONEPACKET, F_PERSISTENT,
    F_SCHED_MASK, Fwd, MAX_TIMEOUT, Parsed, Stop, SvcSpec, opt,
};
use crate::usage::{usage, version};

fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn set_option(options: &mut u64, i: usize) -> Result<(), Stop> {
    if *options & (1 << i) != 0 {
        return Err(Stop::fail(
            2,
            format!("multiple '{}' options specified", opt::NAMES[i]),
        ));
    }
    *options |= 1 << i;
    Ok(())
}

fn parse_timeout(arg: Option<&str>, min: i64, max: i64) -> Result<u32, Stop> {
    let Some(s) = arg else {
        return Ok(DEFAULT_PERSISTENT_TIMEOUT);
    };
    string_to_number(s, min, max)
        .map(|n| n as u32)
        .ok_or_else(|| Stop::fail(2, format!("invalid timeout value `{s}' specified")))
}

fn number<T: TryFrom<i64>>(s: &str, min: i64, max: i64, msg: &str) -> Result<T, Stop> {
    string_to_number(s, min, max)
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| Stop::fail(2, msg))
}

fn parse_fwmark(s: &str) -> Result<u32, Stop> {
    crate::addr::strtol(s)
        .filter(|&l| l > 0 && l <= i64::from(u32::MAX))
        .map(|l| l as u32)
        .ok_or_else(|| Stop::fail(2, format!("invalid fwmark value `{s}' specified")))
}

fn parse_sched_flags(sched: &str, arg: &str) -> Result<u32, Stop> {
    let sched = if sched.is_empty() { "wlc" } else { sched };
    let mut flags = 0;
    let mut any = false;
    for flag in arg.split(',').filter(|f| !f.is_empty()) {
        any = true;
        let (bit, needs) = match flag {
            "flag-1" => (0x8, None),
            "flag-2" => (0x10, None),
            "flag-3" => (0x20, None),
            "sh-fallback" => (0x8, Some("sh")),
            "sh-port" => (0x10, Some("sh")),
            "mh-fallback" => (0x8, Some("mh")),
            "mh-port" => (0x10, Some("mh")),
            _ => return Err(Stop::fail(2, format!("invalid scheduler flag `{flag}'"))),
        };
        flags |= bit;
        if needs.is_some_and(|n| n != sched) {
            return Err(Stop::fail(
                2,
                format!("incompatible scheduler flag `{flag}'"),
            ));
        }
    }
    if !any {
        // ipvsadm crashes on a list of only commas; refuse it as an invalid flag instead.
        return Err(Stop::fail(2, format!("invalid scheduler flag `{arg}'")));
    }
    Ok(flags)
}

fn parse_mcast_group(s: &str) -> Result<IpAddr, Stop> {
    if s.contains(':') {
        match s.parse::<core::net::Ipv6Addr>() {
            Ok(a) if a.is_multicast() => Ok(IpAddr::V6(a)),
            _ => Err(Stop::fail(2, format!("invalid IPv6 mcast-group `{s}'"))),
        }
    } else {
        match s.parse::<core::net::Ipv4Addr>() {
            Ok(a) if a.is_multicast() => Ok(IpAddr::V4(a)),
            _ => Err(Stop::fail(2, format!("invalid IPv4 mcast-group `{s}'"))),
        }
    }
}

/// The command the first option names, or the early end it causes.
fn first_command(p: &mut Popt<'_>, prog: &str) -> Result<(Cmd, Option<DaemonState>), Stop> {
    let Some(Ok((tag, arg))) = p.next_opt() else {
        return Err(Stop::tryhelp(prog));
    };
    let daemon_state = |arg: Option<String>, msg: &str| match arg.as_deref() {
        Some("master") => Ok(Some(DaemonState::Master)),
        Some("backup") => Ok(Some(DaemonState::Backup)),
        _ => Err(Stop::fail(2, msg)),
    };
    let cmd = match tag {
        Tag::AddService => Cmd::Add,
        Tag::EditService => Cmd::Edit,
        Tag::DeleteService => Cmd::Del,
        Tag::AddServer => Cmd::AddDest,
        Tag::EditServer => Cmd::EditDest,
        Tag::DeleteServer => Cmd::DelDest,
        Tag::Clear => Cmd::Flush,
        Tag::List => Cmd::List,
        Tag::Zero => Cmd::Zero,
        Tag::Set => Cmd::Timeout,
        Tag::Restore => Cmd::Restore,
        Tag::Save => Cmd::Save,
        Tag::StartDaemon => {
            return Ok((
                Cmd::StartDaemon,
                daemon_state(arg, "illegal start-daemon parameter specified")?,
            ));
        }
        Tag::StopDaemon => {
            return Ok((
                Cmd::StopDaemon,
                daemon_state(arg, "illegal start_daemon specified")?,
            ));
        }
        Tag::Help => {
            return Err(Stop {
                code: 0,
                stdout: usage(prog),
                stderr: String::new(),
            });
        }
        Tag::Version => {
            return Err(Stop {
                code: 0,
                stdout: version(),
                stderr: String::new(),
            });
        }
        _ => return Err(Stop::tryhelp(prog)),
    };
    Ok((cmd, None))
}

/// Parse one command line (`argv[0]` is the program name).
pub fn parse(argv: &[String], names: &dyn Names) -> Result<Parsed, Stop> {
    let prog = argv.first().map_or("ipvsadm", String::as_str);
    let mut p = Popt::new(argv);
    let (cmd, state) = first_command(&mut p, prog)?;
    let mut r = Parsed {
        cmd,
        options: 0,
        format: Format::NONE,
        svc: SvcSpec {
            af: Af::Unspec,
            protocol: 0,
            addr: None,
            port: 0,
            fwmark: 0,
            netmask: 0xffff_ffff,
            flags: 0,
            timeout: 0,
            sched: String::new(),
            pe: String::new(),
        },
        dest: DestSpec {
            af: Af::Unspec,
            addr: None,
            port: 0,
            fwd: Fwd::Route,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: 0,
            tun_port: 0,
            tun_flags: 0,
        },
        timeouts: Timeouts {
            tcp: 0,
            tcp_fin: 0,
            udp: 0,
        },
        daemon: DaemonSpec {
            state,
            ..DaemonSpec::default()
        },
    };
    let mut sched_flags_arg = String::new();
    while let Some(next) = p.next_opt() {
        let (tag, arg) = match next {
            Ok(x) => x,
            Err(e) => {
                let msg = format!("{}: {}\n", p.bad_option(), e.text());
                return Err(Stop {
                    code: 255,
                    stdout: String::new(),
                    stderr: msg,
                });
            }
        };
        let a = arg.as_deref().unwrap_or("");
        option(
            &mut r,
            tag,
            arg.as_deref(),
            a,
            names,
            &mut sched_flags_arg,
            p.bad_option(),
        )?;
    }
    if r.cmd == Cmd::Timeout {
        let (Some(a), Some(b), Some(c)) = (p.take_leftover(), p.take_leftover(), p.take_leftover())
        else {
            return Err(Stop::fail(2, "--set option requires 3 timeout values"));
        };
        r.timeouts = Timeouts {
            tcp: parse_timeout(Some(&a), 0, MAX_TIMEOUT)?,
            tcp_fin: parse_timeout(Some(&b), 0, MAX_TIMEOUT)?,
            udp: parse_timeout(Some(&c), 0, MAX_TIMEOUT)?,
        };
    }
    if let Some(extra) = p.take_leftover() {
        return Err(Stop::fail(2, format!("unexpected argument {extra}")));
    }
    if !sched_flags_arg.is_empty() {
        r.svc.flags &= !F_SCHED_MASK;
        r.svc.flags |= parse_sched_flags(&r.svc.sched, &sched_flags_arg)?;
    }
    Ok(r)
}

/// Take one option (the body of ipvsadm's option loop).
fn option(
    r: &mut Parsed,
    tag: Tag,
    arg: Option<&str>,
    a: &str,
    names: &dyn Names,
    sched_flags_arg: &mut String,
    bad_option: &str,
) -> Result<(), Stop> {
    let o = &mut r.options;
    match tag {
        Tag::TcpService | Tag::UdpService | Tag::SctpService => {
            set_option(o, opt::SERVICE)?;
            r.svc.protocol = match tag {
                Tag::TcpService => 6,
                Tag::UdpService => 17,
                _ => 132,
            };
            let hp = parse_service(a, r.svc.protocol, names)
                .ok_or_else(|| Stop::fail(2, "illegal virtual server address[:port] specified"))?;
            r.svc.af = Af::of(hp.addr);
            r.svc.addr = Some(hp.addr);
            if hp.addr.is_ipv6() {
                r.svc.netmask = 128;
            }
            if let Some(port) = hp.port {
                r.svc.port = port;
            }
        }
        Tag::FwmarkService => {
            set_option(o, opt::SERVICE)?;
            r.svc.af = Af::Inet;
            r.svc.protocol = 6;
            r.svc.fwmark = parse_fwmark(a)?;
        }
        Tag::Scheduler => {
            set_option(o, opt::SCHEDULER)?;
            r.svc.sched = truncate(a, 15);
        }
        Tag::Persistent => {
            set_option(o, opt::PERSISTENT)?;
            r.svc.flags |= F_PERSISTENT;
            r.svc.timeout = parse_timeout(arg, 1, MAX_TIMEOUT)?;
        }
        Tag::Netmask => {
            set_option(o, opt::NETMASK)?;
            if r.svc.af != Af::Inet6 {
                let m = parse_netmask(a, names).ok_or_else(|| {
                    Stop::fail(2, "illegal virtual server persistent mask specified")
                })?;
                r.svc.netmask = u32::from(m);
            } else {
                r.svc.netmask = atoi(a) as u32;
                if !(1..=128).contains(&r.svc.netmask) {
                    return Err(Stop::fail(2, "illegal ipv6 netmask specified"));
                }
            }
        }
        Tag::RealServer => {
            set_option(o, opt::SERVER)?;
            let hp = parse_service(a, r.svc.protocol, names)
                .ok_or_else(|| Stop::fail(2, "illegal real server address[:port] specified"))?;
            r.dest.af = Af::of(hp.addr);
            r.dest.addr = Some(hp.addr);
            r.dest.port = hp.port.unwrap_or(r.svc.port);
        }
        Tag::Ipip | Tag::Gatewaying | Tag::Masquerading => {
            set_option(o, opt::FORWARD)?;
            r.dest.fwd = match tag {
                Tag::Ipip => Fwd::Tunnel,
                Tag::Gatewaying => Fwd::Route,
                _ => Fwd::Masq,
            };
        }
        Tag::Weight => {
            set_option(o, opt::WEIGHT)?;
            r.dest.weight = number(a, 0, 65535, "illegal weight specified")?;
        }
        Tag::UThreshold => {
            set_option(o, opt::UTHRESHOLD)?;
            r.dest.u_threshold =
                number(a, 0, i64::from(i32::MAX), "illegal u_threshold specified")?;
        }
        Tag::LThreshold => {
            set_option(o, opt::LTHRESHOLD)?;
            r.dest.l_threshold =
                number(a, 0, i64::from(i32::MAX), "illegal l_threshold specified")?;
        }
        Tag::Connection => set_option(o, opt::CONNECTION)?,
        Tag::Numeric => {
            set_option(o, opt::NUMERIC)?;
            r.format |= Format::NUMERIC;
        }
        Tag::McastInterface => {
            set_option(o, opt::MCAST)?;
            r.daemon.mcast_ifn = truncate(a, 15);
        }
        Tag::SyncId => {
            set_option(o, opt::SYNCID)?;
            r.daemon.syncid = number(a, 0, 255, "illegal syncid specified")?;
        }
        Tag::Timeout => set_option(o, opt::TIMEOUT)?,
        Tag::Daemon => set_option(o, opt::DAEMON)?,
        Tag::Stats => flag(r, opt::STATS, Format::STATS)?,
        Tag::Rate => flag(r, opt::RATE, Format::RATE)?,
        Tag::Thresholds => flag(r, opt::THRESHOLDS, Format::THRESHOLDS)?,
        Tag::PersistentConn => flag(r, opt::PERSISTENTCONN, Format::PERSISTENTCONN)?,
        Tag::NoSort => flag(r, opt::NOSORT, Format::NOSORT)?,
        Tag::Sort => {}
        Tag::Exact => flag(r, opt::EXACT, Format::EXACT)?,
        Tag::Ipv6 => {
            if r.svc.fwmark == 0 {
                return Err(Stop::fail(2, "-6 used before -f\n"));
            }
            r.svc.af = Af::Inet6;
            r.svc.netmask = 128;
        }
        Tag::Ops => {
            set_option(o, opt::ONEPACKET)?;
            r.svc.flags |= F_ONEPACKET;
        }
        Tag::Pe => {
            set_option(o, opt::PE)?;
            r.svc.pe = truncate(a, 15);
        }
        Tag::SchedFlags => {
            set_option(o, opt::SCHED_FLAGS)?;
            *sched_flags_arg = truncate(a, 127);
        }
        Tag::McastGroup => {
            set_option(o, opt::MCAST_GROUP)?;
            r.daemon.group = Some(parse_mcast_group(a)?);
        }
        Tag::McastPort => {
            set_option(o, opt::MCAST_PORT)?;
            r.daemon.port = number(a, 1, 65535, "illegal mcast-port specified")?;
        }
        Tag::McastTtl => {
            set_option(o, opt::MCAST_TTL)?;
            r.daemon.ttl = number(a, 1, 255, "illegal mcast-ttl specified")?;
        }
        Tag::SyncMaxlen => {
            set_option(o, opt::SYNC_MAXLEN)?;
            r.daemon.maxlen = number(a, 1, 65535 - 20 - 8, "illegal sync-maxlen specified")?;
        }
        Tag::TunInfo => flag(r, opt::TUN_INFO, Format::TUN_INFO)?,
        Tag::TunType => {
            set_option(o, opt::TUN_TYPE)?;
            r.dest.tun_type = match a {
                "ipip" => 0,
                "gue" => 1,
                "gre" => 2,
                _ => return Err(Stop::fail(2, "illegal tunnel type specified")),
            };
        }
        Tag::TunPort => {
            set_option(o, opt::TUN_PORT)?;
            r.dest.tun_port = number(a, 1, 65535, "illegal tunnel port specified")?;
        }
        Tag::TunNocsum => set_option(o, opt::TUN_NOCSUM)?,
        Tag::TunCsum => {
            set_option(o, opt::TUN_CSUM)?;
            r.dest.tun_flags |= 1;
        }
        Tag::TunRemcsum => {
            set_option(o, opt::TUN_REMCSUM)?;
            r.dest.tun_flags |= 2;
        }
        // A second command, -h or -v after the command.
        _ => return Err(Stop::fail(2, format!("invalid option `{bad_option}'"))),
    }
    Ok(())
}

fn flag(r: &mut Parsed, i: usize, f: Format) -> Result<(), Stop> {
    set_option(&mut r.options, i)?;
    r.format |= f;
    Ok(())
}
