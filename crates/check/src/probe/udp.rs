//! UDP_CHECK and DNS_CHECK over a connected UDP socket.
//!
//! UDP_CHECK (keepalived `udp_socket_state`): an ICMP error (reported by Linux on the
//! connected socket as ECONNREFUSED/EHOSTUNREACH…) fails; silence until connect_timeout
//! passes unless `require_reply`; a reply passes unless `require_reply HEX` was given and it
//! is outside [min_reply_length, max_reply_length] or does not start like the pattern.

use std::io;

use rvs_kaconf::UdpCheck;
use socket2::{Protocol, Type};
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout, timeout_at};

use super::Target;
use crate::dns_wire::{self, Reply};
use crate::rand;

/// keepalived's filler when no `payload` is set (UDP_BUFSIZE).
const FILLER_LEN: usize = 32;

async fn connected(t: &Target) -> io::Result<UdpSocket> {
    let s = t.socket(Type::DGRAM, Protocol::UDP)?;
    let u = UdpSocket::from_std(std::net::UdpSocket::from(s))?;
    u.connect(t.dst).await?;
    Ok(u)
}

/// Whether a reply satisfies `require_reply HEX` (`check_udp_reply`).
pub fn reply_matches(reply: &[u8], c: &UdpCheck) -> bool {
    match &c.require_reply {
        Some(pattern) if !pattern.is_empty() => {
            let len = reply.len() as u64;
            if len < u64::from(c.min_reply_length) || len > u64::from(c.max_reply_length) {
                return false;
            }
            reply.iter().zip(pattern).all(|(a, b)| a == b)
        }
        _ => true,
    }
}

/// UDP_CHECK.
pub async fn udp(t: &Target, c: &UdpCheck) -> bool {
    let Ok(sock) = connected(t).await else {
        return false;
    };
    let filler: Vec<u8>;
    let payload = match &c.payload {
        Some(p) => p.as_slice(),
        None => {
            filler = (0..FILLER_LEN).map(|_| rand::next_u64() as u8).collect();
            &filler
        }
    };
    if sock.send(payload).await.is_err() {
        return false;
    }
    let mut buf = vec![0u8; (c.max_reply_length as usize).max(1) + 1];
    match timeout(t.timeout, sock.recv(&mut buf)).await {
        Ok(Ok(n)) => reply_matches(&buf[..n], c),
        Ok(Err(_)) => false,
        Err(_) => c.require_reply.is_none(),
    }
}

/// DNS_CHECK: a query with a random id; a reply with our id, QR=1 and RCODE 0 passes.
pub async fn dns(t: &Target, qtype: u16, name: &str) -> bool {
    let id = rand::next_u64() as u16;
    let Ok(q) = dns_wire::encode_query(id, name, qtype) else {
        return false;
    };
    let Ok(sock) = connected(t).await else {
        return false;
    };
    let deadline = Instant::now() + t.timeout;
    if !matches!(timeout_at(deadline, sock.send(&q)).await, Ok(Ok(n)) if n == q.len()) {
        return false;
    }
    let mut buf = [0u8; 1500];
    loop {
        match timeout_at(deadline, sock.recv(&mut buf)).await {
            Ok(Ok(n)) => match dns_wire::classify_reply(id, &buf[..n]) {
                Reply::Ignore => continue,
                Reply::Ok => return true,
                Reply::Error(rc) => {
                    tracing::debug!(dst = %t.dst, rcode = rc, "DNS check error reply");
                    return false;
                }
            },
            _ => return false,
        }
    }
}
