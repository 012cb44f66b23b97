//! VRRP v2 (RFC 3768) and v3 (RFC 5798 / 9568) for rvs-keepalived, with keepalived's own
//! behaviour where it differs from the RFCs.
//!
//! Layers, holo-vrrp style:
//!
//! | module | holds |
//! |---|---|
//! | [`packet`] | advert encode/decode, one [`DecodeError`] per failure |
//! | [`config`] | the plain configuration (field names of keepalived.conf) and its validation |
//! | [`timer`] | Skew_Time and Master_Down_Interval, as keepalived computes them |
//! | `instance` | one instance's state and transitions (INIT/BACKUP/MASTER/FAULT/STOP) |
//! | [`events`] | the sans-I/O [`Engine`]: sync groups, trackers, faults; `events/receive.rs`: demultiplexing and receive validation; `events/reconfigure.rs`: reload in place ([`Engine::reconfigure`]) |
//! | [`action`] | what the engine asks for: adverts, VIPs, GARP/NA bursts, notify scripts |
//! | [`network`], [`netlink`], [`exec`] | sockets, addresses, scripts: I/O only |
//! | [`driver`] | threads that run an [`Engine`] on real interfaces: [`Driver`] |
//!
//! The engine never reads a clock or a socket: feed it `now` and inputs, take
//! [`Action`]s with [`Engine::poll_action`] and sleep until [`Engine::poll_timeout`].
//! The [`Driver`] does exactly that with raw sockets (protocol 112), netlink and
//! AF_PACKET; the daemon builds a [`Config`], calls [`Driver::start`], watches
//! [`StateChange`]s, calls [`Driver::reconfigure`] on reload (matched instances keep their
//! state, VIPs change by difference) and [`Driver::shutdown`] (priority-0 adverts, VIPs
//! removed).

pub mod action;
pub mod config;
mod debug;
pub mod driver;
pub mod error;
pub mod events;
pub mod exec;
mod instance;
pub mod netlink;
pub mod network;
pub mod packet;
pub mod timer;
mod track;

#[cfg(test)]
mod fixtures;

pub use action::{Action, Scope, State, StateChange, Transmit};
pub use config::{
    Config, InitialState, InstanceConfig, Notify, Script, ScriptConfig, SyncGroupConfig,
    TrackInterface, TrackScript, UnicastPeer, VirtualIp, Warning,
};
pub use driver::Driver;
pub use error::{ConfigError, Error, RxError};
pub use events::{Engine, InstanceStatus, LinkState, Received};
pub use instance::Stats;
pub use packet::{Advert, Auth, DecodeError, Version};
