//! Per-state timeouts in milliseconds, with IPVS's defaults and `--set` overrides.

use crate::model::Timeouts;

use super::sctp::{self, SCTP_STATES, SctpState};
use super::tcp::{TCP_STATES, TcpState};

/// Longest timeout an entry can hold (about 12.4 days); longer ones are clamped. Times are
/// stored as wrapping 32-bit milliseconds, so `expire` must run at least this often.
pub const MAX_TIMEOUT_MS: u32 = 1 << 30;

/// Per-state timeouts in milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct StateTimeouts {
    pub(crate) tcp: [u32; TCP_STATES],
    pub(crate) sctp: [u32; SCTP_STATES],
    pub(crate) udp: u32,
}

pub(crate) fn secs_to_ms(secs: u32) -> u32 {
    (u64::from(secs) * 1000).min(u64::from(MAX_TIMEOUT_MS)) as u32
}

impl StateTimeouts {
    pub(crate) fn new(t: Timeouts) -> StateTimeouts {
        let mut s = StateTimeouts {
            tcp: TcpState::ALL.map(|s| secs_to_ms(s.default_timeout_secs())),
            sctp: SctpState::ALL.map(|s| secs_to_ms(s.default_timeout_secs())),
            udp: secs_to_ms(sctp::UDP_DEFAULT_TIMEOUT_SECS),
        };
        s.apply(t);
        s
    }

    pub(crate) fn apply(&mut self, t: Timeouts) {
        if t.tcp != 0 {
            self.tcp[TcpState::Established as usize] = secs_to_ms(t.tcp);
        }
        if t.tcp_fin != 0 {
            self.tcp[TcpState::FinWait as usize] = secs_to_ms(t.tcp_fin);
        }
        if t.udp != 0 {
            self.udp = secs_to_ms(t.udp);
        }
    }
}
