//! Host and service names, for input (`-t web:http`) and for output without `-n`.
//!
//! ipvsadm uses `gethostbyname`, `gethostbyaddr`, `getservbyname` and `getservbyport`.
//! [`SystemNames`] does the same without unsafe code in this crate: the resolver through
//! the `dns-lookup` crate (getaddrinfo / getnameinfo, which read /etc/hosts and DNS as
//! nsswitch says) and services from /etc/services. [`TableNames`] is a fixed table for tests.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::ToSocketAddrs;

/// Name lookups as ipvsadm makes them.
pub trait Names {
    /// `gethostbyname`: the first IPv4 address of a host name.
    fn addr_of(&self, host: &str) -> Option<Ipv4Addr>;
    /// `gethostbyaddr`: the host name of an address.
    fn host_of(&self, addr: IpAddr) -> Option<String>;
    /// `getservbyname`: the port of a service name (or alias) for "tcp", "udp" or "sctp".
    fn port_of(&self, name: &str, proto: &str) -> Option<u16>;
    /// `getservbyport`: the service name of a port for "tcp", "udp" or "sctp".
    fn service_of(&self, port: u16, proto: &str) -> Option<String>;
}

/// One line of a services database.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServiceLine {
    name: String,
    port: u16,
    proto: String,
    aliases: Vec<String>,
}

/// A services database in /etc/services format (`name port/proto [aliases] [# comment]`);
/// lookups return the first matching line, as glibc's files backend does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServicesDb {
    lines: Vec<ServiceLine>,
}

impl ServicesDb {
    /// Parse the text of a services file; malformed lines are skipped.
    pub fn parse(text: &str) -> Self {
        let lines = text
            .lines()
            .filter_map(|line| {
                let line = line.split('#').next().unwrap_or("");
                let mut words = line.split_whitespace();
                let name = words.next()?;
                let (port, proto) = words.next()?.split_once('/')?;
                Some(ServiceLine {
                    name: name.to_string(),
                    port: port.parse().ok()?,
                    proto: proto.to_string(),
                    aliases: words.map(str::to_string).collect(),
                })
            })
            .collect();
        ServicesDb { lines }
    }

    /// The port of a service name or alias.
    pub fn port_of(&self, name: &str, proto: &str) -> Option<u16> {
        self.lines
            .iter()
            .find(|l| l.proto == proto && (l.name == name || l.aliases.iter().any(|a| a == name)))
            .map(|l| l.port)
    }

    /// The (official) name of a port.
    pub fn service_of(&self, port: u16, proto: &str) -> Option<String> {
        self.lines
            .iter()
            .find(|l| l.proto == proto && l.port == port)
            .map(|l| l.name.clone())
    }
}

/// The system's resolver and /etc/services.
#[derive(Debug, Default)]
pub struct SystemNames {
    services: RefCell<Option<ServicesDb>>,
    hosts: RefCell<HashMap<IpAddr, Option<String>>>,
}

impl SystemNames {
    /// Lookups through the system (loaded lazily, cached for the run).
    pub fn new() -> Self {
        Self::default()
    }

    fn with_services<T>(&self, f: impl FnOnce(&ServicesDb) -> T) -> T {
        let mut s = self.services.borrow_mut();
        let db = s.get_or_insert_with(|| {
            ServicesDb::parse(&std::fs::read_to_string("/etc/services").unwrap_or_default())
        });
        f(db)
    }
}

impl Names for SystemNames {
    fn addr_of(&self, host: &str) -> Option<Ipv4Addr> {
        (host, 0u16).to_socket_addrs().ok()?.find_map(|a| match a {
            SocketAddr::V4(v4) => Some(*v4.ip()),
            SocketAddr::V6(_) => None,
        })
    }

    fn host_of(&self, addr: IpAddr) -> Option<String> {
        self.hosts
            .borrow_mut()
            .entry(addr)
            .or_insert_with(|| dns_lookup::lookup_addr(&addr).ok())
            .clone()
    }

    fn port_of(&self, name: &str, proto: &str) -> Option<u16> {
        self.with_services(|db| db.port_of(name, proto))
    }

    fn service_of(&self, port: u16, proto: &str) -> Option<String> {
        self.with_services(|db| db.service_of(port, proto))
    }
}

/// Fixed hosts and services tables (for tests): hosts in /etc/hosts format
/// (`address name [aliases]`), services in /etc/services format.
#[derive(Debug, Clone, Default)]
pub struct TableNames {
    hosts: Vec<(IpAddr, Vec<String>)>,
    services: ServicesDb,
}

impl TableNames {
    /// Tables from the text of a hosts file and of a services file. (For hosts, a line
    /// may also be `name address` for convenience: whichever word parses as an address.)
    pub fn new(hosts: &str, services: &str) -> Self {
        let hosts = hosts
            .lines()
            .filter_map(|line| {
                let words: Vec<&str> = line.split('#').next()?.split_whitespace().collect();
                let pos = words.iter().position(|w| w.parse::<IpAddr>().is_ok())?;
                let addr = words[pos].parse().ok()?;
                let names = words
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != pos)
                    .map(|(_, w)| w.to_string())
                    .collect();
                Some((addr, names))
            })
            .collect();
        TableNames {
            hosts,
            services: ServicesDb::parse(services),
        }
    }
}

impl Names for TableNames {
    fn addr_of(&self, host: &str) -> Option<Ipv4Addr> {
        self.hosts.iter().find_map(|(a, names)| match a {
            IpAddr::V4(v4) if names.iter().any(|n| n == host) => Some(*v4),
            _ => None,
        })
    }

    fn host_of(&self, addr: IpAddr) -> Option<String> {
        self.hosts
            .iter()
            .find(|(a, _)| *a == addr)
            .and_then(|(_, n)| n.first().cloned())
    }

    fn port_of(&self, name: &str, proto: &str) -> Option<u16> {
        self.services.port_of(name, proto)
    }

    fn service_of(&self, port: u16, proto: &str) -> Option<String> {
        self.services.service_of(port, proto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_first_match_and_aliases() {
        let db =
            ServicesDb::parse("# c\nhttp 80/tcp www # web\nhttp 80/udp\nalt 80/tcp\nbad line\n");
        assert_eq!(db.service_of(80, "tcp").as_deref(), Some("http"));
        assert_eq!(db.port_of("www", "tcp"), Some(80));
        assert_eq!(db.port_of("www", "udp"), None);
        assert_eq!(db.service_of(81, "tcp"), None);
    }

    #[test]
    fn table_hosts() {
        let n = TableNames::new("203.0.113.1 one uno\n2001:db8::1 six\n", "");
        assert_eq!(n.addr_of("uno"), Some(Ipv4Addr::new(203, 0, 113, 1)));
        assert_eq!(n.addr_of("six"), None, "gethostbyname gives IPv4 only");
        assert_eq!(
            n.host_of("2001:db8::1".parse().unwrap()).as_deref(),
            Some("six")
        );
    }
}
