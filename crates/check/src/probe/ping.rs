//! PING_CHECK: one ICMP/ICMPv6 echo with a 128-byte payload; an echo reply with our sequence
//! number within connect_timeout passes.
//!
//! Like keepalived we use an unprivileged ping socket (SOCK_DGRAM, the kernel sets the id and
//! delivers only our replies); where `net.ipv4.ping_group_range` forbids it we fall back to
//! a raw socket (needs CAP_NET_RAW) and match the id ourselves. Unrelated ICMP is skipped.

use std::io;
use std::net::SocketAddr;

use socket2::{Protocol, Type};
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

use super::Target;
use crate::rand;

/// keepalived's ICMP_BUFSIZE.
const PAYLOAD_LEN: usize = 128;

/// The Internet checksum (RFC 1071).
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request (type 8 for IPv4, 128 for IPv6) with checksum filled for IPv4.
pub fn echo_request(v6: bool, id: u16, seq: u16) -> Vec<u8> {
    let mut p = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend((0..PAYLOAD_LEN).map(|i| i as u8));
    if !v6 {
        let c = checksum(&p);
        p[2..4].copy_from_slice(&c.to_be_bytes());
    }
    p
}

/// Whether `pkt` (as read from the socket) is our echo reply.
pub fn is_reply(pkt: &[u8], v6: bool, raw: bool, id: u16, seq: u16) -> bool {
    let icmp = if raw && !v6 {
        let ihl = usize::from(pkt.first().copied().unwrap_or(0) & 0x0f) * 4;
        pkt.get(ihl..).unwrap_or(&[])
    } else {
        pkt
    };
    if icmp.len() < 8 || icmp[0] != if v6 { 129 } else { 0 } {
        return false;
    }
    let same_seq = u16::from_be_bytes([icmp[6], icmp[7]]) == seq;
    let same_id = !raw || u16::from_be_bytes([icmp[4], icmp[5]]) == id;
    same_seq && same_id
}

fn open(t: &Target) -> io::Result<(UdpSocket, bool)> {
    let proto = if t.dst.is_ipv4() {
        Protocol::ICMPV4
    } else {
        Protocol::ICMPV6
    };
    let (s, raw) = match t.socket(Type::DGRAM, proto) {
        Ok(s) => (s, false),
        Err(_) => (t.socket(Type::RAW, proto)?, true),
    };
    Ok((UdpSocket::from_std(std::net::UdpSocket::from(s))?, raw))
}

/// PING_CHECK.
pub async fn ping(t: &Target) -> bool {
    let Ok((sock, raw)) = open(t) else {
        tracing::debug!(dst = %t.dst, "cannot open an ICMP socket");
        return false;
    };
    let v6 = t.dst.is_ipv6();
    let r = rand::next_u64();
    let (id, seq) = (r as u16, (r >> 16) as u16);
    let dst = SocketAddr::new(t.dst.ip(), 0);
    let deadline = Instant::now() + t.timeout;
    let req = echo_request(v6, id, seq);
    if !matches!(
        timeout_at(deadline, sock.send_to(&req, dst)).await,
        Ok(Ok(_))
    ) {
        return false;
    }
    let mut buf = [0u8; 2048];
    loop {
        match timeout_at(deadline, sock.recv_from(&mut buf)).await {
            Ok(Ok((n, from))) => {
                if from.ip() == t.dst.ip() && is_reply(&buf[..n], v6, raw, id, seq) {
                    return true;
                }
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_request_checksums_to_zero() {
        let p = echo_request(false, 0x1234, 7);
        assert_eq!(p.len(), 8 + PAYLOAD_LEN);
        assert_eq!(checksum(&p), 0);
        assert_eq!(echo_request(true, 1, 2)[0], 128);
    }

    #[test]
    fn reply_matching() {
        let mut rep = echo_request(false, 9, 5);
        rep[0] = 0;
        assert!(is_reply(&rep, false, false, 1, 5)); // DGRAM: kernel owns the id
        assert!(!is_reply(&rep, false, false, 9, 6));
        let mut ip = vec![0x45u8; 1];
        ip.extend_from_slice(&[0; 19]);
        ip.extend_from_slice(&rep);
        assert!(is_reply(&ip, false, true, 9, 5));
        assert!(!is_reply(&ip, false, true, 8, 5));
        assert!(!is_reply(&rep[..7], false, false, 9, 5));
    }
}
