//! Typed LVS configuration: virtual servers, groups, real servers and health checkers.

use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::time::Duration;

use crate::model::Script;
use crate::tree::Loc;

/// How a virtual server is identified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VsKey {
    /// `virtual_server IP PORT`.
    Addr {
        /// VIP.
        addr: IpAddr,
        /// Port (0 = all ports, persistent services only).
        port: u16,
    },
    /// `virtual_server fwmark N`.
    Fwmark(u32),
    /// `virtual_server group NAME`.
    Group(String),
}

/// Transport protocol of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP (keepalived's default when none is set for an address-based service).
    Udp,
    /// SCTP.
    Sctp,
}

/// Tunnel encapsulation for TUN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelType {
    /// IP-in-IP (default).
    Ipip,
    /// GUE on a UDP port.
    Gue(u16),
    /// GRE.
    Gre,
}

/// Forwarding method (`lb_kind` / `lvs_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForwardingMethod {
    /// Masquerading (keepalived's default).
    Nat,
    /// Direct routing.
    Dr,
    /// IP tunnelling.
    Tun(TunnelType),
}

/// The IPVS schedulers keepalived accepts.
pub const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf", "twos",
];

/// Scheduler flags (`-b`) and one-packet scheduling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SchedFlags {
    /// `flag-1` (`sh-fallback`, `mh-fallback`).
    pub flag1: bool,
    /// `flag-2` (`sh-port`, `mh-port`).
    pub flag2: bool,
    /// `flag-3`.
    pub flag3: bool,
    /// `ops`.
    pub ops: bool,
}

/// Persistence (`persistence_timeout`, `persistence_granularity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persistence {
    /// Timeout (keyword without value: 360 s).
    pub timeout: Duration,
    /// Netmask / IPv6 prefix length.
    pub granularity: Option<IpAddr>,
}

/// `sorry_server IP PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SorryServer {
    /// Address.
    pub addr: IpAddr,
    /// Port (0 = the service's port).
    pub port: u16,
    /// Forwarding method (`sorry_server_lvs_method`, else the service's).
    pub method: ForwardingMethod,
    /// `sorry_server_inhibit`.
    pub inhibit: bool,
}

/// Settings shared by VS, RS and checkers, inherited downwards (VS → RS → checker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckTiming {
    /// `delay_loop` (60 s).
    pub delay_loop: Duration,
    /// `connect_timeout` (5 s).
    pub connect_timeout: Duration,
    /// `retry` / `nb_get_retry` (per checker: 1, DNS 3, MISC 0).
    pub retry: u32,
    /// `delay_before_retry` (per checker: 1 s, HTTP/SSL 3 s, DNS = delay_loop).
    pub delay_before_retry: Duration,
    /// `warmup` (default = delay_loop; the first check waits a random part of it).
    pub warmup: Duration,
    /// `alpha`: start as failed until the first success.
    pub alpha: bool,
}

/// `virtual_server … { … }` with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualServer {
    /// Address/port, fwmark or group.
    pub key: VsKey,
    /// `protocol` (UDP when unset for an address-based service, as keepalived does).
    pub protocol: Protocol,
    /// `lb_algo` / `lvs_sched` (wlc).
    pub scheduler: String,
    /// Scheduler flags.
    pub flags: SchedFlags,
    /// `lb_kind` / `lvs_method` (NAT).
    pub method: ForwardingMethod,
    /// Persistence, if any.
    pub persistence: Option<Persistence>,
    /// `persistence_engine`.
    pub persistence_engine: Option<String>,
    /// `ha_suspend`.
    pub ha_suspend: bool,
    /// `virtualhost` (HTTP Host default).
    pub virtualhost: Option<String>,
    /// `omega`.
    pub omega: bool,
    /// `quorum` (1).
    pub quorum: u32,
    /// `hysteresis` (0).
    pub hysteresis: u32,
    /// `quorum_up`.
    pub quorum_up: Option<Script>,
    /// `quorum_down`.
    pub quorum_down: Option<Script>,
    /// `sorry_server`.
    pub sorry_server: Option<SorryServer>,
    /// `inhibit_on_failure` (default for real servers).
    pub inhibit_on_failure: bool,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `ip_family inet|inet6` for fwmark services.
    pub ip_family: Option<String>,
    /// Timing defaults handed to real servers.
    pub delay_loop: Duration,
    /// `connect_timeout` default for checkers.
    pub connect_timeout: Duration,
    /// Real servers.
    pub real_servers: Vec<RealServer>,
    /// Where the block starts.
    pub loc: Loc,
}

/// `real_server IP PORT { … }` with VS defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct RealServer {
    /// Address.
    pub addr: IpAddr,
    /// Port (set to the VS port when 0 and not fwmark).
    pub port: u16,
    /// `weight` (1).
    pub weight: i32,
    /// Forwarding method (`lvs_method`, else the VS's).
    pub method: ForwardingMethod,
    /// `uthreshold` (`-x`).
    pub uthreshold: Option<u32>,
    /// `lthreshold` (`-y`).
    pub lthreshold: Option<u32>,
    /// `inhibit_on_failure`.
    pub inhibit_on_failure: bool,
    /// `notify_up`.
    pub notify_up: Option<Script>,
    /// `notify_down`.
    pub notify_down: Option<Script>,
    /// `smtp_alert` (default true, as keepalived keeps for compatibility).
    pub smtp_alert: bool,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// Health checkers; an RS without checkers is always up.
    pub checkers: Vec<Checker>,
    /// Where the block starts.
    pub loc: Loc,
}

/// One health checker with inherited timing resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Checker {
    /// What to check.
    pub kind: CheckerKind,
    /// `connect_ip` (default RIP).
    pub connect_ip: Option<IpAddr>,
    /// `connect_port` (default RS port).
    pub connect_port: Option<u16>,
    /// `bindto`.
    pub bindto: Option<IpAddr>,
    /// `bind_port`.
    pub bind_port: Option<u16>,
    /// `bind_if`.
    pub bind_if: Option<String>,
    /// `fwmark` (SO_MARK on check packets).
    pub fwmark: Option<u32>,
    /// Resolved timing.
    pub timing: CheckTiming,
    /// `log_all_failures`.
    pub log_all_failures: bool,
    /// Where the block starts.
    pub loc: Loc,
}

/// The checker types.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckerKind {
    /// `TCP_CHECK`: connect succeeds.
    Tcp,
    /// `HTTP_GET` / `SSL_GET`.
    Http(HttpCheck),
    /// `MISC_CHECK`.
    Misc(MiscCheck),
    /// `DNS_CHECK`.
    Dns(DnsCheck),
    /// `UDP_CHECK`.
    Udp(UdpCheck),
    /// `PING_CHECK`.
    Ping,
    /// `SMTP_CHECK`.
    Smtp {
        /// `helo_name` (default `smtpchecker.keepalived.org`).
        helo_name: String,
    },
}

/// `HTTP_GET` / `SSL_GET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    /// True for `SSL_GET`.
    pub tls: bool,
    /// `url` blocks; all must pass.
    pub urls: Vec<UrlCheck>,
    /// `virtualhost` of the checker.
    pub virtualhost: Option<String>,
    /// `http_protocol` (1.0, 1.0C, 1.1).
    pub http_protocol: Option<String>,
    /// `enable_sni`.
    pub enable_sni: bool,
    /// `fast_recovery`.
    pub fast_recovery: bool,
}

/// One `url { … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlCheck {
    /// `path`.
    pub path: String,
    /// `digest` (MD5 of the body).
    pub digest: Option<[u8; 16]>,
    /// `status_code` ranges (default 200-299).
    pub status_codes: Vec<RangeInclusive<u16>>,
    /// `virtualhost` of this url.
    pub virtualhost: Option<String>,
    /// `regex`.
    pub regex: Option<String>,
    /// `regex_no_match`.
    pub regex_no_match: bool,
}

/// `MISC_CHECK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiscCheck {
    /// `misc_path`.
    pub path: Option<Script>,
    /// `misc_timeout` (default = delay_loop).
    pub timeout: Duration,
    /// `misc_dynamic`: exit status 2..255 sets the weight to status − 2.
    pub dynamic: bool,
    /// `user USER [GROUP]`.
    pub user: Option<(String, Option<String>)>,
}

/// DNS query types DNS_CHECK can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsType {
    /// A.
    A,
    /// NS.
    Ns,
    /// CNAME.
    Cname,
    /// SOA (default).
    Soa,
    /// MX.
    Mx,
    /// TXT.
    Txt,
    /// AAAA.
    Aaaa,
}

/// `DNS_CHECK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsCheck {
    /// `type` (SOA).
    pub qtype: DnsType,
    /// `name` (".").
    pub name: String,
}

/// `UDP_CHECK`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UdpCheck {
    /// `payload HEX` (random when unset).
    pub payload: Option<Vec<u8>>,
    /// `require_reply [HEX]`: Some(empty) = any reply.
    pub require_reply: Option<Vec<u8>>,
    /// `min_reply_length` (0).
    pub min_reply_length: u32,
    /// `max_reply_length` (255).
    pub max_reply_length: u32,
}

/// `virtual_server_group NAME { … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServerGroup {
    /// Group name.
    pub name: String,
    /// Members.
    pub entries: Vec<VsgEntry>,
    /// Where the block starts.
    pub loc: Loc,
}

/// One member of a virtual server group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VsgEntry {
    /// An address range (`IP`, `IP-LAST`, `IP-IP`, `IP/LEN`) and port.
    Range {
        /// First address.
        first: IpAddr,
        /// Last address (= first for one address).
        last: IpAddr,
        /// Port (0 = any).
        port: u16,
    },
    /// `fwmark N`.
    Fwmark(u32),
}
