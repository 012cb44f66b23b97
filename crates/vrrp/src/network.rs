//! Sockets, and nothing else: raw IP protocol-112 sockets for adverts, AF_PACKET for
//! gratuitous ARP / unsolicited NA, and the interface table (getifaddrs).
//!
//! IPv4 adverts are sent with `IP_HDRINCL` so the source address, TTL 255 and TOS 0xc0
//! are exactly keepalived's whatever VIPs sit on the interface; the received TTL is read
//! from the IP header. IPv6 adverts carry their source and hop limit as `IPV6_PKTINFO` /
//! `IPV6_HOPLIMIT` ancillary data, and the received hop limit and destination come back
//! the same way. Every socket is bound to its interface (`SO_BINDTODEVICE`).

use std::collections::HashMap;
use std::io::{IoSlice, IoSliceMut, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::libc;
use nix::net::if_::InterfaceFlags;
use nix::sys::socket::{
    self, AddressFamily, ControlMessage, ControlMessageOwned, LinkAddr, MsgFlags, SockFlag,
    SockType, SockaddrIn6, sockopt,
};
use rvs_wire::{arp, ethernet, ipv4, ndisc};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};

use crate::action::Transmit;
use crate::error::Error;
use crate::packet::{MULTICAST_V4, MULTICAST_V6, PROTOCOL};

/// How long a blocking receive waits before returning `None` (so threads can stop).
pub const RECV_TIMEOUT: Duration = Duration::from_millis(200);

/// An interface as the driver needs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InterfaceInfo {
    /// Interface index.
    pub index: u32,
    /// IFF_UP and IFF_RUNNING (carrier).
    pub up: bool,
    /// IPv4 addresses in kernel order (primary first).
    pub ipv4: Vec<Ipv4Addr>,
    /// IPv6 addresses.
    pub ipv6: Vec<Ipv6Addr>,
    /// MAC address.
    pub mac: Option<[u8; 6]>,
}

/// Every interface of this network namespace, by name.
pub fn interfaces() -> Result<HashMap<String, InterfaceInfo>, Error> {
    let mut map: HashMap<String, InterfaceInfo> = HashMap::new();
    let addrs = nix::ifaddrs::getifaddrs().map_err(|e| Error::io("getifaddrs", e.into()))?;
    for ifa in addrs {
        let info = map.entry(ifa.interface_name.clone()).or_default();
        info.up = ifa.flags.contains(InterfaceFlags::IFF_UP)
            && ifa.flags.contains(InterfaceFlags::IFF_RUNNING);
        let Some(addr) = ifa.address else { continue };
        if let Some(a) = addr.as_sockaddr_in() {
            info.ipv4.push(a.ip());
        } else if let Some(a) = addr.as_sockaddr_in6() {
            info.ipv6.push(a.ip());
        } else if let Some(l) = addr.as_link_addr() {
            info.index = u32::try_from(l.ifindex()).unwrap_or(0);
            info.mac = l.addr();
        }
    }
    Ok(map)
}

fn index_of(interface: &str) -> Result<u32, Error> {
    nix::net::if_::if_nametoindex(interface).map_err(|_| Error::NoInterface(interface.to_string()))
}

/// Metadata of a received advert; the message is `buf[payload]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecvMeta {
    /// IP source.
    pub src: IpAddr,
    /// IP destination.
    pub dst: IpAddr,
    /// TTL / hop limit.
    pub ttl: u8,
    /// Where the VRRP message is in the buffer.
    pub payload: std::ops::Range<usize>,
}

/// A raw VRRP socket on one interface for one family: sends and receives adverts.
#[derive(Debug)]
pub struct VrrpSocket {
    sock: Socket,
    ipv6: bool,
    ifindex: u32,
    interface: String,
}

impl VrrpSocket {
    /// Opens the socket on `interface`, joining the VRRP group when `multicast`.
    pub fn open(interface: &str, ipv6: bool, multicast: bool) -> Result<VrrpSocket, Error> {
        let ifindex = index_of(interface)?;
        let ctx = |what: &str| format!("VRRP socket on {interface}: {what}");
        let domain = if ipv6 { Domain::IPV6 } else { Domain::IPV4 };
        let sock = Socket::new(domain, Type::RAW, Some(Protocol::from(i32::from(PROTOCOL))))
            .map_err(|e| Error::io(ctx("socket"), e))?;
        sock.bind_device(Some(interface.as_bytes()))
            .map_err(|e| Error::io(ctx("SO_BINDTODEVICE"), e))?;
        sock.set_read_timeout(Some(RECV_TIMEOUT))
            .map_err(|e| Error::io(ctx("SO_RCVTIMEO"), e))?;
        if ipv6 {
            sock.set_multicast_loop_v6(false)
                .map_err(|e| Error::io(ctx("loop"), e))?;
            sock.set_multicast_hops_v6(255)
                .map_err(|e| Error::io(ctx("hops"), e))?;
            sock.set_multicast_if_v6(ifindex)
                .map_err(|e| Error::io(ctx("mcast if"), e))?;
            sock.set_multicast_all_v6(false)
                .map_err(|e| Error::io(ctx("mcast all"), e))?;
            sock.set_recv_hoplimit_v6(true)
                .map_err(|e| Error::io(ctx("recv hoplimit"), e))?;
            sock.set_tclass_v6(0xc0)
                .map_err(|e| Error::io(ctx("tclass"), e))?;
            socket::setsockopt(&sock, sockopt::Ipv6RecvPacketInfo, &true)
                .map_err(|e| Error::io(ctx("recv pktinfo"), e.into()))?;
            if multicast {
                sock.join_multicast_v6(&MULTICAST_V6, ifindex)
                    .map_err(|e| Error::io(ctx("join ff02::12"), e))?;
            }
        } else {
            sock.set_header_included_v4(true)
                .map_err(|e| Error::io(ctx("IP_HDRINCL"), e))?;
            sock.set_multicast_loop_v4(false)
                .map_err(|e| Error::io(ctx("loop"), e))?;
            sock.set_multicast_all_v4(false)
                .map_err(|e| Error::io(ctx("mcast all"), e))?;
            if multicast {
                sock.join_multicast_v4_n(&MULTICAST_V4, &InterfaceIndexOrAddress::Index(ifindex))
                    .map_err(|e| Error::io(ctx("join 224.0.0.18"), e))?;
            }
        }
        Ok(VrrpSocket {
            sock,
            ipv6,
            ifindex,
            interface: interface.to_string(),
        })
    }

    /// Sends one advert.
    pub fn send(&self, t: &Transmit) -> Result<(), Error> {
        let ctx =
            |e: std::io::Error| Error::io(format!("send on {} to {}", self.interface, t.dst), e);
        match (t.src, t.dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                let mut buf = vec![0u8; 20 + t.payload.len()];
                ipv4::Repr {
                    src_addr: src,
                    dst_addr: dst,
                    protocol: PROTOCOL,
                    payload_len: t.payload.len(),
                    ttl: t.ttl,
                    // Network control, as keepalived sends it.
                    tos: 0xc0,
                    ident: 0,
                    dont_frag: false,
                }
                .emit(&mut buf)
                .map_err(|_| ctx(std::io::ErrorKind::InvalidInput.into()))?;
                buf[20..].copy_from_slice(&t.payload);
                self.sock
                    .send_to(&buf, &SockAddr::from(SocketAddrV4::new(dst, 0)))
                    .map_err(ctx)?;
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr {
                        s6_addr: src.octets(),
                    },
                    ipi6_ifindex: self.ifindex,
                };
                let hops: libc::c_int = i32::from(t.ttl);
                let to = SockaddrIn6::from(SocketAddrV6::new(dst, 0, 0, self.ifindex));
                socket::sendmsg(
                    self.sock.as_raw_fd(),
                    &[IoSlice::new(&t.payload)],
                    &[
                        ControlMessage::Ipv6PacketInfo(&info),
                        ControlMessage::Ipv6HopLimit(&hops),
                    ],
                    MsgFlags::empty(),
                    Some(&to),
                )
                .map_err(|e| ctx(e.into()))?;
            }
            _ => return Err(ctx(std::io::ErrorKind::InvalidInput.into())),
        }
        Ok(())
    }

    /// Receives one packet into `buf`; `None` on timeout or for a packet that is not a
    /// well-formed IP/VRRP datagram.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Option<RecvMeta>, Error> {
        if self.ipv6 {
            return self.recv_v6(buf);
        }
        let n = match (&self.sock).read(buf) {
            Ok(n) => n,
            Err(e) if is_timeout(&e) => return Ok(None),
            Err(e) => return Err(Error::io(format!("recv on {}", self.interface), e)),
        };
        let Ok(p) = ipv4::Packet::new_checked(&buf[..n]) else {
            return Ok(None);
        };
        if p.protocol() != PROTOCOL {
            return Ok(None);
        }
        Ok(Some(RecvMeta {
            src: p.src_addr().into(),
            dst: p.dst_addr().into(),
            ttl: p.ttl(),
            payload: p.payload_range(),
        }))
    }

    fn recv_v6(&self, buf: &mut [u8]) -> Result<Option<RecvMeta>, Error> {
        let mut cmsg = nix::cmsg_space!(libc::in6_pktinfo, libc::c_int);
        let mut iov = [IoSliceMut::new(buf)];
        let msg = match socket::recvmsg::<SockaddrIn6>(
            self.sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::empty(),
        ) {
            Ok(m) => m,
            Err(nix::errno::Errno::EAGAIN) => return Ok(None),
            Err(e) => return Err(Error::io(format!("recv on {}", self.interface), e.into())),
        };
        let Some(src) = msg.address.map(|a| a.ip()) else {
            return Ok(None);
        };
        let (mut dst, mut ttl) = (None, None);
        if let Ok(cmsgs) = msg.cmsgs() {
            for c in cmsgs {
                match c {
                    ControlMessageOwned::Ipv6PacketInfo(pi) => {
                        dst = Some(Ipv6Addr::from(pi.ipi6_addr.s6_addr))
                    }
                    ControlMessageOwned::Ipv6HopLimit(h) => ttl = u8::try_from(h).ok(),
                    _ => {}
                }
            }
        }
        let (Some(dst), Some(ttl)) = (dst, ttl) else {
            return Ok(None);
        };
        Ok(Some(RecvMeta {
            src: src.into(),
            dst: dst.into(),
            ttl,
            payload: 0..msg.bytes,
        }))
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// Sends gratuitous ARPs and unsolicited NAs on one interface (AF_PACKET).
#[derive(Debug)]
pub struct Announcer {
    fd: OwnedFd,
    link: LinkAddr,
    mac: [u8; 6],
    interface: String,
}

impl Announcer {
    /// Opens an AF_PACKET socket for `interface` (send only: protocol 0 receives nothing).
    pub fn open(interface: &str) -> Result<Announcer, Error> {
        let link = nix::ifaddrs::getifaddrs()
            .map_err(|e| Error::io("getifaddrs", e.into()))?
            .filter(|i| i.interface_name == interface)
            .find_map(|i| i.address.and_then(|a| a.as_link_addr().copied()))
            .ok_or_else(|| Error::NoInterface(interface.to_string()))?;
        let mac = link.addr().unwrap_or([0; 6]);
        let fd = socket::socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .map_err(|e| Error::io(format!("AF_PACKET socket on {interface}"), e.into()))?;
        Ok(Announcer {
            fd,
            link,
            mac,
            interface: interface.to_string(),
        })
    }

    /// The interface's MAC address.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Sends `count` announcements of `addr`.
    pub fn announce(&self, addr: IpAddr, count: u32) -> Result<(), Error> {
        let mut frame = [0u8; 128];
        let mac = ethernet::Address(self.mac);
        let len = match addr {
            IpAddr::V4(ip) => gratuitous_arp(&mut frame, mac, ip),
            IpAddr::V6(ip) => ndisc::emit_unsolicited_na(&mut frame, mac, ip, false).unwrap_or(0),
        };
        for _ in 0..count {
            socket::sendto(
                self.fd.as_raw_fd(),
                &frame[..len],
                &self.link,
                MsgFlags::empty(),
            )
            .map_err(|e| Error::io(format!("announce {addr} on {}", self.interface), e.into()))?;
        }
        Ok(())
    }
}

/// keepalived's gratuitous ARP: a broadcast request with SPA = TPA = VIP and THA the
/// broadcast address (lvs-reference §7.7).
fn gratuitous_arp(buf: &mut [u8], mac: ethernet::Address, ip: Ipv4Addr) -> usize {
    let Ok(l2) = ethernet::emit_header(
        buf,
        ethernet::Address::BROADCAST,
        mac,
        ethernet::ethertype::ARP,
    ) else {
        return 0;
    };
    let repr = arp::Repr {
        target_hardware_addr: ethernet::Address::BROADCAST,
        ..arp::Repr::gratuitous(mac, ip)
    };
    match repr.emit(&mut buf[l2..]) {
        Ok(()) => l2 + arp::PACKET_LEN,
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gratuitous_arp_matches_keepalived() {
        // Captured from keepalived 2.2.7 for 198.51.100.101 at e2:f5:17:ee:34:56.
        let want = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xe2, 0xf5, 0x17, 0xee, 0x34, 0x56, 0x08, 0x06,
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0xe2, 0xf5, 0x17, 0xee, 0x34, 0x56,
            0xc6, 0x33, 0x64, 0x65, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc6, 0x33, 0x64, 0x65,
        ];
        let mut buf = [0u8; 64];
        let mac = ethernet::Address([0xe2, 0xf5, 0x17, 0xee, 0x34, 0x56]);
        let n = gratuitous_arp(&mut buf, mac, Ipv4Addr::new(198, 51, 100, 101));
        assert_eq!(&buf[..n], &want[..]);
    }
}
