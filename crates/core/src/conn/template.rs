//! Persistence templates (`-p [timeout] [-M netmask]`), as `ip_vs_sched_persist` builds them.
//!
//! A template is an entry flagged TEMPLATE with client port 0, keyed by the client's
//! *network* (address masked with the service's netmask) and:
//! * a normal service, packet to the service port: (proto, cnet, 0, VIP, vport); the
//!   template's destination port is the server's port. FTP (port 21) uses vport 0 and
//!   destination port 0 so data connections follow the control connection;
//! * a port-0 service (or any other port reaching the service, e.g. FTP data):
//!   (proto, cnet, 0, VIP, 0), destination port 0;
//! * a firewall-mark service: (IP = 0, cnet, 0, mark-as-address, 0), destination port 0.
//!
//! Lookups re-arm the template's timer; the table postpones an expiring template by 60 s
//! while it still controls connections. A template whose server is gone (or quiesced, with
//! `expire_quiescent_template`) is neutralised in place: taken out of the index, ports set
//! to 65535 and client port 0 as the kernel shows it, and left to expire with its connections.

use core::net::IpAddr;

use crate::Instant;
use crate::model::{Family, ForwardMethod, Protocol, ServiceKey};

use super::delta::{CounterDelta, DeltaReason};
use super::entry::{CTPL_NONE, ConnId, Entry, flag, method_bits, pack};
use super::key::InKey;
use super::params::InsertError;
use super::table::ConnTable;
use super::timeouts::secs_to_ms;

/// The FTP control port, which IPVS special-cases in persistence templates.
pub const FTP_PORT: u16 = 21;

/// The lookup key of a persistence template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TemplateKey(pub(crate) InKey);

/// Mask `addr` to its first `prefix` bits (the `-M` netmask as a prefix length).
pub fn mask_addr(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let p = u32::from(prefix.min(32));
            let m = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            IpAddr::V4((u32::from(a) & m).into())
        }
        IpAddr::V6(a) => {
            let p = u32::from(prefix.min(128));
            let m = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            IpAddr::V6((u128::from(a) & m).into())
        }
    }
}

impl TemplateKey {
    /// The template for a packet of `protocol` from `client` to port `dport` reaching
    /// `service`, whose persistence netmask is `netmask` (prefix length).
    pub fn new(
        service: &ServiceKey,
        netmask: u8,
        protocol: Protocol,
        client: IpAddr,
        dport: u16,
    ) -> TemplateKey {
        let cnet = mask_addr(client, netmask);
        let (caddr, v6) = pack(cnet);
        let kind = flag::TEMPLATE | if v6 { flag::V6 } else { 0 };
        let key = match *service {
            ServiceKey::Fwmark { mark, family } => {
                let mut vaddr = [0u8; 16];
                vaddr[..4].copy_from_slice(&mark.to_be_bytes());
                let kind = flag::TEMPLATE | if family == Family::Inet6 { flag::V6 } else { 0 };
                InKey {
                    caddr,
                    vaddr,
                    cport: 0,
                    vport: 0,
                    proto: 0,
                    kind,
                }
            }
            ServiceKey::Addr { addr, port, .. } => {
                let vport = if port != 0 && dport == port && port != FTP_PORT {
                    port
                } else {
                    0
                };
                InKey {
                    caddr,
                    vaddr: pack(addr).0,
                    cport: 0,
                    vport,
                    proto: protocol.number(),
                    kind,
                }
            }
        };
        TemplateKey(key)
    }
}

/// Destination port stored in a new template: the server's port for a normal service hit
/// on its own port, else 0 (port-0, fwmark, FTP).
pub fn template_dport(service: &ServiceKey, pkt_dport: u16, dest_port: u16) -> u16 {
    match *service {
        ServiceKey::Addr { port, .. } if port != 0 && pkt_dport == port && port != FTP_PORT => {
            dest_port
        }
        _ => 0,
    }
}

/// Destination port of a connection created under a template: the packet's port, mapped
/// to the server's port when the packet hit the service port and the server has one.
pub fn conn_dport(service: &ServiceKey, pkt_dport: u16, dest_port: u16) -> u16 {
    let svc_port = match *service {
        ServiceKey::Addr { port, .. } => port,
        ServiceKey::Fwmark { .. } => 0,
    };
    if pkt_dport == svc_port && dest_port != 0 {
        dest_port
    } else {
        pkt_dport
    }
}

/// A template to create after scheduling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewTemplate {
    /// Its key.
    pub key: TemplateKey,
    /// The chosen destination's address.
    pub daddr: IpAddr,
    /// See [`template_dport`].
    pub dport: u16,
    /// The destination's forwarding method.
    pub method: ForwardMethod,
    /// Service id.
    pub service: u32,
    /// Destination id.
    pub dest: u32,
    /// The persistence timeout in seconds.
    pub timeout_secs: u32,
}

impl ConnTable {
    /// Find a valid template and re-arm it. `valid(dest_id)` says whether the template's
    /// server may still take connections (available, and not weight 0 when
    /// expire_quiescent_template is set); an invalid template is neutralised and `None`
    /// returned, so the caller schedules afresh.
    pub fn template_lookup(
        &mut self,
        key: &TemplateKey,
        now: Instant,
        valid: impl FnOnce(u32) -> bool,
    ) -> Option<ConnId> {
        let id = self.lookup_in(&key.0)?;
        let idx = id.0 as usize;
        if !valid(self.entries[idx].dest) {
            self.unhash(id.0);
            let e = &mut self.entries[idx];
            e.flags |= flag::UNHASHED;
            e.vport = 0xffff;
            e.dport = 0xffff;
            e.cport = 0;
            return None;
        }
        let e = &mut self.entries[idx];
        e.expires = (now.as_millis() as u32).wrapping_add(e.timeout);
        Some(id)
    }

    /// Create a template bound to the scheduled destination (PersistConn +1 to `sink`).
    pub fn insert_template<S: FnMut(CounterDelta)>(
        &mut self,
        t: &NewTemplate,
        now: Instant,
        sink: &mut S,
    ) -> Result<ConnId, InsertError> {
        if let Some(id) = self.lookup_in(&t.key.0) {
            return Err(InsertError::Exists(id));
        }
        let idx = self.alloc(now, sink)?;
        let (daddr, dest_v6) = pack(t.daddr);
        let k = &t.key.0;
        let timeout = secs_to_ms(t.timeout_secs.max(1));
        let mut flags =
            flag::LIVE | flag::TEMPLATE | flag::INACTIVE | k.kind | method_bits(t.method);
        if dest_v6 {
            flags |= flag::DEST_V6;
        }
        let e = Entry {
            caddr: k.caddr,
            vaddr: k.vaddr,
            daddr,
            timeout,
            expires: (now.as_millis() as u32).wrapping_add(timeout),
            service: t.service,
            dest: t.dest,
            link: 0,
            in_pkts: 0,
            cport: 0,
            vport: k.vport,
            dport: t.dport,
            flags,
            proto: k.proto,
            state: CTPL_NONE,
        };
        self.link_new(idx, e, now);
        sink(CounterDelta {
            service: t.service,
            dest: t.dest,
            active: 0,
            inactive: 0,
            persistent: 1,
            reason: DeltaReason::Created,
        });
        Ok(ConnId(idx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn masks() {
        assert_eq!(mask_addr(ip("203.0.113.77"), 24), ip("203.0.113.0"));
        assert_eq!(mask_addr(ip("203.0.113.77"), 32), ip("203.0.113.77"));
        assert_eq!(mask_addr(ip("203.0.113.77"), 0), ip("0.0.0.0"));
        assert_eq!(mask_addr(ip("2001:db8:1:2::5"), 48), ip("2001:db8:1::"));
        assert_eq!(mask_addr(ip("2001:db8::5"), 200), ip("2001:db8::5"));
    }

    #[test]
    fn keys_by_service_kind() {
        let http = ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: ip("198.51.100.1"),
            port: 80,
        };
        let k = TemplateKey::new(&http, 24, Protocol::Tcp, ip("203.0.113.7"), 80);
        assert_eq!(k.0.vport, 80);
        assert_eq!(k.0.cport, 0);
        assert_eq!(&k.0.caddr[..4], &[203, 0, 113, 0]);
        // Same /24 → same key.
        assert_eq!(
            k,
            TemplateKey::new(&http, 24, Protocol::Tcp, ip("203.0.113.200"), 80)
        );
        assert_eq!(template_dport(&http, 80, 8080), 8080);
        assert_eq!(conn_dport(&http, 80, 8080), 8080);

        let ftp = ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr: ip("198.51.100.1"),
            port: 21,
        };
        assert_eq!(
            TemplateKey::new(&ftp, 32, Protocol::Tcp, ip("203.0.113.7"), 21)
                .0
                .vport,
            0
        );
        assert_eq!(template_dport(&ftp, 21, 21), 0);
        assert_eq!(conn_dport(&ftp, 2000, 21), 2000);

        let all = ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr: ip("198.51.100.1"),
            port: 0,
        };
        let k = TemplateKey::new(&all, 32, Protocol::Udp, ip("203.0.113.7"), 53);
        assert_eq!((k.0.vport, k.0.proto), (0, 17));
        assert_eq!(template_dport(&all, 53, 0), 0);
        assert_eq!(conn_dport(&all, 53, 0), 53);

        let fwm = ServiceKey::Fwmark {
            mark: 1,
            family: Family::Inet,
        };
        let k = TemplateKey::new(&fwm, 32, Protocol::Tcp, ip("203.0.113.7"), 443);
        assert_eq!((k.0.proto, k.0.vport), (0, 0));
        assert_eq!(&k.0.vaddr[..4], &[0, 0, 0, 1]);
        assert_eq!(
            k,
            TemplateKey::new(&fwm, 32, Protocol::Udp, ip("203.0.113.7"), 53)
        );
        assert_eq!(conn_dport(&fwm, 443, 0), 443);
    }
}
