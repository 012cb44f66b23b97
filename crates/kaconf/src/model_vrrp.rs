//! Typed VRRP configuration: instances, sync groups, scripts, addresses.

use std::net::IpAddr;
use std::time::Duration;

use crate::model::{Prefix, Script};
use crate::tree::Loc;

/// Initial state of an instance (`state MASTER|BACKUP`); `rvs-vrrp` uses this type too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VrrpState {
    /// `state MASTER`: only an address owner (priority 255) becomes master at once.
    Master,
    /// `state BACKUP`.
    Backup,
}

/// `authentication { auth_type …; auth_pass … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    /// PASS or AH.
    pub kind: AuthType,
    /// The password, at most 8 bytes (longer is truncated, as keepalived does).
    pub pass: Vec<u8>,
}

/// VRRPv2 authentication types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    /// Simple text password.
    Pass,
    /// IPsec AH.
    Ah,
}

/// One line of `virtual_ipaddress` / `virtual_ipaddress_excluded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualIp {
    /// Address and prefix (default /32 or /128).
    pub prefix: Prefix,
    /// `brd ADDR`.
    pub broadcast: Option<IpAddr>,
    /// `dev IF` (default: the instance's interface).
    pub dev: Option<String>,
    /// `scope site|link|host|nowhere|global`.
    pub scope: Option<String>,
    /// `label IF:LABEL`.
    pub label: Option<String>,
    /// `peer ADDR`.
    pub peer: Option<IpAddr>,
    /// `no_track`.
    pub no_track: bool,
    /// Where it was written.
    pub loc: Loc,
}

/// One line of `virtual_routes` (parsed; applied by the daemon if it supports routes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualRoute {
    /// Destination prefix.
    pub to: Prefix,
    /// `src ADDR`.
    pub src: Option<IpAddr>,
    /// `via|gw ADDR`.
    pub via: Option<IpAddr>,
    /// `dev IF`.
    pub dev: Option<String>,
    /// `table N`.
    pub table: Option<u32>,
    /// `metric N`.
    pub metric: Option<u32>,
    /// `blackhole`, `unreachable`, `prohibit` …, if the route is of such a type.
    pub kind: Option<String>,
    /// Everything else on the line, kept for the daemon.
    pub options: Vec<String>,
}

/// One `track_interface` entry; `rvs-vrrp` uses this type too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInterface {
    /// Interface name.
    pub name: String,
    /// Weight: 0 = FAULT while down; > 0 added while up; < 0 added while down.
    pub weight: i32,
    /// `reverse`: the weight counts the other way round.
    pub reverse: bool,
}

/// One `track_script` entry; `rvs-vrrp` uses this type too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackScript {
    /// Name of the `vrrp_script`.
    pub name: String,
    /// Weight override (None: the script's own weight).
    pub weight: Option<i32>,
    /// `reverse`.
    pub reverse: bool,
}

/// One `unicast_peer` line; `rvs-vrrp` uses this type too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnicastPeer {
    /// Peer address.
    pub addr: IpAddr,
    /// `min_ttl N`: adverts from this peer below it are dropped.
    pub min_ttl: Option<u8>,
    /// `max_ttl N`: adverts from this peer above it are dropped.
    pub max_ttl: Option<u8>,
}

/// notify scripts of an instance or sync group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notify {
    /// `notify_master`.
    pub master: Option<Script>,
    /// `notify_backup`.
    pub backup: Option<Script>,
    /// `notify_fault`.
    pub fault: Option<Script>,
    /// `notify_stop`.
    pub stop: Option<Script>,
    /// `notify_deleted`.
    pub deleted: Option<Script>,
    /// `notify` (any transition; gets TYPE NAME STATE PRIORITY appended).
    pub any: Option<Script>,
}

impl Notify {
    /// All configured scripts.
    pub fn scripts(&self) -> impl Iterator<Item = &Script> {
        [
            &self.master,
            &self.backup,
            &self.fault,
            &self.stop,
            &self.deleted,
            &self.any,
        ]
        .into_iter()
        .flatten()
    }
}

/// `use_vmac [NAME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vmac {
    /// Interface name (default `vrrp.<VRID>`).
    pub name: Option<String>,
    /// `vmac_xmit_base`.
    pub xmit_base: bool,
}

/// `vrrp_instance NAME { … }` with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpInstance {
    /// Instance name.
    pub name: String,
    /// Initial state (derived from priority when not configured).
    pub state: VrrpState,
    /// `interface`.
    pub interface: Option<String>,
    /// `virtual_router_id` 1..255 (0 when missing, which is an error).
    pub virtual_router_id: u8,
    /// `priority` 1..255 (default 100; 255 if `state MASTER` and no priority).
    pub priority: u8,
    /// `advert_int` (default 1 s; v2 whole seconds, v3 centiseconds).
    pub advert_int: Duration,
    /// VRRP version (instance `version`, else global `vrrp_version`; IPv6 forces 3).
    pub version: u8,
    /// `authentication` (v2 only).
    pub authentication: Option<Authentication>,
    /// `virtual_ipaddress`.
    pub virtual_ipaddresses: Vec<VirtualIp>,
    /// `virtual_ipaddress_excluded`.
    pub virtual_ipaddresses_excluded: Vec<VirtualIp>,
    /// `virtual_routes`.
    pub virtual_routes: Vec<VirtualRoute>,
    /// `track_interface`.
    pub track_interfaces: Vec<TrackInterface>,
    /// `track_script`.
    pub track_scripts: Vec<TrackScript>,
    /// `unicast_src_ip`.
    pub unicast_src_ip: Option<IpAddr>,
    /// `unicast_peer`.
    pub unicast_peers: Vec<UnicastPeer>,
    /// `mcast_src_ip`.
    pub mcast_src_ip: Option<IpAddr>,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `preempt_delay` (0..1000 s).
    pub preempt_delay: Duration,
    /// `garp_master_delay` (global default).
    pub garp_master_delay: Duration,
    /// `garp_master_repeat` (global default).
    pub garp_master_repeat: u32,
    /// `garp_master_refresh` (global default; 0 = off).
    pub garp_master_refresh: Duration,
    /// `garp_master_refresh_repeat`.
    pub garp_master_refresh_repeat: u32,
    /// notify scripts.
    pub notify: Notify,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `native_ipv6`.
    pub native_ipv6: bool,
    /// `use_vmac`.
    pub use_vmac: Option<Vmac>,
    /// `dont_track_primary`.
    pub dont_track_primary: bool,
    /// `accept` (true) / `no_accept` (false).
    pub accept: bool,
    /// `down_timer_adverts` (3).
    pub down_timer_adverts: u32,
    /// `unicast_ttl` (255).
    pub unicast_ttl: u8,
    /// `check_unicast_src`.
    pub check_unicast_src: bool,
    /// Where the block starts.
    pub loc: Loc,
}

/// `vrrp_script NAME { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpScript {
    /// Name used by `track_script`.
    pub name: String,
    /// The command (required).
    pub script: Option<Script>,
    /// `interval` (1 s).
    pub interval: Duration,
    /// `timeout` (default = interval).
    pub timeout: Duration,
    /// `weight` −253..253 (0).
    pub weight: i32,
    /// `weight … reverse`.
    pub reverse: bool,
    /// `rise` (1).
    pub rise: u32,
    /// `fall` (1).
    pub fall: u32,
    /// `user USER [GROUP]`.
    pub user: Option<(String, Option<String>)>,
    /// `init_fail`.
    pub init_fail: bool,
    /// Where the block starts.
    pub loc: Loc,
}

/// `vrrp_sync_group NAME { … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroup {
    /// Group name.
    pub name: String,
    /// Member instance names.
    pub members: Vec<String>,
    /// notify scripts.
    pub notify: Notify,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `track_interface` of the group.
    pub track_interfaces: Vec<TrackInterface>,
    /// `track_script` of the group.
    pub track_scripts: Vec<TrackScript>,
    /// `sync_group_tracking_weight`.
    pub sync_group_tracking_weight: bool,
    /// Where the block starts.
    pub loc: Loc,
}
