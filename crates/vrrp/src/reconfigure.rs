//! In-place reconfiguration: keepalived's reload (`reload_vrrp_thread`, then
//! `restore_vrrp_state` and `clear_diff_vrrp`), sans-I/O.
//!
//! An instance matched by name whose VRID, interface, address family and version are
//! unchanged (and whose sync group, if any, has the same name and members) keeps its state
//! and timers and takes every other setting at once. A MASTER keeps advertising without a
//! gap; it removes the VIPs that left the configuration, adds and announces the new ones,
//! and sends one advert right away when its advert changed (priority, VIPs, interval,
//! auth, peers), so peers judge the new priority now rather than one interval later.
//!
//! A MASTER whose new priority is below a peer's does not step down by itself: as after
//! any priority change (RFC 5798 §6.4.3, keepalived), it stays MASTER until it hears a
//! higher-priority advert. A preempting BACKUP discards our lower advert, its down timer
//! runs out, it becomes MASTER and we yield on its first advert: one clean handover. A
//! `nopreempt` BACKUP leaves us MASTER, as keepalived would.
//!
//! Anything unmatched starts over: the old instance stops (priority 0, VIPs removed,
//! `notify_stop`) and the new one starts as at boot; a sync group whose membership
//! changed, or with one member unmatched, starts over as a whole.

use std::collections::BTreeSet;
use std::time::Instant;

use super::{Engine, Group};
use crate::action::{Action, State};
use crate::config::{Config, InstanceConfig, VirtualIp};
use crate::debug::Debug;
use crate::error::ConfigError;
use crate::instance::Instance;
use crate::packet::Version;
use crate::track::ScriptState;

/// What identifies the router an instance is: what keepalived cannot change in place.
fn same_router(a: &InstanceConfig, b: &InstanceConfig) -> bool {
    a.name == b.name
        && a.virtual_router_id == b.virtual_router_id
        && a.interface == b.interface
        && a.is_ipv6() == b.is_ipv6()
        && a.version == b.version
}

/// A sync group as far as matching goes: its name and members.
fn group_key(groups: &[Group], g: Option<usize>) -> Option<(String, BTreeSet<String>)> {
    g.map(|g| {
        let cfg = &groups[g].cfg;
        (cfg.name.clone(), cfg.members.iter().cloned().collect())
    })
}

impl Engine {
    /// Applies a new configuration (SIGHUP reload) without disturbing what did not change:
    /// matched instances keep their state and timers, unmatched ones stop or start. Before
    /// [`Engine::start`] this only replaces the configuration. On error nothing changes.
    pub fn reconfigure(&mut self, now: Instant, config: Config) -> Result<(), ConfigError> {
        let mut next = Engine::new(config)?;
        next.links = std::mem::take(&mut self.links);
        next.unmatched = self.unmatched;
        next.actions = std::mem::take(&mut self.actions);
        if !self.started {
            *self = next;
            return Ok(());
        }
        next.started = true;

        // New instance index -> old instance index.
        let mut used = vec![false; self.instances.len()];
        let mut matches: Vec<Option<usize>> = Vec::with_capacity(next.instances.len());
        for n in &next.instances {
            let key = group_key(&next.groups, n.group);
            let found = self.instances.iter().enumerate().position(|(oi, o)| {
                !used[oi]
                    && o.state != State::Stop
                    && same_router(&o.cfg, &n.cfg)
                    && group_key(&self.groups, o.group) == key
            });
            if let Some(oi) = found {
                used[oi] = true;
            }
            matches.push(found);
        }
        // A group with one member starting over starts over as a whole.
        let mut carried_groups: Vec<Option<usize>> = vec![None; next.groups.len()];
        for (g, group) in next.groups.iter().enumerate() {
            if group.members.iter().all(|&m| matches[m].is_some()) {
                carried_groups[g] = self
                    .groups
                    .iter()
                    .position(|o| o.cfg.name == group.cfg.name);
            } else {
                for &m in &group.members {
                    if let Some(oi) = matches[m].take() {
                        used[oi] = false;
                    }
                }
            }
        }

        let mut out = Vec::new();
        // Stop what goes away first, so its VIPs are gone before anything new claims them.
        for (oi, old) in self.instances.iter_mut().enumerate() {
            if !used[oi] && old.state != State::Stop {
                Debug::Reloaded {
                    instance: old.name(),
                    state: old.state,
                    restarted: true,
                }
                .log();
                old.stop(&mut out);
            }
        }
        for og in 0..self.groups.len() {
            if !carried_groups.contains(&Some(og)) {
                self.set_group_state(og, State::Stop, &mut out);
            }
        }

        let mut old: Vec<Option<Instance>> = std::mem::take(&mut self.instances)
            .into_iter()
            .map(Some)
            .collect();
        let mut advertise = Vec::new();
        let mut fresh = Vec::new();
        for (ni, m) in matches.iter().enumerate() {
            let Some(mut inst) = m.and_then(|oi| old[oi].take()) else {
                fresh.push(ni);
                continue;
            };
            inst.group = next.instances[ni].group;
            let cfg = next.instances[ni].cfg.clone();
            if inst.reconfigure(cfg, now, &mut out) {
                advertise.push(ni);
            }
            Debug::Reloaded {
                instance: inst.name(),
                state: inst.state,
                restarted: false,
            }
            .log();
            next.instances[ni] = inst;
        }
        let mut fresh_groups = Vec::new();
        for (g, carried) in carried_groups.iter().enumerate() {
            match carried {
                Some(og) => next.groups[g].state = self.groups[*og].state,
                None => fresh_groups.push(g),
            }
        }
        for s in &mut next.scripts {
            if let Some(o) = self.scripts.iter().find(|o| o.cfg.name == s.cfg.name) {
                s.state = ScriptState::carried(&s.cfg, &o.state);
            }
        }

        *self = next;
        for i in 0..self.instances.len() {
            self.resolve_source(i);
        }
        self.start_some(&fresh, &fresh_groups, now, &mut out);
        self.actions.extend(out);
        // New trackers, weights and base priorities: effective priorities and faults.
        self.reevaluate(now);
        let mut out = Vec::new();
        for i in advertise {
            let inst = &mut self.instances[i];
            if inst.state == State::Master {
                inst.send_advert(inst.priority, &mut out);
                inst.advert_at = Some(now + inst.cfg.advert_int);
            }
        }
        self.actions.extend(out);
        self.handle_timeout(now);
        Ok(())
    }
}

impl Instance {
    /// Takes `cfg` (same router: see [`same_router`]) keeping state and timers; a MASTER
    /// swaps exactly the VIPs that differ. Returns whether the advert's content changed.
    pub(crate) fn reconfigure(
        &mut self,
        cfg: InstanceConfig,
        now: Instant,
        out: &mut Vec<Action>,
    ) -> bool {
        let before = self.down_interval();
        let old_addrs = self.all_addrs();
        let old = std::mem::replace(&mut self.cfg, cfg);
        let new = &self.cfg;
        let advert_changed = old.priority != new.priority
            || old.advert_int != new.advert_int
            || old.auth_pass != new.auth_pass
            || old.virtual_ipaddresses != new.virtual_ipaddresses
            || old.unicast_peers != new.unicast_peers
            || old.unicast_ttl != new.unicast_ttl
            || old.unicast_src_ip.or(old.mcast_src_ip) != new.unicast_src_ip.or(new.mcast_src_ip);
        // A v3 backup keeps the interval it learned from the master.
        if self.state != State::Backup || self.cfg.version == Version::V2 {
            self.master_adver_int = self.cfg.advert_int;
        }
        if self.state == State::Backup
            && let Some(at) = self.down_at
        {
            let after = self.down_interval();
            self.down_at = Some(if after >= before {
                at + (after - before)
            } else {
                at.checked_sub(before - after).unwrap_or(now).max(now)
            });
        }
        if self.cfg.nopreempt || self.cfg.preempt_delay.is_zero() {
            self.preempt_until = None;
        }
        if self.state == State::Master {
            self.swap_addresses(&old_addrs, out);
            if self.cfg.garp_master_delay.is_zero() {
                self.garp_at = None;
            }
            if old.garp_master_refresh != self.cfg.garp_master_refresh {
                self.refresh_at = (!self.cfg.garp_master_refresh.is_zero())
                    .then(|| now + self.cfg.garp_master_refresh);
            }
        }
        advert_changed
    }

    /// keepalived `clear_diff_vrrp_vip`: removes the addresses that left, adds and
    /// announces the ones that came.
    fn swap_addresses(&self, old_addrs: &[VirtualIp], out: &mut Vec<Action>) {
        let new_addrs = self.all_addrs();
        let removed: Vec<VirtualIp> = old_addrs
            .iter()
            .filter(|a| !new_addrs.contains(a))
            .cloned()
            .collect();
        let added: Vec<VirtualIp> = new_addrs
            .iter()
            .filter(|a| !old_addrs.contains(a))
            .cloned()
            .collect();
        if !removed.is_empty() {
            out.push(Action::RemoveAddresses {
                instance: self.cfg.name.clone(),
                interface: self.cfg.interface.clone(),
                addrs: removed,
            });
        }
        if !added.is_empty() {
            out.push(Action::AddAddresses {
                instance: self.cfg.name.clone(),
                interface: self.cfg.interface.clone(),
                addrs: added.clone(),
            });
            out.push(Action::Announce {
                instance: self.cfg.name.clone(),
                interface: self.cfg.interface.clone(),
                addrs: added,
                count: self.cfg.garp_master_repeat,
            });
        }
    }
}
