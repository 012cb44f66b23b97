//! IPVS's SCTP state machine (`ip_vs_proto_sctp.c`) and the single UDP state.
//!
//! SCTP states are driven by the type of the first chunk of each packet (with one twist:
//! a COOKIE ECHO or COOKIE ACK followed by an ABORT counts as the ABORT). Only ESTABLISHED
//! counts as active.

/// An SCTP association state as IPVS tracks it (numbering as `IP_VS_SCTP_S_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum SctpState {
    /// Fresh entry.
    None = 0,
    /// First INIT from the client, waiting for INIT ACK.
    Init1 = 1,
    /// A repeated INIT.
    Init = 2,
    /// The server sent INIT ACK.
    CookieSent = 3,
    /// The client sent COOKIE ECHO.
    CookieReplied = 4,
    /// The server sent INIT.
    CookieWait = 5,
    /// The client sent INIT ACK.
    Cookie = 6,
    /// The server sent COOKIE ECHO.
    CookieEchoed = 7,
    /// Association up.
    Established = 8,
    /// SHUTDOWN sent by the server.
    ShutdownSent = 9,
    /// SHUTDOWN sent by the client.
    ShutdownReceived = 10,
    /// SHUTDOWN ACK sent.
    ShutdownAckSent = 11,
    /// INIT answered by ABORT.
    Rejected = 12,
    /// Closed.
    Closed = 13,
}

/// Number of SCTP states.
pub const SCTP_STATES: usize = 14;

impl SctpState {
    /// All states in kernel order.
    pub const ALL: [SctpState; SCTP_STATES] = [
        SctpState::None,
        SctpState::Init1,
        SctpState::Init,
        SctpState::CookieSent,
        SctpState::CookieReplied,
        SctpState::CookieWait,
        SctpState::Cookie,
        SctpState::CookieEchoed,
        SctpState::Established,
        SctpState::ShutdownSent,
        SctpState::ShutdownReceived,
        SctpState::ShutdownAckSent,
        SctpState::Rejected,
        SctpState::Closed,
    ];

    /// The state with the kernel's number `n`, if any.
    pub const fn from_u8(n: u8) -> Option<SctpState> {
        if (n as usize) < SCTP_STATES {
            Some(Self::ALL[n as usize])
        } else {
            None
        }
    }

    /// The name the kernel prints in /proc/net/ip_vs_conn (and so `ipvsadm -L -c`).
    pub const fn name(self) -> &'static str {
        match self {
            SctpState::None => "NONE",
            SctpState::Init1 => "INIT1",
            SctpState::Init => "INIT",
            SctpState::CookieSent => "C-SENT",
            SctpState::CookieReplied => "C-REPLIED",
            SctpState::CookieWait => "C-WAIT",
            SctpState::Cookie => "COOKIE",
            SctpState::CookieEchoed => "C-ECHOED",
            SctpState::Established => "ESTABLISHED",
            SctpState::ShutdownSent => "S-SENT",
            SctpState::ShutdownReceived => "S-RECEIVED",
            SctpState::ShutdownAckSent => "S-ACK-SENT",
            SctpState::Rejected => "REJECTED",
            SctpState::Closed => "CLOSED",
        }
    }

    /// IPVS's default timeout in seconds (61 s is the kernel's maximum RTO + 1).
    pub const fn default_timeout_secs(self) -> u32 {
        match self {
            SctpState::None => 2,
            SctpState::Init1 | SctpState::Rejected => 4,
            SctpState::Established => 900,
            _ => 61,
        }
    }
}

/// The chunk that drives an SCTP packet's transition (`ipvs_sctp_event_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SctpEvent {
    /// DATA, SACK, HEARTBEAT(-ACK), ECNE, CWR and unknown chunk types.
    Data = 0,
    /// INIT (a new association: the scheduler may run).
    Init = 1,
    /// INIT ACK.
    InitAck = 2,
    /// COOKIE ECHO.
    CookieEcho = 3,
    /// COOKIE ACK.
    CookieAck = 4,
    /// SHUTDOWN.
    Shutdown = 5,
    /// SHUTDOWN ACK.
    ShutdownAck = 6,
    /// SHUTDOWN COMPLETE.
    ShutdownComplete = 7,
    /// ERROR.
    Error = 8,
    /// ABORT.
    Abort = 9,
}

impl SctpEvent {
    /// Classify a packet by the type of its first chunk and, when the first chunk is a
    /// COOKIE ECHO or COOKIE ACK, the type of the chunk after it (an ABORT there wins).
    pub const fn from_chunks(first: u8, second: Option<u8>) -> SctpEvent {
        const ABORT: u8 = 6;
        const COOKIE_ECHO: u8 = 10;
        const COOKIE_ACK: u8 = 11;
        let t = match (first, second) {
            (COOKIE_ECHO | COOKIE_ACK, Some(ABORT)) => ABORT,
            _ => first,
        };
        match t {
            1 => SctpEvent::Init,
            2 => SctpEvent::InitAck,
            6 => SctpEvent::Abort,
            7 => SctpEvent::Shutdown,
            8 => SctpEvent::ShutdownAck,
            9 => SctpEvent::Error,
            10 => SctpEvent::CookieEcho,
            11 => SctpEvent::CookieAck,
            14 => SctpEvent::ShutdownComplete,
            _ => SctpEvent::Data,
        }
    }
}

const I1: u8 = 1;
const IN: u8 = 2;
const CS: u8 = 3;
const CR: u8 = 4;
const CW: u8 = 5;
const CO: u8 = 6;
const CE: u8 = 7;
const ES: u8 = 8;
const SS: u8 = 9;
const SR: u8 = 10;
const SA: u8 = 11;
const RJ: u8 = 12;
const CL: u8 = 13;

type Rows = [[u8; SCTP_STATES]; 10];

// [direction: input, output, input-only][event][current state]
const STATES: [Rows; 3] = [
    [
        [ES, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        [I1, IN, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, IN, IN],
        [CW, CW, CW, CS, CR, CO, CO, CE, ES, SS, SR, SA, RJ, CL],
        [CR, IN, IN, CR, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        [ES, I1, IN, CS, CR, CW, CO, ES, ES, SS, SR, SA, RJ, CL],
        [SR, I1, IN, CS, CR, CW, CO, CE, SR, SS, SR, SA, RJ, CL],
        [CL, IN, IN, CS, CR, CW, CO, CE, ES, CL, SR, CL, RJ, CL],
        [CL, CL, CL, CS, CR, CW, CO, CE, ES, SS, SR, CL, RJ, CL],
        [CL, I1, IN, CS, CR, CW, CO, CL, ES, SS, SR, SA, RJ, CL],
        [CL, CL, CL, CL, CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL],
    ],
    [
        [ES, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        [CW, CW, CW, CW, CW, CW, CW, CW, ES, CW, CW, CW, CW, CW],
        [CS, CS, CS, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        [CE, CE, CE, CE, CE, CE, CE, CE, ES, SS, SR, SA, RJ, CL],
        [ES, ES, ES, ES, ES, ES, ES, ES, ES, SS, SR, SA, RJ, CL],
        [SS, SS, SS, SS, SS, SS, SS, SS, SS, SS, SR, SA, RJ, CL],
        [SA, SA, SA, SA, SA, CW, CO, CE, ES, SA, SA, SA, RJ, CL],
        [CL, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        [CL, CL, CL, CL, CL, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        [CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL],
    ],
    [
        [ES, I1, IN, CS, CR, ES, CO, CE, ES, SS, SR, SA, RJ, CL],
        [I1, IN, IN, IN, IN, IN, CO, CE, ES, SS, SR, SA, IN, IN],
        [CE, CE, CE, CE, CE, CE, CO, CE, ES, SS, SR, SA, RJ, CL],
        [ES, ES, ES, ES, ES, ES, CO, CE, ES, SS, SR, SA, RJ, CL],
        [ES, I1, IN, ES, ES, CW, ES, ES, ES, SS, SR, SA, RJ, CL],
        [SR, I1, IN, CS, CR, CW, CO, CE, SR, SS, SR, SA, RJ, CL],
        [CL, IN, IN, CS, CR, CW, CO, CE, CL, CL, SR, CL, RJ, CL],
        [CL, CL, CL, CL, CL, CW, CO, CE, ES, SS, CL, CL, RJ, CL],
        [CL, I1, IN, CS, CR, CW, CO, CE, ES, SS, SR, SA, RJ, CL],
        [CL, CL, CL, CL, CL, RJ, CL, CL, CL, CL, CL, CL, CL, CL],
    ],
];

/// The next SCTP state; `table` is 0 input, 1 output, 2 input-only.
#[inline]
pub(crate) fn next_state(state: u8, table: usize, event: SctpEvent) -> u8 {
    let col = (state as usize).min(SCTP_STATES - 1);
    STATES[table.min(2)][event as usize][col]
}

/// Whether an SCTP state counts as active (only ESTABLISHED).
#[inline]
pub(crate) const fn active(state: u8) -> bool {
    state == ES
}

/// The only UDP state's name, as the kernel prints it.
pub const UDP_STATE_NAME: &str = "UDP";

/// IPVS's default UDP timeout in seconds.
pub const UDP_DEFAULT_TIMEOUT_SECS: u32 = 300;

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(steps: &[(usize, SctpEvent)]) -> Vec<SctpState> {
        let mut s = SctpState::None as u8;
        steps
            .iter()
            .map(|&(t, e)| {
                s = next_state(s, t, e);
                SctpState::from_u8(s).unwrap()
            })
            .collect()
    }

    #[test]
    fn nat_association_setup_and_shutdown() {
        use SctpEvent::*;
        use SctpState as S;
        let got = walk(&[
            (0, Init),
            (1, InitAck),
            (0, CookieEcho),
            (1, CookieAck),
            (0, Data),
            (0, Shutdown),
            (1, ShutdownAck),
            (0, ShutdownComplete),
        ]);
        assert_eq!(
            got,
            [
                S::Init1,
                S::CookieSent,
                S::CookieReplied,
                S::Established,
                S::Established,
                S::ShutdownReceived,
                S::ShutdownAckSent,
                S::Closed
            ]
        );
    }

    #[test]
    fn dr_association_input_only() {
        use SctpEvent::*;
        let got = walk(&[(2, Init), (2, CookieEcho), (2, Data)]);
        assert_eq!(
            got,
            [
                SctpState::Init1,
                SctpState::Established,
                SctpState::Established
            ]
        );
    }

    #[test]
    fn abort_after_cookie_wins() {
        assert_eq!(SctpEvent::from_chunks(10, Some(6)), SctpEvent::Abort);
        assert_eq!(SctpEvent::from_chunks(11, Some(6)), SctpEvent::Abort);
        assert_eq!(SctpEvent::from_chunks(10, Some(0)), SctpEvent::CookieEcho);
        assert_eq!(SctpEvent::from_chunks(0, Some(6)), SctpEvent::Data);
        assert_eq!(SctpEvent::from_chunks(200, None), SctpEvent::Data);
        assert_eq!(SctpEvent::from_chunks(1, None), SctpEvent::Init);
    }

    #[test]
    fn timeouts_and_names() {
        let t: Vec<_> = SctpState::ALL
            .iter()
            .map(|s| s.default_timeout_secs())
            .collect();
        assert_eq!(t, [2, 4, 61, 61, 61, 61, 61, 61, 900, 61, 61, 61, 4, 61]);
        assert_eq!(SctpState::CookieSent.name(), "C-SENT");
        assert!(active(SctpState::Established as u8));
        assert!(!active(SctpState::Init as u8));
    }
}
