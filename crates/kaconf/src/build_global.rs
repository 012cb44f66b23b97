//! `global_defs { … }`.

use crate::cx::Cx;
use crate::model::{GlobalDefs, ScriptUser};
use crate::tree::Stmt;

/// keepalived 2.2.7 `global_defs` keywords that rvs accepts without using them.
const ACCEPTED: &[&str] = &[
    "process_names",
    "process_name",
    "vrrp_process_name",
    "checker_process_name",
    "lvs_process_name",
    "bfd_process_name",
    "startup_script",
    "startup_script_timeout",
    "shutdown_script",
    "shutdown_script_timeout",
    "max_auto_priority",
    "min_auto_priority_delay",
    "no_email_faults",
    "disable_local_igmp",
    "lvs_flush_on_stop",
    "lvs_flush_onstop",
    "lvs_sync_daemon",
    "vrrp_garp_lower_prio_delay",
    "vrrp_garp_lower_prio_repeat",
    "vrrp_down_timer_adverts",
    "vrrp_min_garp",
    "vrrp_garp_extra_if",
    "vrrp_vmac_garp_intvl",
    "nftables",
    "nftables_priority",
    "nftables_ifindex",
    "nftables_ipvs",
    "nftables_ipvs_priority",
    "nftables_ipvs_start_fwmark",
    "nftables_counters",
    "vrrp_priority",
    "vrrp_no_swap",
    "vrrp_rt_priority",
    "vrrp_cpu_affinity",
    "vrrp_rlimit_rttime",
    "vrrp_rlimit_rtime",
    "notify_fifo",
    "notify_fifo_script",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "vrrp_notify_priority_changes",
    "fifo_write_vrrp_states_on_reload",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "checker_priority",
    "checker_no_swap",
    "checker_rt_priority",
    "checker_cpu_affinity",
    "checker_rlimit_rttime",
    "checker_rlimit_rtime",
    "bfd_priority",
    "bfd_no_swap",
    "bfd_rt_priority",
    "bfd_cpu_affinity",
    "bfd_rlimit_rttime",
    "bfd_rlimit_rtime",
    "snmp_socket",
    "enable_traps",
    "enable_snmp_vrrp",
    "enable_snmp_keepalived",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_snmp_checker",
    "enable_dbus",
    "dbus_service_name",
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "process_monitor_rcv_bufs",
    "process_monitor_rcv_bufs_force",
    "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force",
    "rs_init_notifies",
    "no_checker_emails",
    "vrrp_rx_bufs_policy",
    "vrrp_rx_bufs_multiplier",
    "vrrp_startup_delay",
    "log_unknown_vrids",
    "vmac_prefix",
    "vmac_addr_prefix",
    "umask",
    "random_seed",
    "reload_check_config",
    "reload_time_file",
    "reload_repeat",
    "reload_file",
    "include_check",
    "config_save_dir",
    "tmp_config_directory",
    "data_use_instance",
    "vrrp_ipsets",
    "vrrp_iptables",
];

/// Builds `global_defs` (later blocks override earlier ones key by key, as in keepalived).
pub fn build(cx: &mut Cx<'_>, st: &Stmt, g: &mut GlobalDefs) {
    for s in cx.body(st) {
        match s.name() {
            "router_id" => match s.arg(0) {
                Some(t) => g.router_id = Some(t.text.clone()),
                None => cx.warn(s.loc, "routerid name missing - ignoring"),
            },
            "notification_email" => {
                for line in cx.body(s) {
                    g.notification_email
                        .extend(line.words().map(|t| t.text.clone()));
                }
            }
            "notification_email_from" => g.notification_email_from = cx.text(s, 0),
            "smtp_server" => {
                if let Some(host) = cx.text(s, 0) {
                    let port = if s.arg(1).is_some() {
                        cx.port(s, 1).unwrap_or(25)
                    } else {
                        25
                    };
                    g.smtp_server = Some((host, port));
                }
            }
            "smtp_helo_name" => g.smtp_helo_name = cx.text(s, 0),
            "smtp_connect_timeout" => {
                if let Some(v) = cx.need_uint(s, 0, 1, u32::MAX as u64) {
                    g.smtp_connect_timeout = std::time::Duration::from_secs(v);
                }
            }
            "smtp_alert" => g.smtp_alert = Some(cx.flag(s)),
            "smtp_alert_vrrp" => g.smtp_alert_vrrp = Some(cx.flag(s)),
            "smtp_alert_checker" => g.smtp_alert_checker = Some(cx.flag(s)),
            "checker_log_all_failures" => g.checker_log_all_failures = cx.flag(s),
            "vrrp_mcast_group4" => match cx.ip(s, 0) {
                Some(std::net::IpAddr::V4(a)) => g.vrrp_mcast_group4 = a,
                Some(_) => cx.error(s.arg_loc(0), "vrrp_mcast_group4 needs an IPv4 address"),
                None => {}
            },
            "vrrp_mcast_group6" => match cx.ip(s, 0) {
                Some(std::net::IpAddr::V6(a)) => g.vrrp_mcast_group6 = a,
                Some(_) => cx.error(s.arg_loc(0), "vrrp_mcast_group6 needs an IPv6 address"),
                None => {}
            },
            "default_interface" => g.default_interface = cx.text(s, 0),
            "vrrp_garp_master_delay" => {
                if let Some(v) = cx.need_uint(s, 0, 0, 86400) {
                    g.vrrp_garp_master_delay = std::time::Duration::from_secs(v);
                }
            }
            "vrrp_garp_master_repeat" => {
                if let Some(v) = cx.need_uint(s, 0, 0, u32::MAX as u64) {
                    g.vrrp_garp_master_repeat = v as u32;
                }
            }
            "vrrp_garp_master_refresh" => {
                if let Some(v) = cx.need_uint(s, 0, 0, u32::MAX as u64) {
                    g.vrrp_garp_master_refresh = std::time::Duration::from_secs(v);
                }
            }
            "vrrp_garp_master_refresh_repeat" => {
                if let Some(v) = cx.need_uint(s, 0, 0, u32::MAX as u64) {
                    g.vrrp_garp_master_refresh_repeat = v as u32;
                }
            }
            "vrrp_garp_interval" => {
                if let Some(d) = cx.timer(s, 0, 1) {
                    g.vrrp_garp_interval = d;
                }
            }
            "vrrp_gna_interval" => {
                if let Some(d) = cx.timer(s, 0, 1) {
                    g.vrrp_gna_interval = d;
                }
            }
            "vrrp_version" => {
                if let Some(v) = cx.need_uint(s, 0, 2, 3) {
                    g.vrrp_version = v as u8;
                }
            }
            "vrrp_strict" => g.vrrp_strict = true,
            "vrrp_skip_check_adv_addr" => g.vrrp_skip_check_adv_addr = cx.flag(s),
            "vrrp_check_unicast_src" => g.vrrp_check_unicast_src = true,
            "vrrp_lower_prio_no_advert" => g.vrrp_lower_prio_no_advert = cx.flag(s),
            "vrrp_higher_prio_send_advert" => g.vrrp_higher_prio_send_advert = cx.flag(s),
            "script_user" => {
                if let Some(user) = cx.text(s, 0) {
                    let group = s.arg(1).map(|t| t.text.trim_start_matches(':').to_string());
                    g.script_user = Some(ScriptUser { user, group });
                }
            }
            "enable_script_security" => g.enable_script_security = true,
            "lvs_flush" => g.lvs_flush = true,
            "lvs_timeouts" => {
                let mut i = 0;
                while let Some(k) = s.arg(i).map(|t| t.text.clone()) {
                    let d = cx.timer(s, i + 1, 86400 * 365);
                    match k.as_str() {
                        "tcp" => g.lvs_timeouts.tcp = d,
                        "tcpfin" => g.lvs_timeouts.tcpfin = d,
                        "udp" => g.lvs_timeouts.udp = d,
                        _ => cx.warn(
                            s.arg_loc(i),
                            format!("Unknown option {k} specified for lvs_timeouts"),
                        ),
                    }
                    i += 2;
                }
            }
            "dynamic_interfaces" => g.dynamic_interfaces = true,
            name if ACCEPTED.contains(&name) => {
                cx.note(
                    s.loc,
                    format!("'{name}' is accepted but not used by rvs-keepalived"),
                );
            }
            _ => cx.unknown(s, "global_defs", Some(st)),
        }
    }
}
