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
use crate::usage::{tryhelp, usage, version};

/// Service flag IP_VS_SVC_F_PERSISTENT.
pub const F_PERSISTENT: u32 = 0x1;
/// Service flag IP_VS_SVC_F_ONEPACKET.
pub const F_ONEPACKET: u32 = 0x4;
/// Scheduler flags SCHED1..3.
pub const F_SCHED_MASK: u32 = 0x8 | 0x10 | 0x20;

/// The longest timeout ipvsadm accepts (31 days).
pub const MAX_TIMEOUT: i64 = 86400 * 31;
/// The persistence timeout `-p` without a value gives (IPVS_SVC_PERSISTENT_TIMEOUT).
pub const DEFAULT_PERSISTENT_TIMEOUT: u32 = 6 * 60;

/// Option classes, by their index in ipvsadm's tables.
pub mod opt {
    /// `-n`.
    pub const NUMERIC: usize = 0;
    /// `-c`.
    pub const CONNECTION: usize = 1;
    /// `-t -u --sctp-service -f`.
    pub const SERVICE: usize = 2;
    /// `-s`.
    pub const SCHEDULER: usize = 3;
    /// `-p`.
    pub const PERSISTENT: usize = 4;
    /// `-M`.
    pub const NETMASK: usize = 5;
    /// `-r`.
    pub const SERVER: usize = 6;
    /// `-g -i -m`.
    pub const FORWARD: usize = 7;
    /// `-w`.
    pub const WEIGHT: usize = 8;
    /// `-x`.
    pub const UTHRESHOLD: usize = 9;
    /// `-y`.
    pub const LTHRESHOLD: usize = 10;
    /// `--mcast-interface`.
    pub const MCAST: usize = 11;
    /// `--timeout`.
    pub const TIMEOUT: usize = 12;
    /// `--daemon`.
    pub const DAEMON: usize = 13;
    /// `--stats`.
    pub const STATS: usize = 14;
    /// `--rate`.
    pub const RATE: usize = 15;
    /// `--thresholds`.
    pub const THRESHOLDS: usize = 16;
    /// `--persistent-conn`.
    pub const PERSISTENTCONN: usize = 17;
    /// `--nosort`.
    pub const NOSORT: usize = 18;
    /// `--syncid`.
    pub const SYNCID: usize = 19;
    /// `--exact`.
    pub const EXACT: usize = 20;
    /// `-o`.
    pub const ONEPACKET: usize = 21;
    /// `--pe`.
    pub const PE: usize = 22;
    /// `-b`.
    pub const SCHED_FLAGS: usize = 23;
    /// `--mcast-group`.
    pub const MCAST_GROUP: usize = 24;
    /// `--mcast-port`.
    pub const MCAST_PORT: usize = 25;
    /// `--mcast-ttl`.
    pub const MCAST_TTL: usize = 26;
    /// `--sync-maxlen`.
    pub const SYNC_MAXLEN: usize = 27;
    /// `--tun-info`.
    pub const TUN_INFO: usize = 28;
    /// `--tun-type`.
    pub const TUN_TYPE: usize = 29;
    /// `--tun-port`.
    pub const TUN_PORT: usize = 30;
    /// `--tun-nocsum`.
    pub const TUN_NOCSUM: usize = 31;
    /// `--tun-csum`.
    pub const TUN_CSUM: usize = 32;
    /// `--tun-remcsum`.
    pub const TUN_REMCSUM: usize = 33;
    /// How many classes there are.
    pub const COUNT: usize = 34;

    /// The words used in messages, by index.
    pub const NAMES: [&str; COUNT] = [
        "numeric",
        "connection",
        "service-address",
        "scheduler",
        "persistent",
        "netmask",
        "real-server",
        "forwarding-method",
        "weight",
        "u-threshold",
        "l-threshold",
        "mcast-interface",
        "timeout",
        "daemon",
        "stats",
        "rate",
        "thresholds",
        "persistent-conn",
        "nosort",
        "syncid",
        "exact",
        "ops",
        "pe",
        "sched-flags",
        "mcast-group",
        "mcast-port",
        "mcast-ttl",
        "sync-maxlen",
        "tun-info",
        "tun-type",
        "tun-port",
        "tun-nocsum",
        "tun-csum",
        "tun-remcsum",
    ];
}

/// The commands, in ipvsadm's order (which indexes its tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    /// `-A`.
    Add,
    /// `-E`.
    Edit,
    /// `-D`.
    Del,
    /// `-C`.
    Flush,
    /// `-L`.
    List,
    /// `-a`.
    AddDest,
    /// `-d`.
    DelDest,
    /// `-e`.
    EditDest,
    /// `--set`.
    Timeout,
    /// `--start-daemon`.
    StartDaemon,
    /// `--stop-daemon`.
    StopDaemon,
    /// `-R`.
    Restore,
    /// `-S`.
    Save,
    /// `-Z`.
    Zero,
}

impl Cmd {
    /// Row of the command in ipvsadm's tables.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The word used in messages.
    pub const fn name(self) -> &'static str {
        match self {
            Cmd::Add => "add-service",
            Cmd::Edit => "edit-service",
            Cmd::Del => "delete-service",
            Cmd::Flush => "flush",
            Cmd::List => "list",
            Cmd::AddDest => "add-server",
            Cmd::DelDest => "delete-server",
            Cmd::EditDest => "edit-server",
            Cmd::Timeout => "set",
            Cmd::StartDaemon => "start-daemon",
            Cmd::StopDaemon => "stop-daemon",
            Cmd::Restore => "restore",
            Cmd::Save => "save",
            Cmd::Zero => "zero",
        }
    }
}

/// Address family as ipvsadm tracks it (unset until an address is parsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Af {
    /// Not set yet.
    #[default]
    Unspec,
    /// AF_INET.
    Inet,
    /// AF_INET6.
    Inet6,
}

impl Af {
    /// The family of an address.
    pub fn of(addr: IpAddr) -> Af {
        if addr.is_ipv4() { Af::Inet } else { Af::Inet6 }
    }
}

/// Forwarding method (IP_VS_CONN_F_* values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fwd {
    /// `-m` (0).
    Masq,
    /// `-i` (2).
    Tunnel,
    /// `-g` (3), the default.
    Route,
}

/// The virtual service being described (ipvsadm's `ce.svc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvcSpec {
    /// Family.
    pub af: Af,
    /// IP protocol number (6, 17, 132; TCP for fwmark services).
    pub protocol: u8,
    /// VIP, if given.
    pub addr: Option<IpAddr>,
    /// Port.
    pub port: u16,
    /// Firewall mark (0 = none).
    pub fwmark: u32,
    /// IPv4: the mask (host order); IPv6: the prefix length.
    pub netmask: u32,
    /// IP_VS_SVC_F_* flags.
    pub flags: u32,
    /// Persistence timeout.
    pub timeout: u32,
    /// Scheduler name (empty = default).
    pub sched: String,
    /// Persistence engine name (empty = none).
    pub pe: String,
}

/// The real server being described (ipvsadm's `ce.dest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestSpec {
    /// Family.
    pub af: Af,
    /// RIP, if given.
    pub addr: Option<IpAddr>,
    /// Port.
    pub port: u16,
    /// Forwarding method.
    pub fwd: Fwd,
    /// Weight.
    pub weight: i32,
    /// Upper threshold.
    pub u_threshold: u32,
    /// Lower threshold.
    pub l_threshold: u32,
    /// Tunnel type: 0 ipip, 1 gue, 2 gre.
    pub tun_type: u8,
    /// Tunnel port.
    pub tun_port: u16,
    /// Tunnel flags (csum 1, remcsum 2).
    pub tun_flags: u16,
}

/// The sync daemon being described (ipvsadm's `ce.daemon`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DaemonSpec {
    /// Master or backup.
    pub state: Option<DaemonState>,
    /// Multicast interface.
    pub mcast_ifn: String,
    /// Sync id.
    pub syncid: u8,
    /// Multicast group.
    pub group: Option<IpAddr>,
    /// Multicast port.
    pub port: u16,
    /// Multicast TTL.
    pub ttl: u8,
    /// Maximum message length.
    pub maxlen: u16,
}

/// Everything the command line said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The command.
    pub cmd: Cmd,
    /// Which option classes were given (bit = index in [`opt::NAMES`]).
    pub options: u64,
    /// Output format flags.
    pub format: Format,
    /// The service.
    pub svc: SvcSpec,
    /// The real server.
    pub dest: DestSpec,
    /// `--set` values.
    pub timeouts: Timeouts,
    /// Sync daemon settings.
    pub daemon: DaemonSpec,
}

impl Parsed {
    /// Whether option class `i` was given.
    pub fn has(&self, i: usize) -> bool {
        self.options & (1 << i) != 0
    }
}

/// How a run ends early: the exit code and what to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    /// Exit status.
    pub code: i32,
    /// Text for standard output.
    pub stdout: String,
    /// Text for standard error.
    pub stderr: String,
}

impl Stop {
    /// ipvsadm's `fail()`: the message and a newline on stderr.
    pub fn fail(code: i32, msg: impl Into<String>) -> Stop {
        let mut stderr = msg.into();
        stderr.push('\n');
        Stop { code, stdout: String::new(), stderr }
    }

    /// The "Try ... -h" hint, exit 255.
    pub fn tryhelp(prog: &str) -> Stop {
        Stop { code: 255, stdout: String::new(), stderr: tryhelp(prog) }
    }
}

fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn set_option(options: &mut u64, i: usize) -> Result<(), Stop> {
    if *options & (1 << i) != 0 {
        return Err(Stop::fail(2, format!("multiple '{}' options specified", opt::NAMES[i])));
    }
    *options |= 1 << i;
    Ok(())
}

fn parse_timeout(arg: Option<&str>, min: i64, max: i64) -> Result<u32, Stop> {
    let Some(s) = arg else { return Ok(DEFAULT_PERSISTENT_TIMEOUT) };
    string_to_number(s, min, max)
        .map(|n| n as u32)
        .ok_or_else(|| Stop::fail(2, format!("invalid timeout value `{s}' specified")))
}

fn number<T: TryFrom<i64>>(s: &str, min: i64, max: i64, msg: &str) -> Result<T, Stop> {
    string_to_number(s, min, max).and_then(|n| T::try_from(n).ok()).ok_or_else(|| Stop::fail(2, msg))
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
            return Err(Stop::fail(2, format!("incompatible scheduler flag `{flag}'")));
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
    let Some(Ok((tag, arg))) = p.next_opt() else { return Err(Stop::tryhelp(prog)) };
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
            return Ok((Cmd::StartDaemon, daemon_state(arg, "illegal start-daemon parameter specified")?));
        }
        Tag::StopDaemon => return Ok((Cmd::StopDaemon, daemon_state(arg, "illegal start_daemon specified")?)),
        Tag::Help => return Err(Stop { code: 0, stdout: usage(prog), stderr: String::new() }),
        Tag::Version => return Err(Stop { code: 0, stdout: version(), stderr: String::new() }),
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
        timeouts: Timeouts { tcp: 0, tcp_fin: 0, udp: 0 },
        daemon: DaemonSpec { state, ..DaemonSpec::default() },
    };
    let mut sched_flags_arg = String::new();
    while let Some(next) = p.next_opt() {
        let (tag, arg) = match next {
            Ok(x) => x,
            Err(e) => {
                let msg = format!("{}: {}\n", p.bad_option(), e.text());
                return Err(Stop { code: 255, stdout: String::new(), stderr: msg });
            }
        };
        let a = arg.as_deref().unwrap_or("");
        option(&mut r, tag, arg.as_deref(), a, names, &mut sched_flags_arg, p.bad_option())?;
    }
    if r.cmd == Cmd::Timeout {
        let (Some(a), Some(b), Some(c)) = (p.take_leftover(), p.take_leftover(), p.take_leftover()) else {
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
                let m = parse_netmask(a, names)
                    .ok_or_else(|| Stop::fail(2, "illegal virtual server persistent mask specified"))?;
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
            r.dest.u_threshold = number(a, 0, i64::from(i32::MAX), "illegal u_threshold specified")?;
        }
        Tag::LThreshold => {
            set_option(o, opt::LTHRESHOLD)?;
            r.dest.l_threshold = number(a, 0, i64::from(i32::MAX), "illegal l_threshold specified")?;
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
