//! What to do when a new-connection packet (TCP SYN, SCTP INIT) hits an existing entry:
//! IPVS's `conn_reuse_mode` and `expire_nodest_conn` rules from `ip_vs_in`.

use super::ConnId;
use super::entry::{PROTO_SCTP, PROTO_TCP, flag};
use super::params::Segment;
use super::sctp::SctpState;
use super::table::ConnTable;
use super::tcp::TcpState;

/// The sysctls that decide port-reuse handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReusePolicy {
    /// `conn_reuse_mode` (default 1): bit 1 reschedule over TIME_WAIT/CLOSE entries, bit 2
    /// also over FIN_WAIT entries without replies (DR/TUN); 0 disables.
    pub conn_reuse_mode: u8,
    /// `expire_nodest_conn` (default 0): reschedule when the old server has weight 0.
    pub expire_nodest_conn: bool,
}

impl Default for ReusePolicy {
    fn default() -> Self {
        ReusePolicy {
            conn_reuse_mode: 1,
            expire_nodest_conn: false,
        }
    }
}

impl ConnTable {
    /// Whether the packet `seg`, which found entry `id`, should instead be scheduled as a new
    /// connection. Entries controlled by a template never are (persistence must hold).
    /// `dest_weight_zero` is whether the entry's server now has weight 0. When this returns
    /// true the caller calls [`expire_now`](ConnTable::expire_now) on the old entry (as
    /// IPVS does; there is no conntrack here, so the SYN is never dropped) and schedules.
    pub fn should_reschedule(
        &self,
        id: ConnId,
        seg: Segment,
        policy: ReusePolicy,
        dest_weight_zero: bool,
    ) -> bool {
        let Some(c) = self.get(id) else { return false };
        if !seg.is_new_conn() || c.is_template() || c.control().is_some() {
            return false;
        }
        if policy.expire_nodest_conn && dest_weight_zero {
            return true;
        }
        if policy.conn_reuse_mode == 0 {
            return false;
        }
        let e = c.e;
        match e.proto {
            PROTO_TCP => {
                e.state == TcpState::TimeWait as u8
                    || e.state == TcpState::Close as u8
                    || (policy.conn_reuse_mode & 2 != 0
                        && e.state == TcpState::FinWait as u8
                        && e.has(flag::NOOUTPUT))
            }
            PROTO_SCTP => e.state == SctpState::Closed as u8,
            _ => false,
        }
    }
}
