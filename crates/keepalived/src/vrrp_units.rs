//! The VRRP subsystem as independent units, one driver each, so a reload touches only what
//! changed.
//!
//! A unit is a `vrrp_sync_group` with its members, or a lone `vrrp_instance`. On reload, as
//! keepalived does, a unit whose configuration did not change keeps running untouched; a
//! changed one is reconfigured in place ([`Driver::reconfigure`]): an instance matched by
//! name with the same VRID, interface and family keeps its state (a MASTER stays MASTER,
//! keeps advertising, swaps only the VIPs that differ) and takes the new priority, timers,
//! scripts and trackers; an instance that cannot be matched, or a sync group whose
//! membership changed, starts over inside the unit. Only when the unit needs a VRRP socket
//! its driver did not open (new interface or family) is it stopped (priority 0, VIPs
//! released) and started again. A removed unit is stopped; a new one starts as at boot.

use std::collections::BTreeMap;

use rvs_vrrp::{Config, Driver, InstanceStatus};

/// Splits a validated configuration into units keyed by `group:NAME` / `instance:NAME`,
/// each with the scripts its instances and group track.
pub fn split(cfg: &Config) -> BTreeMap<String, Config> {
    let mut units = BTreeMap::new();
    let scripts_for = |names: Vec<&String>| {
        cfg.scripts
            .iter()
            .filter(|s| names.contains(&&s.name))
            .cloned()
            .collect::<Vec<_>>()
    };
    for g in &cfg.sync_groups {
        let instances: Vec<_> = cfg
            .instances
            .iter()
            .filter(|i| g.members.contains(&i.name))
            .cloned()
            .collect();
        let tracked = instances
            .iter()
            .flat_map(|i| i.track_scripts.iter().map(|t| &t.name))
            .chain(g.track_scripts.iter().map(|t| &t.name))
            .collect();
        units.insert(
            format!("group:{}", g.name),
            Config {
                scripts: scripts_for(tracked),
                instances,
                sync_groups: vec![g.clone()],
            },
        );
    }
    for i in &cfg.instances {
        if cfg.sync_groups.iter().any(|g| g.members.contains(&i.name)) {
            continue;
        }
        units.insert(
            format!("instance:{}", i.name),
            Config {
                scripts: scripts_for(i.track_scripts.iter().map(|t| &t.name).collect()),
                instances: vec![i.clone()],
                sync_groups: Vec::new(),
            },
        );
    }
    units
}

struct Unit {
    config: Config,
    driver: Driver,
}

/// The running units.
#[derive(Default)]
pub struct VrrpSet {
    units: BTreeMap<String, Unit>,
    /// The whole configuration last applied (before validation), to skip no-op reloads.
    applied: Option<Config>,
}

/// Validates the whole configuration (VRID clashes span units) and logs the corrections.
fn validated(cfg: &Config) -> Option<Config> {
    let mut c = cfg.clone();
    match c.validate() {
        Ok(warnings) => {
            for w in warnings {
                tracing::warn!("({}) {}", w.name, w.message);
            }
            Some(c)
        }
        Err(e) => {
            tracing::error!("VRRP configuration refused: {e}");
            None
        }
    }
}

fn start_unit(name: &str, config: Config) -> Option<Unit> {
    match Driver::start(config.clone()) {
        Ok((driver, changes)) => {
            // The driver logs transitions itself; drain its observer channel.
            let _ = std::thread::Builder::new()
                .name("vrrp-changes".into())
                .spawn(move || {
                    for c in changes {
                        tracing::debug!("({}) {} -> {}", c.name, c.from, c.to);
                    }
                });
            Some(Unit { config, driver })
        }
        Err(e) => {
            tracing::error!("cannot start VRRP {name}: {e}");
            None
        }
    }
}

impl VrrpSet {
    /// Makes the running units match `cfg`: unchanged units are left alone, changed ones
    /// reconfigured in place (restarted only when that is impossible).
    pub fn apply(&mut self, cfg: &Config) {
        if self.applied.as_ref() == Some(cfg) {
            return;
        }
        let Some(valid) = validated(cfg) else {
            return;
        };
        self.applied = Some(cfg.clone());
        let mut wanted = split(&valid);
        let names: Vec<String> = self.units.keys().cloned().collect();
        // Removed and reconfigured units first: VIPs an instance gives up are released
        // before a new unit claims them.
        for name in names {
            let Some(mut u) = self.units.remove(&name) else {
                continue;
            };
            let Some(config) = wanted.remove(&name) else {
                tracing::info!("VRRP {name} removed - stopping it");
                u.driver.shutdown();
                continue;
            };
            if u.config == config {
                self.units.insert(name, u);
                continue;
            }
            match u.driver.reconfigure(config.clone()) {
                Ok(()) => {
                    tracing::info!("VRRP {name} changed - reconfigured in place");
                    u.config = config;
                    self.units.insert(name, u);
                }
                Err(e) => {
                    tracing::info!("VRRP {name} changed - restarting it ({e})");
                    u.driver.shutdown();
                    wanted.insert(name, config);
                }
            }
        }
        for (name, config) in wanted {
            if let Some(u) = start_unit(&name, config) {
                self.units.insert(name, u);
            }
        }
    }

    /// Whether no unit runs.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// Every instance's state.
    pub fn status(&self) -> Vec<InstanceStatus> {
        self.units
            .values()
            .flat_map(|u| u.driver.status())
            .collect()
    }

    /// Stops every unit: with `release`, priority 0 and VIPs removed (in parallel, so one
    /// unit's stop does not delay another's handover); otherwise as a crash would (`-V`).
    pub fn stop(self, release: bool) {
        let handles: Vec<_> = self
            .units
            .into_values()
            .map(|u| {
                std::thread::spawn(move || {
                    if release {
                        u.driver.shutdown();
                    } else {
                        u.driver.abort();
                    }
                })
            })
            .collect();
        for h in handles {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use rvs_vrrp::{InstanceConfig, ScriptConfig, SyncGroupConfig, TrackScript};

    use super::*;

    fn inst(name: &str, vrid: u8, script: Option<&str>) -> InstanceConfig {
        let mut i = InstanceConfig::new(name, "eth0", vrid);
        if let Some(s) = script {
            i.track_scripts.push(TrackScript {
                name: s.into(),
                weight: None,
                reverse: false,
            });
        }
        i
    }

    #[test]
    fn groups_and_lone_instances_become_units_with_their_scripts() {
        let cfg = Config {
            instances: vec![
                inst("A", 1, Some("s1")),
                inst("B", 2, None),
                inst("C", 3, Some("s2")),
            ],
            scripts: vec![
                ScriptConfig::new("s1", &["/bin/true"]),
                ScriptConfig::new("s2", &["/bin/true"]),
            ],
            sync_groups: vec![SyncGroupConfig {
                name: "G".into(),
                members: vec!["A".into(), "B".into()],
                ..SyncGroupConfig::default()
            }],
        };
        let u = split(&cfg);
        assert_eq!(u.keys().collect::<Vec<_>>(), vec!["group:G", "instance:C"]);
        let g = &u["group:G"];
        assert_eq!(g.instances.len(), 2);
        assert_eq!(
            g.scripts
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
            vec!["s1"]
        );
        let c = &u["instance:C"];
        assert_eq!(c.scripts[0].name, "s2");
        assert!(c.sync_groups.is_empty());
    }

    #[test]
    fn an_unchanged_unit_compares_equal_after_an_unrelated_change() {
        let before = Config {
            instances: vec![inst("A", 1, None), inst("B", 2, None)],
            ..Config::default()
        };
        let mut after = before.clone();
        after.instances[1].priority = 200;
        let (b, a) = (split(&before), split(&after));
        assert_eq!(b["instance:A"], a["instance:A"]);
        assert_ne!(b["instance:B"], a["instance:B"]);
    }
}
