//! What the engine asks the outside world to do, and what it reports.

use std::fmt;
use std::net::IpAddr;

use crate::config::{Script, VirtualIp};

/// The state of an instance or a sync group (keepalived's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not started yet.
    Init,
    /// Listening to the master; VIPs absent.
    Backup,
    /// Sending adverts; VIPs present.
    Master,
    /// A tracked object failed (or the interface is down): silent, VIPs absent.
    Fault,
    /// Shut down.
    Stop,
}

impl State {
    /// The word keepalived passes to `notify` scripts.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
            State::Stop => "STOP",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a state change is an instance's or a sync group's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A `vrrp_instance`.
    Instance,
    /// A `vrrp_sync_group`.
    Group,
}

impl Scope {
    /// `INSTANCE` or `GROUP`, as `notify` scripts receive it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Instance => "INSTANCE",
            Scope::Group => "GROUP",
        }
    }
}

/// A transition, reported to observers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    /// Instance or group.
    pub scope: Scope,
    /// Its name.
    pub name: String,
    /// State before.
    pub from: State,
    /// State after.
    pub to: State,
    /// Effective priority (0 for a group, as keepalived reports it).
    pub priority: u8,
}

/// One VRRP message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Instance sending it.
    pub instance: String,
    /// Interface to send on.
    pub interface: String,
    /// IP source address.
    pub src: IpAddr,
    /// IP destination (the multicast group or one unicast peer).
    pub dst: IpAddr,
    /// TTL / hop limit.
    pub ttl: u8,
    /// The VRRP message (IP payload), checksum filled in.
    pub payload: Vec<u8>,
}

/// Something the driver must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send an advertisement.
    Send(Transmit),
    /// Add these addresses (to `dev`, else `interface`); an address already present is
    /// not an error.
    AddAddresses {
        /// Instance owning them.
        instance: String,
        /// Default interface.
        interface: String,
        /// VIPs then excluded VIPs.
        addrs: Vec<VirtualIp>,
    },
    /// Remove these addresses; an address already absent is not an error.
    RemoveAddresses {
        /// Instance owning them.
        instance: String,
        /// Default interface.
        interface: String,
        /// VIPs then excluded VIPs.
        addrs: Vec<VirtualIp>,
    },
    /// Send `count` gratuitous ARPs (IPv4) / unsolicited NAs (IPv6) for each address.
    Announce {
        /// Instance owning them.
        instance: String,
        /// Default interface.
        interface: String,
        /// Addresses to announce.
        addrs: Vec<VirtualIp>,
        /// Packets per address.
        count: u32,
    },
    /// Run a notify script (don't wait for it).
    Run(Script),
    /// Report a transition.
    StateChange(StateChange),
}
