//! ipvsadm's option table: every short and long form, whether it takes an argument, and the
//! tag the parser dispatches on. The order is ipvsadm's (the first match wins, so `--list`
//! is `-L`).

/// What an option is, independent of how it was spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// `-A`, `--add-service`.
    AddService,
    /// `-E`, `--edit-service`.
    EditService,
    /// `-D`, `--delete-service`.
    DeleteService,
    /// `-C`, `--clear`.
    Clear,
    /// `-L`, `-l`, `--list`.
    List,
    /// `-Z`, `--zero`.
    Zero,
    /// `-a`, `--add-server`.
    AddServer,
    /// `-e`, `--edit-server`.
    EditServer,
    /// `-d`, `--delete-server`.
    DeleteServer,
    /// `--set`.
    Set,
    /// `-h`, `--help`.
    Help,
    /// `-v`, `--version`.
    Version,
    /// `-R`, `--restore`.
    Restore,
    /// `-S`, `--save`.
    Save,
    /// `--start-daemon`.
    StartDaemon,
    /// `--stop-daemon`.
    StopDaemon,
    /// `-t`, `--tcp-service`.
    TcpService,
    /// `-u`, `--udp-service`.
    UdpService,
    /// `--sctp-service`.
    SctpService,
    /// `-f`, `--fwmark-service`.
    FwmarkService,
    /// `-s`, `--scheduler`.
    Scheduler,
    /// `-p`, `--persistent`.
    Persistent,
    /// `-M`, `--netmask`.
    Netmask,
    /// `-r`, `--real-server`.
    RealServer,
    /// `-m`, `--masquerading`.
    Masquerading,
    /// `-i`, `--ipip`.
    Ipip,
    /// `-g`, `--gatewaying`.
    Gatewaying,
    /// `-w`, `--weight`.
    Weight,
    /// `-x`, `--u-threshold`.
    UThreshold,
    /// `-y`, `--l-threshold`.
    LThreshold,
    /// `-n`, `--numeric`.
    Numeric,
    /// `-c`, `--connection`.
    Connection,
    /// `--mcast-interface`.
    McastInterface,
    /// `--syncid`.
    SyncId,
    /// `--timeout`.
    Timeout,
    /// `--daemon`.
    Daemon,
    /// `--stats`.
    Stats,
    /// `--rate`.
    Rate,
    /// `--thresholds`.
    Thresholds,
    /// `--persistent-conn`.
    PersistentConn,
    /// `--nosort`.
    NoSort,
    /// `--sort` (accepted, does nothing).
    Sort,
    /// `-X`, `--exact`.
    Exact,
    /// `-6`, `--ipv6`.
    Ipv6,
    /// `-o`, `--ops`.
    Ops,
    /// `--pe`.
    Pe,
    /// `-b`, `--sched-flags`.
    SchedFlags,
    /// `--mcast-group`.
    McastGroup,
    /// `--mcast-port`.
    McastPort,
    /// `--mcast-ttl`.
    McastTtl,
    /// `--sync-maxlen`.
    SyncMaxlen,
    /// `--tun-info`.
    TunInfo,
    /// `--tun-type`.
    TunType,
    /// `--tun-port`.
    TunPort,
    /// `--tun-nocsum`.
    TunNocsum,
    /// `--tun-csum`.
    TunCsum,
    /// `--tun-remcsum`.
    TunRemcsum,
}

/// Whether an option takes an argument (popt's ARG_NONE / ARG_STRING / ARGFLAG_OPTIONAL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// No argument; `--opt=x` is an error.
    None,
    /// An argument: `-tX`, `-t X`, `--tcp-service X`, `--tcp-service=X`.
    Required,
    /// An optional argument: taken from the same word, or from the next word unless that
    /// starts with `-`.
    Optional,
}

/// One row of the option table.
#[derive(Debug, Clone, Copy)]
pub struct OptSpec {
    /// Long name without the dashes.
    pub long: &'static str,
    /// Short letter, if any.
    pub short: Option<char>,
    /// Argument kind.
    pub arg: ArgKind,
    /// What it means.
    pub tag: Tag,
}

const fn o(long: &'static str, short: Option<char>, arg: ArgKind, tag: Tag) -> OptSpec {
    OptSpec {
        long,
        short,
        arg,
        tag,
    }
}

use ArgKind::{None as N, Optional as O, Required as R};

/// The table, in ipvsadm's order.
pub const OPTIONS: &[OptSpec] = &[
    o("add-service", Some('A'), N, Tag::AddService),
    o("edit-service", Some('E'), N, Tag::EditService),
    o("delete-service", Some('D'), N, Tag::DeleteService),
    o("clear", Some('C'), N, Tag::Clear),
    o("list", Some('L'), N, Tag::List),
    o("list", Some('l'), N, Tag::List),
    o("zero", Some('Z'), N, Tag::Zero),
    o("add-server", Some('a'), N, Tag::AddServer),
    o("edit-server", Some('e'), N, Tag::EditServer),
    o("delete-server", Some('d'), N, Tag::DeleteServer),
    o("set", None, N, Tag::Set),
    o("help", Some('h'), N, Tag::Help),
    o("version", Some('v'), N, Tag::Version),
    o("restore", Some('R'), N, Tag::Restore),
    o("save", Some('S'), N, Tag::Save),
    o("start-daemon", None, R, Tag::StartDaemon),
    o("stop-daemon", None, R, Tag::StopDaemon),
    o("tcp-service", Some('t'), R, Tag::TcpService),
    o("udp-service", Some('u'), R, Tag::UdpService),
    o("sctp-service", None, R, Tag::SctpService),
    o("fwmark-service", Some('f'), R, Tag::FwmarkService),
    o("scheduler", Some('s'), R, Tag::Scheduler),
    o("persistent", Some('p'), O, Tag::Persistent),
    o("netmask", Some('M'), R, Tag::Netmask),
    o("real-server", Some('r'), R, Tag::RealServer),
    o("masquerading", Some('m'), N, Tag::Masquerading),
    o("ipip", Some('i'), N, Tag::Ipip),
    o("gatewaying", Some('g'), N, Tag::Gatewaying),
    o("weight", Some('w'), R, Tag::Weight),
    o("u-threshold", Some('x'), R, Tag::UThreshold),
    o("l-threshold", Some('y'), R, Tag::LThreshold),
    o("numeric", Some('n'), N, Tag::Numeric),
    o("connection", Some('c'), N, Tag::Connection),
    o("mcast-interface", None, R, Tag::McastInterface),
    o("syncid", None, R, Tag::SyncId),
    o("timeout", None, N, Tag::Timeout),
    o("daemon", None, N, Tag::Daemon),
    o("stats", None, N, Tag::Stats),
    o("rate", None, N, Tag::Rate),
    o("thresholds", None, N, Tag::Thresholds),
    o("persistent-conn", None, N, Tag::PersistentConn),
    o("nosort", None, N, Tag::NoSort),
    o("sort", None, N, Tag::Sort),
    o("exact", Some('X'), N, Tag::Exact),
    o("ipv6", Some('6'), N, Tag::Ipv6),
    o("ops", Some('o'), N, Tag::Ops),
    o("pe", None, R, Tag::Pe),
    o("sched-flags", Some('b'), R, Tag::SchedFlags),
    o("mcast-group", None, R, Tag::McastGroup),
    o("mcast-port", None, R, Tag::McastPort),
    o("mcast-ttl", None, R, Tag::McastTtl),
    o("sync-maxlen", None, R, Tag::SyncMaxlen),
    o("tun-info", None, N, Tag::TunInfo),
    o("tun-type", None, R, Tag::TunType),
    o("tun-port", None, R, Tag::TunPort),
    o("tun-nocsum", None, N, Tag::TunNocsum),
    o("tun-csum", None, N, Tag::TunCsum),
    o("tun-remcsum", None, N, Tag::TunRemcsum),
];

/// The option with this long name (exact match, as popt compares).
pub fn by_long(name: &str) -> Option<&'static OptSpec> {
    OPTIONS.iter().find(|o| o.long == name)
}

/// The option with this short letter.
pub fn by_short(c: char) -> Option<&'static OptSpec> {
    OPTIONS.iter().find(|o| o.short == Some(c))
}
