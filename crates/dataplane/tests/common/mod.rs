//! What the data plane's root tests add to `rvs-testkit`: an ICMP echo over a raw socket
//! (no ping binary needed).

#![allow(dead_code, unsafe_code)]

fn csum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from(c[0]) << 8
        };
        sum += u32::from(w);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Send one ICMP(v6) echo request to `dst` from the current thread's namespace and wait up
/// to `timeout_ms` for the reply (raw socket; no ping binary needed).
pub fn ping(dst: std::net::IpAddr, timeout_ms: i32) -> bool {
    use std::net::IpAddr;
    let (domain, proto, req_type, rep_type) = match dst {
        IpAddr::V4(_) => (libc::AF_INET, libc::IPPROTO_ICMP, 8u8, 0u8),
        IpAddr::V6(_) => (libc::AF_INET6, libc::IPPROTO_ICMPV6, 128u8, 129u8),
    };
    // SAFETY: plain socket call; checked below and closed at the end.
    let fd = unsafe { libc::socket(domain, libc::SOCK_RAW, proto) };
    assert!(fd >= 0, "raw socket: {}", std::io::Error::last_os_error());
    let id = (std::process::id() & 0xffff) as u16;
    let mut pkt = vec![
        req_type,
        0,
        0,
        0,
        (id >> 8) as u8,
        id as u8,
        0,
        1,
        b'r',
        b'v',
        b's',
        0,
    ];
    if dst.is_ipv4() {
        let c = csum(&pkt);
        pkt[2..4].copy_from_slice(&c.to_be_bytes());
    }
    let (sa, salen) = sockaddr(dst);
    // SAFETY: pkt and sa are live for the call, lengths match.
    let rc = unsafe {
        libc::sendto(
            fd,
            pkt.as_ptr().cast(),
            pkt.len(),
            0,
            (&sa as *const libc::sockaddr_storage).cast(),
            salen,
        )
    };
    let mut ok = false;
    if rc >= 0 {
        let deadline =
            std::time::Instant::now() + std::time::Duration::from_millis(timeout_ms as u64);
        let mut buf = [0u8; 1500];
        while std::time::Instant::now() < deadline {
            let left = deadline
                .saturating_duration_since(std::time::Instant::now())
                .as_millis() as i32;
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one live pollfd.
            if unsafe { libc::poll(&mut pfd, 1, left.max(1)) } <= 0 {
                break;
            }
            // SAFETY: buf is live and writable.
            let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n <= 0 {
                break;
            }
            let icmp = if dst.is_ipv4() {
                &buf[((buf[0] & 0xf) as usize * 4)..n as usize]
            } else {
                &buf[..n as usize]
            };
            if icmp.len() >= 8
                && icmp[0] == rep_type
                && u16::from_be_bytes([icmp[4], icmp[5]]) == id
            {
                ok = true;
                break;
            }
        }
    }
    // SAFETY: closing the fd we opened.
    unsafe { libc::close(fd) };
    ok
}

fn sockaddr(a: std::net::IpAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain data; zero is valid.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match a {
        std::net::IpAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as u16,
                sin_port: 0,
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in fits in sockaddr_storage.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin) };
            (ss, std::mem::size_of::<libc::sockaddr_in>() as u32)
        }
        std::net::IpAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as u16,
                sin6_port: 0,
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.octets(),
                },
                sin6_scope_id: 0,
            };
            // SAFETY: sockaddr_in6 fits in sockaddr_storage.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin6) };
            (ss, std::mem::size_of::<libc::sockaddr_in6>() as u32)
        }
    }
}
