//! The one error type of the wire layer: cheap to return on the fast path.

use core::fmt;

/// Why a buffer could not be viewed as (or built into) a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The buffer is shorter than a header or a length field says it must be.
    Truncated,
    /// A field has an impossible value (wrong version, header length below minimum,
    /// total length smaller than the header...).
    Malformed,
    /// Valid, but a variant rvs does not handle (e.g. ARP for a non-Ethernet medium,
    /// too many IPv6 extension headers).
    Unsupported,
    /// The output buffer is too small or lacks the headroom the operation needs.
    NoSpace,
    /// The result would exceed a length field's range (e.g. IPv4 total length > 65535).
    TooLong,
}

/// Result with the wire [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "packet truncated",
            Error::Malformed => "malformed packet",
            Error::Unsupported => "unsupported packet variant",
            Error::NoSpace => "buffer too small",
            Error::TooLong => "packet too long for its length field",
        })
    }
}

impl std::error::Error for Error {}
