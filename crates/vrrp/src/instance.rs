//! One VRRP instance: its state, timers and the transitions of RFC 3768 §6.4 / RFC 5798
//! §6.4 with keepalived's deviations (lvs-reference §7.5–7.6). Sync groups and trackers
//! are handled one level up, in [`crate::events`]; everything here is per instance.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::action::{Action, Scope, State, StateChange, Transmit};
use crate::config::{InitialState, InstanceConfig, Notify, VirtualIp};
use crate::debug::Debug;
use crate::packet::{self, Advert, Auth, PRIORITY_OWNER, PRIORITY_STOP, Version};
use crate::timer;

/// Counters of one instance (keepalived's SIGUSR2 statistics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Adverts accepted by validation.
    pub adverts_received: u64,
    /// Adverts sent (every destination counts).
    pub adverts_sent: u64,
    /// Transitions to MASTER.
    pub became_master: u64,
    /// Transitions out of MASTER.
    pub released_master: u64,
    /// Priority-0 adverts received.
    pub priority_zero_received: u64,
    /// Priority-0 adverts sent.
    pub priority_zero_sent: u64,
    /// Dropped for TTL / hop limit.
    pub ttl_errors: u64,
    /// Dropped for a version mismatch.
    pub version_errors: u64,
    /// Dropped for auth type or password.
    pub auth_errors: u64,
    /// Dropped for a v2 interval mismatch.
    pub interval_errors: u64,
    /// Adverts whose VIP list differed (logged, not dropped).
    pub address_list_errors: u64,
    /// Dropped for another reason (unicast mismatch, unknown peer, own packet, FAULT).
    pub other_drops: u64,
}

/// What a received advert did to a MASTER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MasterRx {
    /// Still master.
    Stay,
    /// Went to BACKUP (the sync group must follow).
    Yielded,
}

/// An instance and its run-time state.
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) cfg: InstanceConfig,
    pub(crate) group: Option<usize>,
    pub(crate) state: State,
    /// The state the instance would be in regardless of its sync group.
    pub(crate) wantstate: State,
    pub(crate) priority: u8,
    /// Source address of our adverts (configured, else the interface's primary).
    pub(crate) src: Option<IpAddr>,
    pub(crate) master_adver_int: Duration,
    pub(crate) down_at: Option<Instant>,
    pub(crate) advert_at: Option<Instant>,
    pub(crate) garp_at: Option<Instant>,
    pub(crate) refresh_at: Option<Instant>,
    /// While set and in the future, lower-priority adverts are still accepted.
    pub(crate) preempt_until: Option<Instant>,
    pub(crate) master_src: Option<IpAddr>,
    pub(crate) stats: Stats,
}

impl Instance {
    pub(crate) fn new(cfg: InstanceConfig, group: Option<usize>) -> Instance {
        Instance {
            priority: cfg.priority,
            master_adver_int: cfg.advert_int,
            src: cfg.unicast_src_ip.or(cfg.mcast_src_ip),
            cfg,
            group,
            state: State::Init,
            wantstate: State::Backup,
            down_at: None,
            advert_at: None,
            garp_at: None,
            refresh_at: None,
            preempt_until: None,
            master_src: None,
            stats: Stats::default(),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.cfg.name
    }

    pub(crate) fn is_owner(&self) -> bool {
        self.cfg.priority == PRIORITY_OWNER
    }

    /// Owner configured to start as master: the only case that skips the down timer.
    pub(crate) fn wants_master_at_start(&self) -> bool {
        self.is_owner() && self.cfg.state == InitialState::Master
    }

    fn skew_priority(&self) -> u8 {
        if self.is_owner() {
            PRIORITY_OWNER
        } else {
            self.priority
        }
    }

    pub(crate) fn skew(&self) -> Duration {
        timer::skew(
            self.cfg.version,
            self.skew_priority(),
            self.master_adver_int,
        )
    }

    pub(crate) fn down_interval(&self) -> Duration {
        timer::master_down_interval(
            self.cfg.version,
            self.cfg.down_timer_adverts,
            self.skew_priority(),
            self.master_adver_int,
        )
    }

    /// The earliest timer of this instance.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        [self.down_at, self.advert_at, self.garp_at, self.refresh_at]
            .into_iter()
            .flatten()
            .min()
    }

    pub(crate) fn is_unicast(&self) -> bool {
        !self.cfg.unicast_peers.is_empty()
    }

    pub(crate) fn all_addrs(&self) -> Vec<VirtualIp> {
        let mut v = self.cfg.virtual_ipaddresses.clone();
        v.extend(self.cfg.virtual_ipaddresses_excluded.iter().cloned());
        v
    }

    /// The advert we would send with `priority`, one [`Transmit`] per destination.
    fn adverts(&self, priority: u8) -> Vec<Transmit> {
        let Some(src) = self.src else {
            return Vec::new();
        };
        let advert = Advert {
            version: self.cfg.version,
            vrid: self.cfg.virtual_router_id,
            priority,
            adver_int: self.cfg.adver_int_field(),
            auth: match (&self.cfg.auth_pass, self.cfg.version) {
                (Some(p), Version::V2) => Auth::pass(p),
                _ => Auth::None,
            },
            addrs: self
                .cfg
                .virtual_ipaddresses
                .iter()
                .map(|v| v.addr)
                .collect(),
        };
        let (dsts, ttl): (Vec<IpAddr>, u8) = if self.is_unicast() {
            let d = self.cfg.unicast_peers.iter().map(|p| p.addr).collect();
            (d, self.cfg.unicast_ttl)
        } else if src.is_ipv6() {
            (vec![packet::MULTICAST_V6.into()], packet::TTL)
        } else {
            (vec![packet::MULTICAST_V4.into()], packet::TTL)
        };
        dsts.into_iter()
            .map(|dst| Transmit {
                instance: self.cfg.name.clone(),
                interface: self.cfg.interface.clone(),
                src,
                dst,
                ttl,
                payload: advert.encode(&src, &dst),
            })
            .collect()
    }

    pub(crate) fn send_advert(&mut self, priority: u8, out: &mut Vec<Action>) {
        for t in self.adverts(priority) {
            self.stats.adverts_sent += 1;
            if priority == PRIORITY_STOP {
                self.stats.priority_zero_sent += 1;
            }
            out.push(Action::Send(t));
        }
    }

    fn announce(&self, count: u32, out: &mut Vec<Action>) {
        let addrs = self.all_addrs();
        if count > 0 && !addrs.is_empty() {
            out.push(Action::Announce {
                instance: self.cfg.name.clone(),
                interface: self.cfg.interface.clone(),
                addrs,
                count,
            });
        }
    }

    pub(crate) fn remove_addresses(&self, out: &mut Vec<Action>) {
        let addrs = self.all_addrs();
        if !addrs.is_empty() {
            out.push(Action::RemoveAddresses {
                instance: self.cfg.name.clone(),
                interface: self.cfg.interface.clone(),
                addrs,
            });
        }
    }

    /// Moves to `to`, logging and emitting the notifications keepalived sends.
    pub(crate) fn set_state(&mut self, to: State, notify: bool, out: &mut Vec<Action>) {
        let from = self.state;
        self.state = to;
        if from == to || !notify {
            return;
        }
        Debug::InstanceState {
            name: &self.cfg.name,
            from,
            to,
            priority: self.priority,
        }
        .log();
        notifications(
            &self.cfg.notify,
            Scope::Instance,
            &self.cfg.name,
            to,
            self.priority,
            out,
        );
        out.push(Action::StateChange(StateChange {
            scope: Scope::Instance,
            name: self.cfg.name.clone(),
            from,
            to,
            priority: self.priority,
        }));
    }

    /// Becomes MASTER: advert first (so the old master drops the VIPs before our ARPs),
    /// then the addresses, the first announcement burst, notifications and timers.
    pub(crate) fn become_master(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.wantstate = State::Master;
        self.master_adver_int = self.cfg.advert_int;
        self.send_advert(self.priority, out);
        self.stats.became_master += 1;
        let addrs = self.all_addrs();
        if !addrs.is_empty() {
            out.push(Action::AddAddresses {
                instance: self.cfg.name.clone(),
                interface: self.cfg.interface.clone(),
                addrs,
            });
        }
        self.announce(self.cfg.garp_master_repeat, out);
        self.garp_at =
            (!self.cfg.garp_master_delay.is_zero()).then(|| now + self.cfg.garp_master_delay);
        self.refresh_at = (!self.cfg.garp_master_refresh.is_zero())
            .then(|| now + self.cfg.garp_master_delay + self.cfg.garp_master_refresh);
        self.down_at = None;
        self.preempt_until = None;
        self.advert_at = Some(now + self.cfg.advert_int);
        self.set_state(State::Master, true, out);
    }

    /// Leaves MASTER for BACKUP or FAULT (FAULT tells the others with a priority-0
    /// advert so they take over within Skew_Time).
    pub(crate) fn leave_master(&mut self, now: Instant, to: State, out: &mut Vec<Action>) {
        if to == State::Fault {
            self.send_advert(PRIORITY_STOP, out);
        }
        self.remove_addresses(out);
        self.stats.released_master += 1;
        self.advert_at = None;
        self.garp_at = None;
        self.refresh_at = None;
        self.wantstate = to;
        self.preempt_until = None;
        self.set_state(to, true, out);
        self.down_at = (to == State::Backup).then(|| now + self.down_interval());
    }

    /// Enters BACKUP from INIT or FAULT with a fresh down timer.
    pub(crate) fn enter_backup(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.wantstate = State::Backup;
        self.master_adver_int = self.cfg.advert_int;
        self.preempt_until = None;
        self.down_at = Some(now + self.down_interval());
        self.set_state(State::Backup, true, out);
    }

    /// Enters FAULT from anything but MASTER; `notify` false for the silent wait on
    /// scripts that have not reported yet.
    pub(crate) fn enter_fault(&mut self, notify: bool, out: &mut Vec<Action>) {
        self.wantstate = State::Fault;
        self.down_at = None;
        self.set_state(State::Fault, notify, out);
    }

    /// Shutdown: a master sends priority 0 and drops its addresses; then STOP.
    pub(crate) fn stop(&mut self, out: &mut Vec<Action>) {
        if self.state == State::Master {
            self.send_advert(PRIORITY_STOP, out);
            self.remove_addresses(out);
            self.stats.released_master += 1;
        }
        self.down_at = None;
        self.advert_at = None;
        self.garp_at = None;
        self.refresh_at = None;
        self.set_state(State::Stop, true, out);
    }

    /// A new effective priority; a backup's running down timer moves by the change in
    /// Master_Down_Interval (keepalived `vrrp_set_effective_priority`).
    pub(crate) fn set_priority(&mut self, priority: u8) -> bool {
        if self.priority == priority {
            return false;
        }
        Debug::Priority {
            instance: &self.cfg.name,
            from: self.priority,
            to: priority,
        }
        .log();
        let old = self.down_interval();
        self.priority = priority;
        let new = self.down_interval();
        if self.state == State::Backup
            && let Some(at) = self.down_at
        {
            self.down_at = Some(if new >= old {
                at + (new - old)
            } else {
                at - (old - new)
            });
        }
        true
    }

    /// Fires due timers except the down timer; returns true when the down timer expired
    /// (the caller decides, with the sync group, whether to become master).
    pub(crate) fn timeout(&mut self, now: Instant, out: &mut Vec<Action>) -> bool {
        if self.state == State::Master {
            if let Some(at) = self.advert_at
                && at <= now
            {
                self.send_advert(self.priority, out);
                // Keep the cadence, unless we fell more than one interval behind.
                let next = at + self.cfg.advert_int;
                self.advert_at = Some(if next <= now {
                    now + self.cfg.advert_int
                } else {
                    next
                });
            }
            if let Some(at) = self.garp_at
                && at <= now
            {
                self.garp_at = None;
                self.announce(self.cfg.garp_master_repeat, out);
            }
            if let Some(at) = self.refresh_at
                && at <= now
            {
                self.refresh_at = Some(now + self.cfg.garp_master_refresh);
                self.announce(self.cfg.garp_master_refresh_repeat, out);
            }
        }
        if self.state == State::Backup
            && let Some(at) = self.down_at
            && at <= now
        {
            self.down_at = None;
            return true;
        }
        false
    }

    /// The down timer expired but the sync group holds us in BACKUP: want MASTER and
    /// wait another interval.
    pub(crate) fn hold_backup(&mut self, now: Instant) {
        self.wantstate = State::Master;
        self.down_at = Some(now + self.down_interval());
    }

    /// Arms the down timer to fire at once (owner start-up).
    pub(crate) fn expire_down_timer(&mut self, now: Instant) {
        self.down_at = Some(now);
    }

    /// BACKUP receiving a validated advert (keepalived `vrrp_state_backup`).
    pub(crate) fn rx_backup(&mut self, now: Instant, adv: &Advert, src: &IpAddr) {
        if adv.priority == PRIORITY_STOP {
            self.down_at = Some(now + self.skew());
            return;
        }
        let delaying =
            !self.cfg.preempt_delay.is_zero() && self.preempt_until.is_none_or(|until| until > now);
        if self.cfg.nopreempt || adv.priority >= self.priority || delaying {
            if self.cfg.version == Version::V3 {
                self.master_adver_int = adv.interval();
            }
            self.down_at = Some(now + self.down_interval());
            self.master_src = Some(*src);
            if !self.cfg.preempt_delay.is_zero() {
                if adv.priority >= self.priority {
                    self.preempt_until = None;
                } else if self.preempt_until.is_none() {
                    self.preempt_until = Some(now + self.cfg.preempt_delay);
                }
            }
            self.wantstate = State::Backup;
        } else {
            // Lower priority and we preempt: let the down timer run out.
            Debug::Discarded {
                instance: &self.cfg.name,
                src,
                theirs: adv.priority,
            }
            .log();
            self.master_src = Some(*src);
        }
    }

    /// MASTER receiving a validated advert (keepalived `vrrp_state_master_rx`).
    pub(crate) fn rx_master(
        &mut self,
        now: Instant,
        adv: &Advert,
        src: &IpAddr,
        out: &mut Vec<Action>,
    ) -> MasterRx {
        let ours = self
            .src
            .map(|a| ip_cmp(src, &a))
            .unwrap_or(std::cmp::Ordering::Equal);
        let higher = adv.priority > self.priority
            || (adv.priority == self.priority && ours == std::cmp::Ordering::Greater);
        if adv.priority == PRIORITY_STOP {
            // The other master is leaving: assert ourselves at once (RFC 3768 §6.4.3).
            self.send_advert(self.priority, out);
            self.advert_at = Some(now + self.cfg.advert_int);
            return MasterRx::Stay;
        }
        if higher {
            if self.cfg.higher_prio_send_advert {
                self.send_advert(self.priority, out);
            }
            Debug::Yield {
                instance: &self.cfg.name,
                src,
                theirs: adv.priority,
                ours: self.priority,
            }
            .log();
            if self.cfg.version == Version::V3 {
                self.master_adver_int = adv.interval();
            }
            self.master_src = Some(*src);
            self.leave_master(now, State::Backup, out);
            return MasterRx::Yielded;
        }
        if ours != std::cmp::Ordering::Equal || adv.priority != self.priority {
            Debug::LowerPriority {
                instance: &self.cfg.name,
                src,
                theirs: adv.priority,
                ours: self.priority,
            }
            .log();
            // RFC 9568 §6.4.3 / keepalived: answer at once so a split brain ends now.
            if !self.cfg.lower_prio_no_advert {
                self.send_advert(self.priority, out);
            }
        }
        MasterRx::Stay
    }
}

/// Unsigned comparison of addresses in network byte order (keepalived's tie break).
pub(crate) fn ip_cmp(a: &IpAddr, b: &IpAddr) -> std::cmp::Ordering {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets().cmp(&b.octets()),
        (IpAddr::V6(a), IpAddr::V6(b)) => a.octets().cmp(&b.octets()),
        _ => std::cmp::Ordering::Equal,
    }
}

/// The scripts keepalived runs on entering `state`: `notify_<state>` as configured, then
/// `notify` with `INSTANCE|GROUP NAME STATE PRIORITY` appended.
pub(crate) fn notifications(
    notify: &Notify,
    scope: Scope,
    name: &str,
    state: State,
    priority: u8,
    out: &mut Vec<Action>,
) {
    let specific = match state {
        State::Master => &notify.master,
        State::Backup => &notify.backup,
        State::Fault => &notify.fault,
        State::Stop => &notify.stop,
        State::Init => &None,
    };
    if let Some(s) = specific {
        out.push(Action::Run(s.clone()));
    }
    if let Some(s) = &notify.any {
        let mut s = s.clone();
        s.argv.extend([
            scope.as_str().to_string(),
            name.to_string(),
            state.as_str().to_string(),
            priority.to_string(),
        ]);
        out.push(Action::Run(s));
    }
}
