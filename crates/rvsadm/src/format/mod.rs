//! ipvsadm's output formats, byte for byte (trailing spaces included): one file per format
//! family. Everything renders into a `String`; the caller writes it out.

mod conn;
mod largenum;
mod misc;
mod save;
mod service;

use core::net::IpAddr;
use core::ops::{BitOr, BitOrAssign};

pub use conn::list_connections;
pub use largenum::largenum;
pub use misc::{daemons, header, timeouts};
pub(crate) use service::family as service_family;
pub use service::{service_entry, title};

use rvs_api::ServiceEntry;
use rvs_core::model::ServiceKey;

use crate::addr::{ntop, proto_name};
use crate::names::Names;

/// Output format flags (ipvsadm's FMT_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Format(pub u32);

impl Format {
    /// Nothing special: names resolved, default columns.
    pub const NONE: Format = Format(0);
    /// `-n`: numeric addresses and ports.
    pub const NUMERIC: Format = Format(0x0001);
    /// `-S`: restore-format rules.
    pub const RULE: Format = Format(0x0002);
    /// `--stats`.
    pub const STATS: Format = Format(0x0004);
    /// `--rate`.
    pub const RATE: Format = Format(0x0008);
    /// `--thresholds`.
    pub const THRESHOLDS: Format = Format(0x0010);
    /// `--persistent-conn`.
    pub const PERSISTENTCONN: Format = Format(0x0020);
    /// `--nosort`.
    pub const NOSORT: Format = Format(0x0040);
    /// `--exact`.
    pub const EXACT: Format = Format(0x0080);
    /// `--tun-info`.
    pub const TUN_INFO: Format = Format(0x0100);

    /// Whether all flags of `f` are set.
    pub const fn has(self, f: Format) -> bool {
        self.0 & f.0 == f.0
    }
}

impl BitOr for Format {
    type Output = Format;
    fn bitor(self, rhs: Format) -> Format {
        Format(self.0 | rhs.0)
    }
}

impl BitOrAssign for Format {
    fn bitor_assign(&mut self, rhs: Format) {
        self.0 |= rhs.0;
    }
}

/// Cut `s` to at most `max` bytes (ipvsadm writes a NUL into its buffer).
pub(crate) fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// ipvsadm's `addrport_to_anyname`: `addr:port` (IPv6 in brackets), with names unless
/// numeric, in a 60-byte buffer.
pub fn addrport(
    addr: IpAddr,
    port: u16,
    protocol: u8,
    format: Format,
    names: &dyn Names,
) -> String {
    let (open, close) = if addr.is_ipv4() { ("", "") } else { ("[", "]") };
    let s = if format.has(Format::NUMERIC) {
        format!("{open}{}{close}:{port}", ntop(addr))
    } else {
        let host = names.host_of(addr).unwrap_or_else(|| ntop(addr));
        let service = proto_name(protocol)
            .and_then(|p| names.service_of(port, p))
            .unwrap_or_else(|| port.to_string());
        format!("{open}{host}{close}:{service}")
    };
    cut(s, 59)
}

/// The IP protocol number ipvsadm sees for a service (fwmark services are added as TCP).
pub fn service_protocol(key: &ServiceKey) -> u8 {
    match key {
        ServiceKey::Addr { protocol, .. } => protocol.number(),
        ServiceKey::Fwmark { .. } => 6,
    }
}

/// The whole table after the header line: title, then every service with its servers;
/// sorted unless `--nosort`.
pub fn table(mut services: Vec<ServiceEntry>, format: Format, names: &dyn Names) -> String {
    let mut out = String::new();
    if !format.has(Format::NOSORT) {
        crate::sort::sort_services(&mut services);
    }
    out.push_str(&title(format));
    for se in &mut services {
        out.push_str(&service_entry(se, format, names));
    }
    out
}

/// One service (`-L -t ...`): title and the service, no header.
pub fn single(mut se: ServiceEntry, format: Format, names: &dyn Names) -> String {
    let mut out = title(format);
    out.push_str(&service_entry(&mut se, format, names));
    out
}
