//! What a command line says, as ipvsadm holds it while parsing: the command, which option
//! classes were given, the service / real server / daemon being described, and how a run
//! ends early ([`Stop`]).

use core::net::IpAddr;

use rvs_api::DaemonState;
use rvs_core::model::Timeouts;

use crate::format::Format;
use crate::usage::tryhelp;

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
        Stop {
            code,
            stdout: String::new(),
            stderr,
        }
    }

    /// The "Try ... -h" hint, exit 255.
    pub fn tryhelp(prog: &str) -> Stop {
        Stop {
            code: 255,
            stdout: String::new(),
            stderr: tryhelp(prog),
        }
    }
}
