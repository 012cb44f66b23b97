//! The typed configuration: what the daemon needs, with keepalived's defaults applied.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

pub use crate::model_lvs::*;
pub use crate::model_vrrp::*;

/// A whole keepalived.conf after parsing and validation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    /// `global_defs`.
    pub global: GlobalDefs,
    /// `vrrp_script` blocks, in file order.
    pub vrrp_scripts: Vec<VrrpScript>,
    /// `vrrp_sync_group` blocks.
    pub sync_groups: Vec<SyncGroup>,
    /// `vrrp_instance` blocks.
    pub vrrp_instances: Vec<VrrpInstance>,
    /// `virtual_server_group` blocks.
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    /// `virtual_server` blocks (those keepalived keeps: a VS without real servers is dropped).
    pub virtual_servers: Vec<VirtualServer>,
}

/// A command line for a notify/check script, split like keepalived splits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The command as written (quotes removed once).
    pub command: String,
    /// argv: unquoted blanks separate words; `'…'` and `"…"` group; `\` escapes.
    pub argv: Vec<String>,
    /// User to run as, if given after the command (otherwise global `script_user`).
    pub user: Option<String>,
    /// Group to run as, if given.
    pub group: Option<String>,
}

/// `script_user USER [GROUP]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptUser {
    /// User name.
    pub user: String,
    /// Group name, if given.
    pub group: Option<String>,
}

/// `global_defs`.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalDefs {
    /// `router_id` (keepalived uses the host name when unset).
    pub router_id: Option<String>,
    /// `notification_email { … }` recipients.
    pub notification_email: Vec<String>,
    /// `notification_email_from`.
    pub notification_email_from: Option<String>,
    /// `smtp_server HOST [PORT]` (port default 25).
    pub smtp_server: Option<(String, u16)>,
    /// `smtp_helo_name`.
    pub smtp_helo_name: Option<String>,
    /// `smtp_connect_timeout` (default 30 s).
    pub smtp_connect_timeout: Duration,
    /// `smtp_alert` (unset = None).
    pub smtp_alert: Option<bool>,
    /// `smtp_alert_vrrp`.
    pub smtp_alert_vrrp: Option<bool>,
    /// `smtp_alert_checker`.
    pub smtp_alert_checker: Option<bool>,
    /// `checker_log_all_failures`.
    pub checker_log_all_failures: bool,
    /// `vrrp_mcast_group4` (224.0.0.18).
    pub vrrp_mcast_group4: Ipv4Addr,
    /// `vrrp_mcast_group6` (ff02::12).
    pub vrrp_mcast_group6: Ipv6Addr,
    /// `default_interface`.
    pub default_interface: Option<String>,
    /// `vrrp_garp_master_delay` (5 s).
    pub vrrp_garp_master_delay: Duration,
    /// `vrrp_garp_master_repeat` (5).
    pub vrrp_garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh` (0 = off).
    pub vrrp_garp_master_refresh: Duration,
    /// `vrrp_garp_master_refresh_repeat` (1).
    pub vrrp_garp_master_refresh_repeat: u32,
    /// `vrrp_garp_interval` (0).
    pub vrrp_garp_interval: Duration,
    /// `vrrp_gna_interval` (0).
    pub vrrp_gna_interval: Duration,
    /// `vrrp_version` (2).
    pub vrrp_version: u8,
    /// `vrrp_strict`.
    pub vrrp_strict: bool,
    /// `vrrp_skip_check_adv_addr`.
    pub vrrp_skip_check_adv_addr: bool,
    /// `vrrp_check_unicast_src`.
    pub vrrp_check_unicast_src: bool,
    /// `vrrp_lower_prio_no_advert`.
    pub vrrp_lower_prio_no_advert: bool,
    /// `vrrp_higher_prio_send_advert`.
    pub vrrp_higher_prio_send_advert: bool,
    /// `script_user`.
    pub script_user: Option<ScriptUser>,
    /// `enable_script_security`.
    pub enable_script_security: bool,
    /// `lvs_flush`.
    pub lvs_flush: bool,
    /// `lvs_timeouts tcp|tcpfin|udp S`.
    pub lvs_timeouts: LvsTimeouts,
    /// `dynamic_interfaces`.
    pub dynamic_interfaces: bool,
}

/// `lvs_timeouts` (None = leave the IPVS value alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LvsTimeouts {
    /// TCP established timeout.
    pub tcp: Option<Duration>,
    /// TCP FIN_WAIT timeout.
    pub tcpfin: Option<Duration>,
    /// UDP timeout.
    pub udp: Option<Duration>,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        GlobalDefs {
            router_id: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            smtp_helo_name: None,
            smtp_connect_timeout: Duration::from_secs(30),
            smtp_alert: None,
            smtp_alert_vrrp: None,
            smtp_alert_checker: None,
            checker_log_all_failures: false,
            vrrp_mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            vrrp_mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            default_interface: None,
            vrrp_garp_master_delay: Duration::from_secs(5),
            vrrp_garp_master_repeat: 5,
            vrrp_garp_master_refresh: Duration::ZERO,
            vrrp_garp_master_refresh_repeat: 1,
            vrrp_garp_interval: Duration::ZERO,
            vrrp_gna_interval: Duration::ZERO,
            vrrp_version: 2,
            vrrp_strict: false,
            vrrp_skip_check_adv_addr: false,
            vrrp_check_unicast_src: false,
            vrrp_lower_prio_no_advert: false,
            vrrp_higher_prio_send_advert: false,
            script_user: None,
            enable_script_security: false,
            lvs_flush: false,
            lvs_timeouts: LvsTimeouts::default(),
            dynamic_interfaces: false,
        }
    }
}

/// An address with a prefix length, e.g. `203.0.113.10/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefix {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length (default /32 or /128).
    pub len: u8,
}
