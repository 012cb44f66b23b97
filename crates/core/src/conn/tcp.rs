//! IPVS's TCP state machine (`ip_vs_proto_tcp.c`): states, default timeouts, the transition
//! tables for the three directions, and which states count as active.
//!
//! The director does not terminate TCP; it only watches the flags of packets passing by to
//! guess the connection's state, exactly as IPVS does. The tables below are the kernel's
//! (5.x/6.x) `tcp_states` and `tcp_states_dos` (used when `secure_tcp` is on).

/// A TCP connection state as IPVS tracks it (numbering as the kernel's `IP_VS_TCP_S_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TcpState {
    /// No packet classified yet (a fresh entry).
    None = 0,
    /// Three-way handshake completed.
    Established = 1,
    /// The real server sent a SYN (seen only in NAT).
    SynSent = 2,
    /// The client sent a SYN.
    SynRecv = 3,
    /// A FIN was seen; closing.
    FinWait = 4,
    /// Both sides closed.
    TimeWait = 5,
    /// Reset or unclassifiable packet.
    Close = 6,
    /// The client closed first (seen in NAT).
    CloseWait = 7,
    /// Waiting for the last ACK.
    LastAck = 8,
    /// Listening (unused by the normal tables but kept for completeness).
    Listen = 9,
    /// SYN-ACK seen by the strict (`secure_tcp`) tables.
    SynAck = 10,
}

/// Number of TCP states.
pub const TCP_STATES: usize = 11;

impl TcpState {
    /// All states in kernel order.
    pub const ALL: [TcpState; TCP_STATES] = [
        TcpState::None,
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::SynAck,
    ];

    /// The state with the kernel's number `n`, if any.
    pub const fn from_u8(n: u8) -> Option<TcpState> {
        if (n as usize) < TCP_STATES {
            Some(Self::ALL[n as usize])
        } else {
            None
        }
    }

    /// The name `ipvsadm -L -c` prints.
    pub const fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::SynAck => "SYNACK",
        }
    }

    /// Whether an entry in this state counts in the destination's ActiveConn (kernel ≥ 4.7:
    /// ESTABLISHED and the half-open states SYN_SENT, SYN_RECV, SYNACK).
    pub const fn is_active(self) -> bool {
        matches!(
            self,
            TcpState::Established | TcpState::SynSent | TcpState::SynRecv | TcpState::SynAck
        )
    }

    /// IPVS's default timeout for this state, in seconds.
    pub const fn default_timeout_secs(self) -> u32 {
        match self {
            TcpState::None => 2,
            TcpState::Established => 900,
            TcpState::SynSent => 120,
            TcpState::SynRecv => 60,
            TcpState::FinWait => 120,
            TcpState::TimeWait => 120,
            TcpState::Close => 10,
            TcpState::CloseWait => 60,
            TcpState::LastAck => 30,
            TcpState::Listen => 120,
            TcpState::SynAck => 120,
        }
    }
}

/// The TCP flags byte (offset 13 of the header); only FIN, SYN, RST and ACK matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN bit.
    pub const FIN: u8 = 0x01;
    /// SYN bit.
    pub const SYN: u8 = 0x02;
    /// RST bit.
    pub const RST: u8 = 0x04;
    /// ACK bit.
    pub const ACK: u8 = 0x10;

    /// Whether SYN is set (a new-connection packet for the scheduler and conn_reuse_mode).
    pub const fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }

    /// Whether RST is set.
    pub const fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }

    /// The row of the transition table this packet selects (`tcp_state_idx`): RST beats SYN
    /// beats FIN beats ACK; `None` when none of them is set.
    const fn event(self) -> Option<usize> {
        if self.0 & Self::RST != 0 {
            Some(3)
        } else if self.0 & Self::SYN != 0 {
            Some(0)
        } else if self.0 & Self::FIN != 0 {
            Some(1)
        } else if self.0 & Self::ACK != 0 {
            Some(2)
        } else {
            None
        }
    }
}

/// Which way a packet travels relative to the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client → virtual service (every forwarding method).
    Input,
    /// Real server → client (NAT replies; the only time the director sees replies).
    Output,
}

/// The table used for a packet: the entry's NOOUTPUT flag turns Input into InputOnly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Input = 0,
    Output = 1,
    InputOnly = 2,
}

const ES: u8 = 1;
const SS: u8 = 2;
const SR: u8 = 3;
const FW: u8 = 4;
const TW: u8 = 5;
const CL: u8 = 6;
const CW: u8 = 7;
const LA: u8 = 8;
const LI: u8 = 9;
const SA: u8 = 10;

type Rows = [[u8; TCP_STATES]; 4];

// Columns: current state NO ES SS SR FW TW CL CW LA LI SA; rows: syn, fin, ack, rst.
const NORMAL: [Rows; 3] = [
    // INPUT
    [
        [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
        [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
    ],
    // OUTPUT
    [
        [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
        [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
        [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
    ],
    // INPUT-ONLY
    [
        [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
        [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
];

// `secure_tcp` (defense mode): keeps half-open entries in SR/SA.
const SECURE: [Rows; 3] = [
    // INPUT
    [
        [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SA],
        [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, SA],
        [ES, ES, SS, SR, FW, TW, CL, CW, CL, LI, SA],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
    // OUTPUT
    [
        [SS, ES, SS, SA, SS, SS, SS, SS, SS, LI, SA],
        [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
        [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
    ],
    // INPUT-ONLY
    [
        [SA, ES, ES, SR, SA, SA, SA, SA, SA, SA, SA],
        [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
];

/// The next state for a packet with `flags` in `table`, from state number `state`.
/// A packet with none of SYN/FIN/ACK/RST moves the entry to CLOSE, as in the kernel.
#[inline(always)]
pub(crate) fn next_state(state: u8, table: Table, flags: TcpFlags, secure: bool) -> u8 {
    // Most packets: an ACK (no SYN, FIN, RST) of an established connection, which every
    // table of both sets leaves ESTABLISHED (a test walks them all).
    let event = flags.0 & (TcpFlags::RST | TcpFlags::SYN | TcpFlags::FIN | TcpFlags::ACK);
    if state == ES && event == TcpFlags::ACK {
        return ES;
    }
    walk(state, table, flags, secure)
}

/// [`next_state`] through the transition tables.
#[inline(never)]
fn walk(state: u8, table: Table, flags: TcpFlags, secure: bool) -> u8 {
    let Some(row) = flags.event() else {
        return CL;
    };
    let col = (state as usize).min(TCP_STATES - 1);
    let rows = if secure { &SECURE } else { &NORMAL };
    rows[table as usize][row][col]
}

/// Active-state lookup by number (out-of-range numbers are inactive).
#[inline]
pub(crate) fn active(state: u8) -> bool {
    matches!(TcpState::from_u8(state), Some(s) if s.is_active())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(start: TcpState, steps: &[(Table, u8)]) -> Vec<TcpState> {
        let mut s = start as u8;
        steps
            .iter()
            .map(|&(t, f)| {
                s = next_state(s, t, TcpFlags(f), false);
                TcpState::from_u8(s).unwrap()
            })
            .collect()
    }

    #[test]
    fn an_established_ack_stays_established_in_every_table() {
        for secure in [false, true] {
            for table in [Table::Input, Table::Output, Table::InputOnly] {
                for extra in [0u8, 0x08, 0x20, 0x40, 0x80, 0xe8] {
                    let f = TcpFlags(TcpFlags::ACK | extra);
                    assert_eq!(walk(ES, table, f, secure), ES, "{table:?} {secure}");
                    assert_eq!(next_state(ES, table, f, secure), ES);
                }
            }
        }
    }

    const SYN: u8 = TcpFlags::SYN;
    const ACK: u8 = TcpFlags::ACK;
    const FIN_ACK: u8 = TcpFlags::FIN | TcpFlags::ACK;
    const SYN_ACK: u8 = TcpFlags::SYN | TcpFlags::ACK;
    const RST: u8 = TcpFlags::RST;

    #[test]
    fn nat_handshake_and_client_close() {
        use Table::{Input as I, Output as O};
        let got = run(
            TcpState::None,
            &[
                (I, SYN),
                (O, SYN_ACK),
                (I, ACK),
                (I, FIN_ACK),
                (O, ACK),
                (O, FIN_ACK),
                (I, ACK),
            ],
        );
        use TcpState::*;
        assert_eq!(
            got,
            [
                SynRecv,
                SynRecv,
                Established,
                CloseWait,
                CloseWait,
                TimeWait,
                TimeWait
            ]
        );
    }

    #[test]
    fn nat_server_closes_first() {
        use Table::{Input as I, Output as O};
        let got = run(
            TcpState::Established,
            &[(O, FIN_ACK), (I, ACK), (I, FIN_ACK), (O, ACK)],
        );
        use TcpState::*;
        assert_eq!(got, [FinWait, FinWait, TimeWait, TimeWait]);
    }

    #[test]
    fn dr_sees_only_client_packets() {
        let t = Table::InputOnly;
        let got = run(
            TcpState::None,
            &[(t, SYN), (t, ACK), (t, FIN_ACK), (t, ACK)],
        );
        use TcpState::*;
        assert_eq!(got, [SynRecv, Established, FinWait, FinWait]);
    }

    #[test]
    fn rst_and_flagless_packets() {
        use TcpState::*;
        assert_eq!(run(Established, &[(Table::Input, RST)]), [Close]);
        assert_eq!(run(SynRecv, &[(Table::Input, RST)]), [SynRecv]);
        assert_eq!(run(SynRecv, &[(Table::Output, RST)]), [Close]);
        assert_eq!(run(SynAck, &[(Table::InputOnly, RST)]), [Close]);
        assert_eq!(run(Established, &[(Table::Input, 0)]), [Close]);
        // RST wins over SYN.
        assert_eq!(run(Established, &[(Table::Input, SYN | RST)]), [Close]);
    }

    #[test]
    fn secure_tables_hold_half_open() {
        let s = next_state(SR, Table::Output, TcpFlags(SYN_ACK), true);
        assert_eq!(s, SA);
        assert_eq!(next_state(SA, Table::Input, TcpFlags(ACK), true), SA);
        assert_eq!(
            next_state(TcpState::None as u8, Table::InputOnly, TcpFlags(SYN), true),
            SA
        );
        assert_eq!(next_state(SR, Table::Input, TcpFlags(ACK), true), SR);
        assert_eq!(next_state(SR, Table::Input, TcpFlags(ACK), false), ES);
    }

    #[test]
    fn names_timeouts_activity() {
        let names: Vec<_> = TcpState::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "NONE",
                "ESTABLISHED",
                "SYN_SENT",
                "SYN_RECV",
                "FIN_WAIT",
                "TIME_WAIT",
                "CLOSE",
                "CLOSE_WAIT",
                "LAST_ACK",
                "LISTEN",
                "SYNACK"
            ]
        );
        let secs: Vec<_> = TcpState::ALL
            .iter()
            .map(|s| s.default_timeout_secs())
            .collect();
        assert_eq!(secs, [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120]);
        let act: Vec<_> = TcpState::ALL.iter().map(|s| s.is_active()).collect();
        assert_eq!(
            act,
            [
                false, true, true, true, false, false, false, false, false, false, true
            ]
        );
        assert!(!active(200));
        assert_eq!(TcpState::from_u8(11), None);
    }
}
