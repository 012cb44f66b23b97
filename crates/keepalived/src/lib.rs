//! rvs-keepalived: keepalived's daemon for rvs — VRRP and health checks driven by
//! keepalived.conf, programming rvsd over its control socket instead of the kernel's IPVS.
//!
//! * [`cli`]: keepalived's command line and exit codes.
//! * [`daemon`]: subsystems, signals (HUP reload, TERM/INT stop, USR1/USR2 dumps).
//! * [`lvs`]: virtual servers → rvsd services; health-check pools → destinations; only
//!   differences are sent, as one all-or-nothing batch each.
//! * [`vrrp_map`]: `vrrp_instance` & co. → the VRRP crate's configuration;
//!   [`vrrp_units`]: one driver per sync group / lone instance, so a reload restarts only
//!   the units that changed.
//! * [`process`], [`logging`]: background start, PID files, keepalived-style log lines.
//!
//! If rvs-keepalived dies, rvsd keeps forwarding with the table it has; when it starts
//! again it adopts the services it finds and changes only what differs.

pub mod cli;
pub mod daemon;
pub mod logging;
pub mod lvs;
pub mod process;
pub mod vrrp_map;
pub mod vrrp_units;
