//! Every trace event of the crate in one enum, so what is logged and at which level is
//! decided in one place.

use std::net::IpAddr;

use crate::action::State;
use crate::error::RxError;

/// A trace event.
#[derive(Debug)]
pub(crate) enum Debug<'a> {
    /// An instance changed state.
    InstanceState {
        name: &'a str,
        from: State,
        to: State,
        priority: u8,
    },
    /// A sync group changed state.
    GroupState { name: &'a str, to: State },
    /// A received packet was dropped.
    Dropped {
        instance: Option<&'a str>,
        src: &'a IpAddr,
        reason: &'a RxError,
    },
    /// The advert's VIPs differ from ours (logged only, as keepalived does).
    AddressList {
        instance: &'a str,
        src: &'a IpAddr,
        ours: usize,
        theirs: usize,
    },
    /// A master saw a lower-priority advert and answers to force a new election.
    LowerPriority {
        instance: &'a str,
        src: &'a IpAddr,
        theirs: u8,
        ours: u8,
    },
    /// A backup discarded a lower-priority advert (it will preempt).
    Discarded {
        instance: &'a str,
        src: &'a IpAddr,
        theirs: u8,
    },
    /// A master yields to a higher-priority (or equal, higher-IP) advert.
    Yield {
        instance: &'a str,
        src: &'a IpAddr,
        theirs: u8,
        ours: u8,
    },
    /// Trackers changed the effective priority.
    Priority { instance: &'a str, from: u8, to: u8 },
    /// A `vrrp_script` changed status.
    Script { name: &'a str, up: bool },
    /// A configuration correction.
    ConfigWarning { name: &'a str, message: &'a str },
    /// A reload kept the instance in its state (`restarted` false) or started it over.
    Reloaded {
        instance: &'a str,
        state: State,
        restarted: bool,
    },
}

impl Debug<'_> {
    /// Emits the event through `tracing`.
    pub(crate) fn log(&self) {
        match self {
            Debug::InstanceState {
                name,
                from,
                to,
                priority,
            } => {
                tracing::info!(instance = name, %from, %to, priority, "({name}) Entering {to} STATE")
            }
            Debug::GroupState { name, to } => {
                tracing::info!(group = name, %to, "VRRP_Group({name}) Syncing instances to {to} state")
            }
            Debug::Dropped {
                instance,
                src,
                reason,
            } => {
                tracing::debug!(instance = instance.unwrap_or("-"), %src, %reason, "advert dropped")
            }
            Debug::AddressList {
                instance,
                src,
                ours,
                theirs,
            } => tracing::info!(
                instance,
                %src,
                "({instance}) expected {ours} VIPs but received {theirs} (or a different list)"
            ),
            Debug::LowerPriority {
                instance,
                src,
                theirs,
                ours,
            } => tracing::info!(
                instance,
                %src,
                "({instance}) Received advert from {src} with lower priority {theirs}, ours {ours}, forcing new election"
            ),
            Debug::Discarded {
                instance,
                src,
                theirs,
            } => tracing::info!(
                instance,
                %src,
                "({instance}) received lower priority ({theirs}) advert from {src} - discarding"
            ),
            Debug::Yield {
                instance,
                src,
                theirs,
                ours,
            } => tracing::info!(
                instance,
                %src,
                "({instance}) Master received advert from {src} with priority {theirs}, ours {ours}"
            ),
            Debug::Priority { instance, from, to } => tracing::info!(
                instance,
                "({instance}) Changing effective priority from {from} to {to}"
            ),
            Debug::Script { name, up } => {
                tracing::info!(
                    script = name,
                    up,
                    "VRRP_Script({name}) {}",
                    if *up { "succeeded" } else { "failed" }
                )
            }
            Debug::ConfigWarning { name, message } => tracing::warn!(name, "({name}) {message}"),
            Debug::Reloaded {
                instance,
                state,
                restarted,
            } => {
                if *restarted {
                    tracing::info!(
                        instance,
                        "({instance}) changed VRID, interface or family on reload - starting over"
                    )
                } else {
                    tracing::info!(instance, %state, "({instance}) reconfigured in place, staying {state}")
                }
            }
        }
    }
}
