//! The tuple of a received frame as the XDP fast path keys it, read before the core
//! rewrites the frame: only frames the program could take (untagged Ethernet, IPv4 without
//! options or fragmentation, IPv6 without extension headers, TCP or UDP) have one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// TCP SYN, FIN and RST: packets with any of them always go through the core.
const TCP_SYN_FIN_RST: u8 = 0x07;

/// A received packet's tuple (ports in host byte order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuple {
    /// IP protocol (6 or 17).
    pub proto: u8,
    /// Source address.
    pub src: IpAddr,
    /// Source port.
    pub sport: u16,
    /// Destination address.
    pub dst: IpAddr,
    /// Destination port.
    pub dport: u16,
    /// TCP flags (0 for UDP).
    pub tcp_flags: u8,
}

impl Tuple {
    /// Read the tuple of the Ethernet frame `f`, if the fast path could ever take it.
    pub fn of_frame(f: &[u8]) -> Option<Tuple> {
        let ethertype = u16::from_be_bytes([*f.get(12)?, *f.get(13)?]);
        let (proto, src, dst, l4) = match ethertype {
            0x0800 => {
                let ip = f.get(14..34)?;
                if ip[0] != 0x45 || u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0 {
                    return None;
                }
                let a =
                    |o: usize| IpAddr::V4(Ipv4Addr::new(ip[o], ip[o + 1], ip[o + 2], ip[o + 3]));
                (ip[9], a(12), a(16), 34)
            }
            0x86dd => {
                let ip = f.get(14..54)?;
                if ip[0] >> 4 != 6 {
                    return None;
                }
                let a = |o: usize| {
                    let b: [u8; 16] = ip[o..o + 16].try_into().unwrap_or([0; 16]);
                    IpAddr::V6(Ipv6Addr::from(b))
                };
                (ip[6], a(8), a(24), 54)
            }
            _ => return None,
        };
        let tcp_flags = match proto {
            6 => *f.get(l4 + 13)?,
            17 => {
                f.get(l4 + 7)?;
                0
            }
            _ => return None,
        };
        Some(Tuple {
            proto,
            src,
            sport: u16::from_be_bytes([f[l4], f[l4 + 1]]),
            dst,
            dport: u16::from_be_bytes([f[l4 + 2], f[l4 + 3]]),
            tcp_flags,
        })
    }

    /// Whether the program would leave this packet to the core whatever the map holds.
    pub fn changes_state(&self) -> bool {
        self.proto == 6 && self.tcp_flags & TCP_SYN_FIN_RST != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4_tcp(flags: u8, ihl: u8, frag: u16) -> Vec<u8> {
        let mut f = vec![0u8; 54];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x40 | ihl;
        f[20..22].copy_from_slice(&frag.to_be_bytes());
        f[23] = 6;
        f[26..30].copy_from_slice(&[198, 51, 100, 1]);
        f[30..34].copy_from_slice(&[203, 0, 113, 5]);
        f[34..36].copy_from_slice(&40000u16.to_be_bytes());
        f[36..38].copy_from_slice(&80u16.to_be_bytes());
        f[47] = flags;
        f
    }

    #[test]
    fn tcp_tuple_and_flags() {
        let t = Tuple::of_frame(&v4_tcp(0x10, 5, 0)).unwrap();
        assert_eq!((t.proto, t.sport, t.dport), (6, 40000, 80));
        assert_eq!(t.src, "198.51.100.1".parse::<IpAddr>().unwrap());
        assert!(!t.changes_state());
        assert!(
            Tuple::of_frame(&v4_tcp(0x11, 5, 0))
                .unwrap()
                .changes_state()
        );
    }

    #[test]
    fn options_fragments_and_short_frames_have_no_tuple() {
        assert!(Tuple::of_frame(&v4_tcp(0x10, 6, 0)).is_none());
        assert!(Tuple::of_frame(&v4_tcp(0x10, 5, 0x2000)).is_none());
        assert!(Tuple::of_frame(&v4_tcp(0x10, 5, 0)[..40]).is_none());
    }
}
