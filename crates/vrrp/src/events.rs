//! The sans-I/O engine: every instance, sync group and tracked object of one process.
//!
//! Inputs are method calls carrying `now` (received packets, timer expiry, link and
//! script changes, shutdown); outputs are [`Action`]s taken with [`Engine::poll_action`]
//! and the next wake-up from [`Engine::poll_timeout`], quinn-style. Nothing here reads a
//! clock or touches a socket, so whole LANs of engines run in memory in tests.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use crate::action::{Action, Scope, State, StateChange};
use crate::config::{Config, ScriptConfig, SyncGroupConfig, TrackInterface, TrackScript};
use crate::debug::Debug;
use crate::error::{ConfigError, RxError};
use crate::instance::{Instance, Stats, notifications};
use crate::packet::PRIORITY_OWNER;
use crate::track::{self, ScriptState};

/// What the driver knows about one interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkState {
    /// Administratively up and with carrier.
    pub up: bool,
    /// Primary IPv4 address (source of IPv4 adverts).
    pub ipv4: Option<Ipv4Addr>,
    /// A link-local IPv6 address (source of IPv6 adverts).
    pub ipv6: Option<Ipv6Addr>,
}

/// A packet received on a VRRP socket.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// Interface it arrived on.
    pub interface: &'a str,
    /// IP source.
    pub src: IpAddr,
    /// IP destination (multicast group or our unicast address).
    pub dst: IpAddr,
    /// TTL / hop limit as received.
    pub ttl: u8,
    /// The VRRP message (IP payload).
    pub payload: &'a [u8],
}

/// A public snapshot of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceStatus {
    /// Name.
    pub name: String,
    /// Current state.
    pub state: State,
    /// Effective priority.
    pub priority: u8,
    /// Source of the last accepted advert from another router.
    pub master: Option<IpAddr>,
    /// Counters.
    pub stats: Stats,
}

#[path = "receive.rs"]
mod receive;

#[path = "reconfigure.rs"]
mod reconfigure;

#[derive(Debug)]
struct Group {
    cfg: SyncGroupConfig,
    members: Vec<usize>,
    state: State,
}

#[derive(Debug)]
struct Script {
    cfg: ScriptConfig,
    state: ScriptState,
}

/// The VRRP engine of one process.
#[derive(Debug)]
pub struct Engine {
    instances: Vec<Instance>,
    groups: Vec<Group>,
    scripts: Vec<Script>,
    links: HashMap<String, LinkState>,
    started: bool,
    actions: VecDeque<Action>,
    /// Packets that matched no instance or did not decode.
    unmatched: u64,
}

impl Engine {
    /// Validates `config` (keepalived's corrections are logged) and builds the engine.
    pub fn new(mut config: Config) -> Result<Engine, ConfigError> {
        for w in config.validate()? {
            Debug::ConfigWarning {
                name: &w.name,
                message: &w.message,
            }
            .log();
        }
        let group_of = |name: &str| {
            config
                .sync_groups
                .iter()
                .position(|g| g.members.iter().any(|m| m == name))
        };
        let instances: Vec<Instance> = config
            .instances
            .iter()
            .map(|c| Instance::new(c.clone(), group_of(&c.name)))
            .collect();
        let groups = config
            .sync_groups
            .iter()
            .map(|g| Group {
                members: g
                    .members
                    .iter()
                    .filter_map(|m| instances.iter().position(|i| &i.cfg.name == m))
                    .collect(),
                cfg: g.clone(),
                state: State::Init,
            })
            .collect();
        let scripts = config
            .scripts
            .iter()
            .map(|s| Script {
                state: ScriptState::new(s),
                cfg: s.clone(),
            })
            .collect();
        Ok(Engine {
            instances,
            groups,
            scripts,
            links: HashMap::new(),
            started: false,
            actions: VecDeque::new(),
            unmatched: 0,
        })
    }

    /// Interfaces whose state the engine needs: instance interfaces and tracked ones.
    pub fn interfaces(&self) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        let tracked = self
            .groups
            .iter()
            .flat_map(|g| g.cfg.track_interfaces.iter());
        let names = self
            .instances
            .iter()
            .flat_map(|i| {
                std::iter::once(&i.cfg.interface)
                    .chain(i.cfg.track_interfaces.iter().map(|t| &t.name))
            })
            .chain(tracked.map(|t| &t.name));
        for n in names {
            if !v.contains(n) {
                v.push(n.clone());
            }
        }
        v
    }

    /// The `vrrp_script`s some instance or group tracks (the driver runs these).
    pub fn tracked_scripts(&self) -> Vec<ScriptConfig> {
        self.scripts
            .iter()
            .filter(|s| {
                let used = |ts: &[TrackScript]| ts.iter().any(|t| t.name == s.cfg.name);
                self.instances.iter().any(|i| used(&i.cfg.track_scripts))
                    || self.groups.iter().any(|g| used(&g.cfg.track_scripts))
            })
            .map(|s| s.cfg.clone())
            .collect()
    }

    /// Status of every instance, in configuration order.
    pub fn instances(&self) -> Vec<InstanceStatus> {
        self.instances
            .iter()
            .map(|i| InstanceStatus {
                name: i.cfg.name.clone(),
                state: i.state,
                priority: i.priority,
                master: i.master_src,
                stats: i.stats,
            })
            .collect()
    }

    /// State of the instance `name`.
    pub fn state(&self, name: &str) -> Option<State> {
        self.instances
            .iter()
            .find(|i| i.cfg.name == name)
            .map(|i| i.state)
    }

    /// State of the sync group `name`.
    pub fn group_state(&self, name: &str) -> Option<State> {
        self.groups
            .iter()
            .find(|g| g.cfg.name == name)
            .map(|g| g.state)
    }

    /// Packets that decoded badly or matched no instance.
    pub fn unmatched_packets(&self) -> u64 {
        self.unmatched
    }

    /// The next action to perform, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Engine::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.instances
            .iter()
            .filter_map(Instance::next_timeout)
            .min()
    }

    /// Starts every instance (keepalived `vrrp_init_state`): owners wanting MASTER take
    /// over at once, everyone else waits a Master_Down_Interval in BACKUP, faulty ones
    /// go to FAULT. Leftover VIPs are removed first.
    pub fn start(&mut self, now: Instant) {
        if self.started {
            return;
        }
        self.started = true;
        let mut out = Vec::new();
        let instances: Vec<usize> = (0..self.instances.len()).collect();
        let groups: Vec<usize> = (0..self.groups.len()).collect();
        self.start_some(&instances, &groups, now, &mut out);
        self.actions.extend(out);
        self.handle_timeout(now);
    }

    /// Starts the given instances and sync groups (all at start-up, the new ones on a
    /// reconfiguration): leftover VIPs removed, then BACKUP, FAULT or owner take-over.
    fn start_some(
        &mut self,
        instances: &[usize],
        groups: &[usize],
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        for &i in instances {
            self.resolve_source(i);
            let prio = self.effective_priority(i);
            let inst = &mut self.instances[i];
            inst.priority = prio;
            inst.remove_addresses(out);
        }
        for &i in instances {
            match self.fault_of(i) {
                Some(pending_only) => self.instances[i].enter_fault(!pending_only, out),
                None if self.instances[i].wants_master_at_start() => {
                    self.instances[i].wantstate = State::Master;
                    self.instances[i].set_state(State::Backup, false, out);
                    self.instances[i].expire_down_timer(now);
                }
                None => self.instances[i].enter_backup(now, out),
            }
        }
        for &g in groups {
            let faulty = self.groups[g]
                .members
                .iter()
                .any(|&m| self.instances[m].state == State::Fault);
            if faulty {
                self.sync_fault(g, now, out);
            } else {
                self.set_group_state(g, State::Backup, out);
            }
        }
    }

    /// Fires every due timer: adverts, announcement bursts, and Master_Down expiry
    /// (which makes a backup master, sync group permitting).
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut out = Vec::new();
        for i in 0..self.instances.len() {
            if self.instances[i].timeout(now, &mut out) {
                self.goto_master(i, now, &mut out);
            }
        }
        self.actions.extend(out);
    }

    /// Processes a received packet. Errors are drops, already counted and logged.
    pub fn handle_packet(&mut self, now: Instant, rx: &Received<'_>) -> Result<(), RxError> {
        let result = self.dispatch(now, rx);
        if let Err(reason) = &result {
            Debug::Dropped {
                instance: None,
                src: &rx.src,
                reason,
            }
            .log();
        }
        result
    }

    /// Records an interface's state (and addresses) and re-evaluates faults, priorities
    /// and advert sources.
    pub fn set_link(&mut self, now: Instant, interface: &str, state: LinkState) {
        if self.links.get(interface) == Some(&state) {
            return;
        }
        self.links.insert(interface.to_string(), state);
        if self.started {
            for i in 0..self.instances.len() {
                self.resolve_source(i);
            }
            self.reevaluate(now);
        }
    }

    /// Records one run of the `vrrp_script` `name` (exit status 0 = success).
    pub fn script_result(&mut self, now: Instant, name: &str, success: bool) {
        let Some(s) = self.scripts.iter_mut().find(|s| s.cfg.name == name) else {
            return;
        };
        if s.state.record(success) {
            Debug::Script {
                name,
                up: s.state.status() == Some(true),
            }
            .log();
            if self.started {
                self.reevaluate(now);
            }
        }
    }

    /// Stops every instance: masters send priority 0 (the backup takes over within
    /// Skew_Time) and remove their addresses; `notify_stop` runs.
    pub fn shutdown(&mut self, _now: Instant) {
        let mut out = Vec::new();
        for inst in &mut self.instances {
            if inst.state != State::Stop {
                inst.stop(&mut out);
            }
        }
        for g in 0..self.groups.len() {
            self.set_group_state(g, State::Stop, &mut out);
        }
        self.actions.extend(out);
    }

    fn resolve_source(&mut self, i: usize) {
        let inst = &mut self.instances[i];
        let link = self
            .links
            .get(&inst.cfg.interface)
            .copied()
            .unwrap_or_default();
        let configured = inst.cfg.unicast_src_ip.or(inst.cfg.mcast_src_ip);
        inst.src = configured.or(if inst.cfg.is_ipv6() {
            link.ipv6.map(IpAddr::V6)
        } else {
            link.ipv4.map(IpAddr::V4)
        });
    }

    fn link_up(&self, name: &str) -> bool {
        // Unknown interfaces count as up: the driver reports every interface before start.
        self.links.get(name).is_none_or(|l| l.up)
    }

    fn trackers(&self, i: usize) -> (Vec<&TrackInterface>, Vec<&TrackScript>) {
        let inst = &self.instances[i];
        let mut ifs: Vec<&TrackInterface> = inst.cfg.track_interfaces.iter().collect();
        let mut scripts: Vec<&TrackScript> = inst.cfg.track_scripts.iter().collect();
        if let Some(g) = inst.group {
            ifs.extend(self.groups[g].cfg.track_interfaces.iter());
            scripts.extend(self.groups[g].cfg.track_scripts.iter());
        }
        (ifs, scripts)
    }

    fn script_weight(&self, t: &TrackScript) -> (i32, bool, Option<bool>) {
        match self.scripts.iter().find(|s| s.cfg.name == t.name) {
            Some(s) => (
                t.weight.unwrap_or(s.cfg.weight),
                if t.weight.is_some() {
                    t.reverse
                } else {
                    s.cfg.reverse
                },
                s.state.status(),
            ),
            None => (0, false, Some(true)),
        }
    }

    /// Base priority plus tracker weights, clamped to 1..254; an owner stays at 255.
    fn effective_priority(&self, i: usize) -> u8 {
        let inst = &self.instances[i];
        if inst.is_owner() {
            return PRIORITY_OWNER;
        }
        let (ifs, scripts) = self.trackers(i);
        let mut total = i32::from(inst.cfg.priority);
        for t in ifs.iter().filter(|t| t.weight != 0) {
            total += track::contribution(t.weight, t.reverse, Some(self.link_up(&t.name)));
        }
        for t in &scripts {
            let (w, rev, up) = self.script_weight(t);
            if w != 0 {
                total += track::contribution(w, rev, up);
            }
        }
        total.clamp(1, 254) as u8
    }

    /// `Some(pending_only)` when the instance must be in FAULT; `pending_only` when the
    /// only reason is a weight-0 script that has not reported yet (a silent wait).
    fn fault_of(&self, i: usize) -> Option<bool> {
        let inst = &self.instances[i];
        let mut hard = inst.src.is_none()
            || (!inst.cfg.dont_track_primary && !self.link_up(&inst.cfg.interface));
        let mut pending = false;
        let (ifs, scripts) = self.trackers(i);
        for t in ifs.iter().filter(|t| t.weight == 0) {
            hard |= track::faults(t.reverse, Some(self.link_up(&t.name))) == Some(true);
        }
        for t in &scripts {
            let (w, rev, up) = self.script_weight(t);
            if w == 0 {
                match track::faults(rev, up) {
                    Some(f) => hard |= f,
                    None => pending = true,
                }
            }
        }
        (hard || pending).then_some(!hard)
    }

    /// After any tracker change: new priorities, then FAULT entries and exits.
    fn reevaluate(&mut self, now: Instant) {
        let mut out = Vec::new();
        for i in 0..self.instances.len() {
            let p = self.effective_priority(i);
            self.instances[i].set_priority(p);
        }
        for i in 0..self.instances.len() {
            let fault = self.fault_of(i);
            let state = self.instances[i].state;
            match (fault, state) {
                (Some(pending_only), State::Backup | State::Master | State::Init) => {
                    if state == State::Master {
                        self.instances[i].leave_master(now, State::Fault, &mut out);
                    } else {
                        self.instances[i].enter_fault(!pending_only, &mut out);
                    }
                    if let Some(g) = self.instances[i].group {
                        self.sync_fault(g, now, &mut out);
                    }
                }
                (None, State::Fault) => match self.instances[i].group {
                    Some(g) => {
                        if self.groups[g]
                            .members
                            .iter()
                            .all(|&m| self.fault_of(m).is_none())
                        {
                            for m in self.groups[g].members.clone() {
                                if self.instances[m].state == State::Fault {
                                    self.leave_fault(m, now, &mut out);
                                }
                            }
                            if self.groups[g].state == State::Fault {
                                self.set_group_state(g, State::Backup, &mut out);
                            }
                        }
                    }
                    None => self.leave_fault(i, now, &mut out),
                },
                _ => {}
            }
        }
        self.actions.extend(out);
    }

    fn leave_fault(&mut self, i: usize, now: Instant, out: &mut Vec<Action>) {
        if self.instances[i].wants_master_at_start() {
            self.instances[i].wantstate = State::Master;
            self.instances[i].set_state(State::Backup, false, out);
            self.goto_master(i, now, out);
        } else {
            self.instances[i].enter_backup(now, out);
        }
    }

    /// keepalived `vrrp_state_goto_master` + `vrrp_sync_master`: a sync group member only
    /// goes when every other member wants MASTER too, and then they all go together.
    fn goto_master(&mut self, i: usize, now: Instant, out: &mut Vec<Action>) {
        if let Some(g) = self.instances[i].group {
            let group = &self.groups[g];
            let others_ready = group
                .members
                .iter()
                .all(|&m| m == i || self.instances[m].wantstate == State::Master);
            if group.state != State::Master && !others_ready {
                self.instances[i].hold_backup(now);
                return;
            }
            self.instances[i].become_master(now, out);
            for m in self.groups[g].members.clone() {
                if m != i && self.instances[m].state == State::Backup {
                    self.instances[m].become_master(now, out);
                }
            }
            self.set_group_state(g, State::Master, out);
        } else {
            self.instances[i].become_master(now, out);
        }
    }

    /// keepalived `vrrp_sync_backup`: one member yielded, the others follow.
    fn sync_backup(&mut self, g: usize, from: usize, now: Instant, out: &mut Vec<Action>) {
        for m in self.groups[g].members.clone() {
            if m == from {
                continue;
            }
            match self.instances[m].state {
                State::Master => self.instances[m].leave_master(now, State::Backup, out),
                State::Fault | State::Init => self.instances[m].enter_backup(now, out),
                State::Backup | State::Stop => {}
            }
        }
        self.set_group_state(g, State::Backup, out);
    }

    /// keepalived `vrrp_sync_fault`: one member failed, the whole group goes to FAULT.
    fn sync_fault(&mut self, g: usize, now: Instant, out: &mut Vec<Action>) {
        for m in self.groups[g].members.clone() {
            match self.instances[m].state {
                State::Master => self.instances[m].leave_master(now, State::Fault, out),
                State::Backup | State::Init => self.instances[m].enter_fault(true, out),
                State::Fault | State::Stop => {}
            }
        }
        self.set_group_state(g, State::Fault, out);
    }

    fn set_group_state(&mut self, g: usize, to: State, out: &mut Vec<Action>) {
        let group = &mut self.groups[g];
        let from = group.state;
        if from == to {
            return;
        }
        group.state = to;
        Debug::GroupState {
            name: &group.cfg.name,
            to,
        }
        .log();
        notifications(&group.cfg.notify, Scope::Group, &group.cfg.name, to, 0, out);
        out.push(Action::StateChange(StateChange {
            scope: Scope::Group,
            name: group.cfg.name.clone(),
            from,
            to,
            priority: 0,
        }));
    }
}
