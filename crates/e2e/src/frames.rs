//! Hand-made Ethernet frames (good, truncated, malformed, fragmented) and an AF_PACKET
//! sender, to feed the director what a well-behaved kernel would never send.

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;

use nix::sys::socket::{AddressFamily, MsgFlags, SockFlag, SockType, sendto, socket};

use crate::{in_netns, ns_cmd, run_ok};

/// The MAC address of `iface` in namespace `ns`.
pub fn mac_of(ns: &str, iface: &str) -> [u8; 6] {
    let text = run_ok(ns_cmd(ns, "cat").arg(format!("/sys/class/net/{iface}/address")));
    let bytes: Vec<u8> = text
        .trim()
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).expect("hex MAC"))
        .collect();
    bytes.try_into().expect("6-byte MAC")
}

/// The Internet checksum of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An Ethernet frame `dst ← src` of `ethertype` carrying `payload`.
pub fn ethernet(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// The fields of an IPv4 header worth varying in a test.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4 {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Protocol number (6 TCP, 17 UDP).
    pub protocol: u8,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub id: u16,
    /// Flags (bit 13 = more fragments) and fragment offset in 8-byte units.
    pub flags_offset: u16,
}

impl Ipv4 {
    /// A TCP packet header template from `src` to `dst`, TTL 64, not fragmented.
    pub fn tcp(src: Ipv4Addr, dst: Ipv4Addr) -> Ipv4 {
        Ipv4 {
            src,
            dst,
            protocol: 6,
            ttl: 64,
            id: 0x1234,
            flags_offset: 0,
        }
    }

    /// The more-fragments flag.
    pub const MORE_FRAGMENTS: u16 = 0x2000;

    /// The packet: a 20-byte header (total length = 20 + payload, valid checksum) + payload.
    pub fn packet(&self, payload: &[u8]) -> Vec<u8> {
        let mut p = Vec::with_capacity(20 + payload.len());
        p.extend_from_slice(&[0x45, 0]);
        p.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
        p.extend_from_slice(&self.id.to_be_bytes());
        p.extend_from_slice(&self.flags_offset.to_be_bytes());
        p.extend_from_slice(&[self.ttl, self.protocol, 0, 0]);
        p.extend_from_slice(&self.src.octets());
        p.extend_from_slice(&self.dst.octets());
        let sum = checksum(&p);
        p[10..12].copy_from_slice(&sum.to_be_bytes());
        p.extend_from_slice(payload);
        p
    }
}

/// A TCP segment (20-byte header, no options) with a valid checksum for `src` → `dst`.
pub fn tcp(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&0x0101_0101u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&[5 << 4, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    let mut pseudo = Vec::with_capacity(12 + t.len());
    pseudo.extend_from_slice(&src.octets());
    pseudo.extend_from_slice(&dst.octets());
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&(t.len() as u16).to_be_bytes());
    pseudo.extend_from_slice(&t);
    let sum = checksum(&pseudo);
    t[16..18].copy_from_slice(&sum.to_be_bytes());
    t
}

/// The TCP SYN flag.
pub const SYN: u8 = 0x02;
/// The TCP ACK flag.
pub const ACK: u8 = 0x10;
/// The IPv4 ethertype.
pub const ETH_IPV4: u16 = 0x0800;

/// Sends `frames` as they are out of `iface` in namespace `ns` (AF_PACKET, SOCK_RAW).
pub fn send_frames(ns: &str, iface: &str, frames: Vec<Vec<u8>>) {
    let iface = iface.to_string();
    in_netns(ns, move || {
        let link = nix::ifaddrs::getifaddrs()
            .expect("getifaddrs")
            .filter(|i| i.interface_name == iface)
            .find_map(|i| i.address.and_then(|a| a.as_link_addr().copied()))
            .unwrap_or_else(|| panic!("no link address for {iface}"));
        let fd = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            None,
        )
        .expect("AF_PACKET socket");
        for f in &frames {
            sendto(fd.as_raw_fd(), f, &link, MsgFlags::empty())
                .unwrap_or_else(|e| panic!("send a {}-byte frame on {iface}: {e}", f.len()));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_headers_verify() {
        let (a, b) = (Ipv4Addr::new(203, 0, 113, 2), Ipv4Addr::new(203, 0, 113, 1));
        let seg = tcp(a, b, 40000, 80, SYN, &[]);
        let p = Ipv4::tcp(a, b).packet(&seg);
        assert_eq!(checksum(&p[..20]), 0, "IPv4 header checksum verifies");
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&a.octets());
        pseudo.extend_from_slice(&b.octets());
        pseudo.extend_from_slice(&[0, 6, 0, 20]);
        pseudo.extend_from_slice(&p[20..]);
        assert_eq!(checksum(&pseudo), 0, "TCP checksum verifies");
        let f = ethernet([1; 6], [2; 6], ETH_IPV4, &p);
        assert_eq!(f.len(), 14 + 40);
        assert_eq!(&f[12..14], &[0x08, 0x00]);
    }
}
