//! VRRP advertisements on the wire: v2 (RFC 3768 §5) and v3 (RFC 5798 / RFC 9568 §5).
//!
//! The contract: [`Advert::decode`] takes the VRRP message (the IP payload, no IP header)
//! with the source and destination addresses of the IP packet that carried it, checks every
//! field a receiver must check before the state machine may look at it, and returns one
//! [`DecodeError`] per kind of failure. It never panics, whatever the bytes.
//! [`Advert::encode`] builds the message with its checksum; it never fails (fields that
//! cannot be represented are clamped, see its doc), because the instance configuration is
//! validated before anything is sent.
//!
//! Checksums: v2 covers the VRRP message only; v3 adds the IPv4 or IPv6 pseudo-header
//! (protocol 112, VRRP length), as keepalived does by default.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use rvs_wire::checksum;

/// IP protocol number of VRRP.
pub const PROTOCOL: u8 = 112;
/// IPv4 multicast group of VRRP (224.0.0.18).
pub const MULTICAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// IPv6 multicast group of VRRP (ff02::12).
pub const MULTICAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// TTL / hop limit every multicast advert is sent with and must arrive with.
pub const TTL: u8 = 255;
/// Length of the fixed VRRP header.
pub const HEADER_LEN: usize = 8;
/// Length of the v2 authentication data trailer.
pub const AUTH_LEN: usize = 8;
/// Largest v3 Max Adver Int (12 bits of centiseconds: 40.95 s).
pub const MAX_V3_INTERVAL_CS: u16 = 0x0fff;
/// The only VRRP packet type: ADVERTISEMENT.
pub const TYPE_ADVERTISEMENT: u8 = 1;

/// Priority a master sends when it stops (RFC 3768 §5.3.4).
pub const PRIORITY_STOP: u8 = 0;
/// Priority of the address owner.
pub const PRIORITY_OWNER: u8 = 255;

/// The VRRP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// VRRPv2 (RFC 3768): IPv4 only, interval in seconds, optional PASS authentication.
    V2,
    /// VRRPv3 (RFC 5798 / 9568): IPv4 and IPv6, interval in centiseconds.
    V3,
}

impl Version {
    /// The version nibble.
    pub fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// VRRPv2 authentication (RFC 2338 §5.3.6; removed by RFC 3768 but still used with
/// keepalived).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Auth {
    /// Type 0: no authentication (always for v3).
    None,
    /// Type 1: an 8-byte clear-text password, zero padded.
    Pass([u8; AUTH_LEN]),
    /// Type 2: IP Authentication Header. Recognised so it can be rejected with a reason;
    /// rvs does not implement AH.
    Ah,
}

impl Auth {
    /// The auth type byte of a v2 header.
    pub fn type_byte(&self) -> u8 {
        match self {
            Auth::None => 0,
            Auth::Pass(_) => 1,
            Auth::Ah => 2,
        }
    }

    /// A PASS authentication from a password: truncated to 8 bytes, zero padded (what
    /// keepalived does with `auth_pass`).
    pub fn pass(password: &[u8]) -> Auth {
        let mut p = [0u8; AUTH_LEN];
        for (d, s) in p.iter_mut().zip(password) {
            *d = *s;
        }
        Auth::Pass(p)
    }
}

/// Why bytes are not an acceptable VRRP advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Shorter than the 8-byte header.
    #[error("VRRP packet truncated: {0} bytes")]
    Truncated(usize),
    /// The version nibble is neither 2 nor 3.
    #[error("unknown VRRP version {0}")]
    UnknownVersion(u8),
    /// The type nibble is not 1 (ADVERTISEMENT).
    #[error("invalid VRRP packet type {0}")]
    UnknownType(u8),
    /// Virtual router id 0 is not valid (1–255).
    #[error("virtual router id 0")]
    ZeroVrid,
    /// Source and destination addresses are of different families.
    #[error("source and destination address families differ")]
    FamilyMismatch,
    /// VRRPv2 carried over IPv6 (v2 is IPv4 only).
    #[error("VRRPv2 over IPv6")]
    V2OverIpv6,
    /// The message length does not match the address count (and auth trailer).
    #[error("VRRP length {actual}, expected {expected} from the address count")]
    LengthMismatch {
        /// Length the header implies.
        expected: usize,
        /// Length received.
        actual: usize,
    },
    /// A v2 auth type other than 0, 1, 2.
    #[error("unknown VRRPv2 auth type {0}")]
    UnknownAuthType(u8),
    /// An advertisement interval of 0.
    #[error("advertisement interval 0")]
    ZeroInterval,
    /// The checksum does not verify.
    #[error("invalid VRRPv{version} checksum {found:#06x}")]
    BadChecksum {
        /// Version of the packet, to tell v2 (no pseudo-header) from v3 in logs.
        version: u8,
        /// The checksum field as received.
        found: u16,
    },
}

/// A decoded VRRP advertisement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    /// Protocol version.
    pub version: Version,
    /// Virtual router id (1–255).
    pub vrid: u8,
    /// Priority (0 = the master is stopping, 255 = address owner).
    pub priority: u8,
    /// The advert interval field as on the wire: seconds for v2, centiseconds for v3.
    pub adver_int: u16,
    /// v2 authentication ([`Auth::None`] for v3).
    pub auth: Auth,
    /// The virtual addresses carried (all of the packet's family).
    pub addrs: Vec<IpAddr>,
}

mod field {
    pub const VERSION_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT: usize = 3;
    /// v2 auth type; v3 high nibble reserved + interval high bits.
    pub const AUTH_OR_RSVD: usize = 4;
    /// v2 interval; v3 interval low byte.
    pub const INTERVAL: usize = 5;
    pub const CHECKSUM: core::ops::Range<usize> = 6..8;
}

impl Advert {
    /// The advertisement interval as a duration.
    pub fn interval(&self) -> Duration {
        match self.version {
            Version::V2 => Duration::from_secs(u64::from(self.adver_int)),
            Version::V3 => Duration::from_millis(u64::from(self.adver_int) * 10),
        }
    }

    /// Decodes and fully validates the VRRP message `buf` received from `src` to `dst`.
    pub fn decode(buf: &[u8], src: &IpAddr, dst: &IpAddr) -> Result<Advert, DecodeError> {
        if buf.len() < HEADER_LEN {
            return Err(DecodeError::Truncated(buf.len()));
        }
        let version = match buf[field::VERSION_TYPE] >> 4 {
            2 => Version::V2,
            3 => Version::V3,
            v => return Err(DecodeError::UnknownVersion(v)),
        };
        let kind = buf[field::VERSION_TYPE] & 0x0f;
        if kind != TYPE_ADVERTISEMENT {
            return Err(DecodeError::UnknownType(kind));
        }
        let vrid = buf[field::VRID];
        if vrid == 0 {
            return Err(DecodeError::ZeroVrid);
        }
        let v6 = match (src, dst) {
            (IpAddr::V4(_), IpAddr::V4(_)) => false,
            (IpAddr::V6(_), IpAddr::V6(_)) => true,
            _ => return Err(DecodeError::FamilyMismatch),
        };
        if v6 && version == Version::V2 {
            return Err(DecodeError::V2OverIpv6);
        }
        let count = usize::from(buf[field::COUNT]);
        let alen = if v6 { 16 } else { 4 };
        let trailer = if version == Version::V2 { AUTH_LEN } else { 0 };
        let expected = HEADER_LEN + count * alen + trailer;
        if buf.len() != expected {
            return Err(DecodeError::LengthMismatch {
                expected,
                actual: buf.len(),
            });
        }
        let (adver_int, auth_type) = match version {
            Version::V2 => (u16::from(buf[field::INTERVAL]), buf[field::AUTH_OR_RSVD]),
            Version::V3 => (
                u16::from_be_bytes([buf[field::AUTH_OR_RSVD], buf[field::INTERVAL]])
                    & MAX_V3_INTERVAL_CS,
                0,
            ),
        };
        let auth = match auth_type {
            0 => Auth::None,
            1 => {
                let mut p = [0u8; AUTH_LEN];
                p.copy_from_slice(&buf[expected - AUTH_LEN..]);
                Auth::Pass(p)
            }
            2 => Auth::Ah,
            t => return Err(DecodeError::UnknownAuthType(t)),
        };
        if adver_int == 0 {
            return Err(DecodeError::ZeroInterval);
        }
        if checksum_sum(version, buf, src, dst) != 0xffff {
            let found =
                u16::from_be_bytes([buf[field::CHECKSUM.start], buf[field::CHECKSUM.end - 1]]);
            return Err(DecodeError::BadChecksum {
                version: version.number(),
                found,
            });
        }
        let addrs = buf[HEADER_LEN..HEADER_LEN + count * alen]
            .chunks_exact(alen)
            .map(|c| match <[u8; 16]>::try_from(c) {
                Ok(a16) if v6 => IpAddr::V6(Ipv6Addr::from(a16)),
                _ => IpAddr::V4(Ipv4Addr::new(c[0], c[1], c[2], c[3])),
            })
            .collect();
        Ok(Advert {
            version,
            vrid,
            priority: buf[field::PRIORITY],
            adver_int,
            auth,
            addrs,
        })
    }

    /// Builds the VRRP message for sending from `src` to `dst`, checksum filled in.
    ///
    /// Never fails: addresses of another family than `src` are skipped, at most 255 are
    /// written, a v3 interval is masked to 12 bits and a v2 interval saturates at 255,
    /// and authentication is written for v2 only.
    pub fn encode(&self, src: &IpAddr, dst: &IpAddr) -> Vec<u8> {
        let v6 = src.is_ipv6();
        let addrs: Vec<&IpAddr> = self
            .addrs
            .iter()
            .filter(|a| a.is_ipv6() == v6)
            .take(255)
            .collect();
        let mut buf = Vec::with_capacity(HEADER_LEN + addrs.len() * 16 + AUTH_LEN);
        buf.push((self.version.number() << 4) | TYPE_ADVERTISEMENT);
        buf.push(self.vrid);
        buf.push(self.priority);
        buf.push(addrs.len() as u8);
        match self.version {
            Version::V2 => {
                buf.push(self.auth.type_byte());
                buf.push(u8::try_from(self.adver_int).unwrap_or(u8::MAX));
            }
            Version::V3 => {
                buf.extend_from_slice(&(self.adver_int & MAX_V3_INTERVAL_CS).to_be_bytes())
            }
        }
        buf.extend_from_slice(&[0, 0]);
        for a in addrs {
            match a {
                IpAddr::V4(a) => buf.extend_from_slice(&a.octets()),
                IpAddr::V6(a) => buf.extend_from_slice(&a.octets()),
            }
        }
        if self.version == Version::V2 {
            match self.auth {
                Auth::Pass(p) => buf.extend_from_slice(&p),
                Auth::None | Auth::Ah => buf.extend_from_slice(&[0; AUTH_LEN]),
            }
        }
        let csum = checksum::finish(checksum_sum(self.version, &buf, src, dst));
        buf[field::CHECKSUM].copy_from_slice(&csum.to_be_bytes());
        buf
    }
}

/// Ones'-complement sum of the message (plus pseudo-header for v3); 0xffff when a
/// received checksum verifies.
fn checksum_sum(version: Version, buf: &[u8], src: &IpAddr, dst: &IpAddr) -> u16 {
    let data = checksum::data(buf);
    match version {
        Version::V2 => data,
        Version::V3 => {
            let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
            checksum::combine(&[checksum::pseudo_header(src, dst, PROTOCOL, len), data])
        }
    }
}

/// Reads the version and VRID of a message without validating it (for demultiplexing
/// and logs); `None` if shorter than two bytes.
pub fn peek_vrid(buf: &[u8]) -> Option<(u8, u8)> {
    Some((buf.first()? >> 4, *buf.get(1)?))
}

#[cfg(test)]
#[path = "packet_tests.rs"]
mod tests;
