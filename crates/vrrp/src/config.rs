//! The plain configuration the engine and the driver are built from.
//!
//! Field names mirror `rvs-kaconf`'s typed keepalived.conf model (`vrrp_instance`,
//! `vrrp_script`, `vrrp_sync_group`) so the daemon maps one onto the other field by field.
//! The leaf types that are the same in both (the initial state, tracked interfaces and
//! scripts, unicast peers) are the model's own, from `rvs-kaconf` (which depends on nothing);
//! the rest differs on purpose: the model keeps what was written and where, this is the
//! validated form the engine runs. [`Config::validate`] applies keepalived's own corrections
//! (with a warning each) and rejects what keepalived rejects.

use std::net::IpAddr;
use std::time::Duration;

pub use rvs_kaconf::{TrackInterface, TrackScript, UnicastPeer, VrrpState as InitialState};

use crate::error::ConfigError;
use crate::packet::{AUTH_LEN, MAX_V3_INTERVAL_CS, PRIORITY_OWNER, Version};

/// Everything one VRRP process runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// `vrrp_instance` blocks.
    pub instances: Vec<InstanceConfig>,
    /// `vrrp_script` blocks (only those referenced by a `track_script` are run).
    pub scripts: Vec<ScriptConfig>,
    /// `vrrp_sync_group` blocks.
    pub sync_groups: Vec<SyncGroupConfig>,
}

/// A command line to run (notify or check script).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// argv; `argv[0]` is the program.
    pub argv: Vec<String>,
    /// User to run as (None: the daemon's user).
    pub user: Option<String>,
    /// Group to run as.
    pub group: Option<String>,
}

/// notify scripts of an instance or a sync group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notify {
    /// `notify_master`.
    pub master: Option<Script>,
    /// `notify_backup`.
    pub backup: Option<Script>,
    /// `notify_fault`.
    pub fault: Option<Script>,
    /// `notify_stop`.
    pub stop: Option<Script>,
    /// `notify`: run on every transition with `INSTANCE|GROUP NAME STATE PRIORITY` appended.
    pub any: Option<Script>,
}

/// One `virtual_ipaddress` / `virtual_ipaddress_excluded` line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VirtualIp {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length (keepalived's default: 32 / 128).
    pub prefix_len: u8,
    /// `brd ADDR` (IPv4).
    pub broadcast: Option<IpAddr>,
    /// `dev IF` (None: the instance's interface).
    pub dev: Option<String>,
    /// `scope site|link|host|nowhere|global`.
    pub scope: Option<String>,
    /// `label IF:LABEL`.
    pub label: Option<String>,
}

impl VirtualIp {
    /// A host address (/32 or /128) on the instance's interface.
    pub fn host(addr: IpAddr) -> VirtualIp {
        VirtualIp {
            addr,
            prefix_len: if addr.is_ipv4() { 32 } else { 128 },
            broadcast: None,
            dev: None,
            scope: None,
            label: None,
        }
    }
}

/// `vrrp_instance NAME { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceConfig {
    /// Instance name.
    pub name: String,
    /// `state`.
    pub state: InitialState,
    /// `interface`.
    pub interface: String,
    /// `virtual_router_id` (1–255).
    pub virtual_router_id: u8,
    /// `priority` (1–255; 255 = address owner).
    pub priority: u8,
    /// `advert_int` (v2: whole seconds 1–255; v3: 10 ms steps up to 40.95 s).
    pub advert_int: Duration,
    /// `version`.
    pub version: Version,
    /// `authentication { auth_type PASS; auth_pass … }`: the password (v2 only).
    pub auth_pass: Option<Vec<u8>>,
    /// `virtual_ipaddress` (carried in adverts).
    pub virtual_ipaddresses: Vec<VirtualIp>,
    /// `virtual_ipaddress_excluded` (added/removed with the VIPs, not advertised).
    pub virtual_ipaddresses_excluded: Vec<VirtualIp>,
    /// `track_interface`.
    pub track_interfaces: Vec<TrackInterface>,
    /// `track_script`.
    pub track_scripts: Vec<TrackScript>,
    /// `unicast_src_ip`.
    pub unicast_src_ip: Option<IpAddr>,
    /// `unicast_peer` (non-empty: unicast mode).
    pub unicast_peers: Vec<UnicastPeer>,
    /// `mcast_src_ip`.
    pub mcast_src_ip: Option<IpAddr>,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `preempt_delay`.
    pub preempt_delay: Duration,
    /// `garp_master_delay`: second announcement burst after becoming master (0 = none).
    pub garp_master_delay: Duration,
    /// `garp_master_repeat`: announcements per address per burst.
    pub garp_master_repeat: u32,
    /// `garp_master_refresh`: periodic announcements while master (0 = off).
    pub garp_master_refresh: Duration,
    /// `garp_master_refresh_repeat`.
    pub garp_master_refresh_repeat: u32,
    /// notify scripts.
    pub notify: Notify,
    /// `dont_track_primary`: the instance's own interface going down is no fault.
    pub dont_track_primary: bool,
    /// `down_timer_adverts` (3): adverts missed before the master is declared down.
    pub down_timer_adverts: u32,
    /// `unicast_ttl` (255).
    pub unicast_ttl: u8,
    /// `check_unicast_src`: accept unicast adverts from listed peers only.
    pub check_unicast_src: bool,
    /// `lower_prio_no_advert`: don't answer a lower-priority advert with our own.
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`: send one more advert before yielding to a higher one.
    pub higher_prio_send_advert: bool,
}

impl InstanceConfig {
    /// An instance with keepalived's defaults (priority 100, 1 s, v2, 5 GARPs now and 5
    /// after 5 s).
    pub fn new(name: &str, interface: &str, vrid: u8) -> InstanceConfig {
        InstanceConfig {
            name: name.to_string(),
            state: InitialState::Backup,
            interface: interface.to_string(),
            virtual_router_id: vrid,
            priority: 100,
            advert_int: Duration::from_secs(1),
            version: Version::V2,
            auth_pass: None,
            virtual_ipaddresses: Vec::new(),
            virtual_ipaddresses_excluded: Vec::new(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            unicast_src_ip: None,
            unicast_peers: Vec::new(),
            mcast_src_ip: None,
            nopreempt: false,
            preempt_delay: Duration::ZERO,
            garp_master_delay: Duration::from_secs(5),
            garp_master_repeat: 5,
            garp_master_refresh: Duration::ZERO,
            garp_master_refresh_repeat: 1,
            notify: Notify::default(),
            dont_track_primary: false,
            down_timer_adverts: 3,
            unicast_ttl: 255,
            check_unicast_src: false,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
        }
    }

    /// Whether the instance runs over IPv6 (from its first VIP, else its source address).
    pub fn is_ipv6(&self) -> bool {
        self.virtual_ipaddresses
            .first()
            .map(|v| v.addr)
            .or(self.unicast_src_ip)
            .or(self.mcast_src_ip)
            .or(self.unicast_peers.first().map(|p| p.addr))
            .is_some_and(|a| a.is_ipv6())
    }

    /// The advert interval field: seconds (v2) or centiseconds (v3).
    pub fn adver_int_field(&self) -> u16 {
        match self.version {
            Version::V2 => u16::try_from(self.advert_int.as_secs()).unwrap_or(u16::MAX),
            Version::V3 => u16::try_from(self.advert_int.as_millis() / 10).unwrap_or(u16::MAX),
        }
    }
}

/// `vrrp_script NAME { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptConfig {
    /// Name used by `track_script`.
    pub name: String,
    /// The command.
    pub script: Script,
    /// `interval` (1 s).
    pub interval: Duration,
    /// `timeout` (default = interval); a timeout counts as a failure.
    pub timeout: Duration,
    /// `weight` (−253..253).
    pub weight: i32,
    /// `weight … reverse`.
    pub reverse: bool,
    /// `rise`: consecutive successes to go up.
    pub rise: u32,
    /// `fall`: consecutive failures to go down.
    pub fall: u32,
    /// `init_fail`: start down.
    pub init_fail: bool,
}

impl ScriptConfig {
    /// A script with keepalived's defaults (1 s, weight 0, rise 1, fall 1).
    pub fn new(name: &str, argv: &[&str]) -> ScriptConfig {
        ScriptConfig {
            name: name.to_string(),
            script: Script {
                argv: argv.iter().map(|s| s.to_string()).collect(),
                user: None,
                group: None,
            },
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            weight: 0,
            reverse: false,
            rise: 1,
            fall: 1,
            init_fail: false,
        }
    }
}

/// `vrrp_sync_group NAME { … }`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncGroupConfig {
    /// Group name.
    pub name: String,
    /// Member instance names.
    pub members: Vec<String>,
    /// notify scripts (`notify` gets `GROUP NAME STATE 0`).
    pub notify: Notify,
    /// `track_interface` of the group (applies to every member).
    pub track_interfaces: Vec<TrackInterface>,
    /// `track_script` of the group (applies to every member).
    pub track_scripts: Vec<TrackScript>,
}

/// A correction keepalived would make, with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The instance (or group / script) concerned.
    pub name: String,
    /// What was changed and why.
    pub message: String,
}

impl Config {
    /// Applies keepalived's corrections in place and returns them as warnings; errors on
    /// what keepalived refuses to run.
    pub fn validate(&mut self) -> Result<Vec<Warning>, ConfigError> {
        let mut warnings = Vec::new();
        let mut warn = |name: &str, message: &str| {
            warnings.push(Warning {
                name: name.to_string(),
                message: message.to_string(),
            })
        };
        for inst in self.instances.iter_mut() {
            let name = inst.name.clone();
            let bad = |reason: String| ConfigError::Instance {
                name: name.clone(),
                reason,
            };
            if inst.virtual_router_id == 0 {
                return Err(bad("virtual_router_id must be 1..255".into()));
            }
            if inst.priority == 0 {
                return Err(bad("priority must be 1..255".into()));
            }
            if inst.interface.is_empty() {
                return Err(bad("no interface".into()));
            }
            let v6 = inst.is_ipv6();
            if v6 && inst.version == Version::V2 {
                warn(&name, "IPv6 needs VRRP version 3 - using version 3");
                inst.version = Version::V3;
            }
            let family_ok = inst
                .virtual_ipaddresses
                .iter()
                .all(|v| v.addr.is_ipv6() == v6)
                && inst.unicast_peers.iter().all(|p| p.addr.is_ipv6() == v6)
                && [inst.unicast_src_ip, inst.mcast_src_ip]
                    .iter()
                    .flatten()
                    .all(|a| a.is_ipv6() == v6);
            if !family_ok {
                return Err(bad("addresses of both families in one instance".into()));
            }
            match inst.version {
                Version::V2 => {
                    let ms = inst.advert_int.as_millis();
                    if ms % 1000 != 0 {
                        let secs = ((ms + 500) / 1000).max(1);
                        warn(&name, "VRRPv2 advert_int must be whole seconds - rounding");
                        inst.advert_int = Duration::from_secs(secs as u64);
                    }
                    if inst.advert_int.as_secs() == 0 || inst.advert_int.as_secs() > 255 {
                        return Err(bad("VRRPv2 advert_int must be 1..255 seconds".into()));
                    }
                }
                Version::V3 => {
                    let cs = inst.advert_int.as_millis() / 10;
                    if cs == 0 || cs > u128::from(MAX_V3_INTERVAL_CS) {
                        return Err(bad("VRRPv3 advert_int must be 0.01..40.95 s".into()));
                    }
                    inst.advert_int = Duration::from_millis(cs as u64 * 10);
                    if inst.auth_pass.is_some() {
                        warn(
                            &name,
                            "VRRP version 3 does not support authentication. Ignoring.",
                        );
                        inst.auth_pass = None;
                    }
                }
            }
            if let Some(p) = &mut inst.auth_pass
                && p.len() > AUTH_LEN
            {
                warn(&name, "auth_pass longer than 8 characters - truncating");
                p.truncate(AUTH_LEN);
            }
            if inst.nopreempt && inst.priority == PRIORITY_OWNER {
                warn(
                    &name,
                    "nopreempt is incompatible with priority 255 - resetting nopreempt",
                );
                inst.nopreempt = false;
            }
            if inst.nopreempt && inst.state == InitialState::Master {
                warn(
                    &name,
                    "Warning - nopreempt will not work with initial state MASTER - clearing",
                );
                inst.nopreempt = false;
            }
            if !inst.preempt_delay.is_zero() {
                if inst.nopreempt {
                    warn(
                        &name,
                        "preempt_delay is incompatible with nopreempt mode - resetting",
                    );
                    inst.preempt_delay = Duration::ZERO;
                } else if inst.state == InitialState::Master {
                    warn(
                        &name,
                        "preempt_delay will not work with initial state MASTER - clearing",
                    );
                    inst.preempt_delay = Duration::ZERO;
                }
            }
            if inst.down_timer_adverts == 0 || inst.down_timer_adverts > 100 {
                return Err(bad("down_timer_adverts must be 1..100".into()));
            }
            if inst.garp_master_repeat == 0 {
                inst.garp_master_repeat = 1;
            }
        }
        for (i, inst) in self.instances.iter().enumerate() {
            let bad = |reason: String| ConfigError::Instance {
                name: inst.name.clone(),
                reason,
            };
            if let Some(other) = self.instances_clash(i, inst) {
                return Err(bad(format!(
                    "VRID {} on {} is also used by instance {other}",
                    inst.virtual_router_id, inst.interface
                )));
            }
            for ts in &inst.track_scripts {
                if !self.scripts.iter().any(|s| s.name == ts.name) {
                    return Err(bad(format!(
                        "track_script {} is not a vrrp_script",
                        ts.name
                    )));
                }
            }
        }
        for s in &self.scripts {
            if s.script.argv.is_empty() {
                return Err(ConfigError::Script {
                    name: s.name.clone(),
                    reason: "no command".into(),
                });
            }
            if s.rise == 0 || s.fall == 0 {
                return Err(ConfigError::Script {
                    name: s.name.clone(),
                    reason: "rise and fall must be at least 1".into(),
                });
            }
        }
        for g in &self.sync_groups {
            for m in &g.members {
                let count = self.instances.iter().filter(|i| &i.name == m).count();
                if count != 1 {
                    return Err(ConfigError::SyncGroup {
                        name: g.name.clone(),
                        reason: format!("member {m} is not a vrrp_instance"),
                    });
                }
                let groups = self
                    .sync_groups
                    .iter()
                    .filter(|o| o.members.contains(m))
                    .count();
                if groups > 1 {
                    return Err(ConfigError::SyncGroup {
                        name: g.name.clone(),
                        reason: format!("instance {m} is in more than one sync group"),
                    });
                }
            }
            for ts in &g.track_scripts {
                if !self.scripts.iter().any(|s| s.name == ts.name) {
                    return Err(ConfigError::SyncGroup {
                        name: g.name.clone(),
                        reason: format!("track_script {} is not a vrrp_script", ts.name),
                    });
                }
            }
        }
        Ok(warnings)
    }
}

impl Config {
    /// Another instance (before `index`) with the same VRID, interface and family that
    /// would receive the same adverts.
    fn instances_clash(&self, index: usize, inst: &InstanceConfig) -> Option<String> {
        self.instances[..index]
            .iter()
            .find(|o| {
                o.virtual_router_id == inst.virtual_router_id
                    && o.interface == inst.interface
                    && o.is_ipv6() == inst.is_ipv6()
                    && (o.unicast_peers.is_empty()
                        || inst.unicast_peers.is_empty()
                        || o.unicast_peers
                            .iter()
                            .any(|p| inst.unicast_peers.iter().any(|q| q.addr == p.addr)))
            })
            .map(|o| o.name.clone())
    }
}
