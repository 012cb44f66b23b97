//! Numbers and addresses as ipvsadm reads and prints them: C's `strtol` and `atoi`,
//! `inet_aton` (so `10.1` and `0x0a000001` are addresses), `host[:port]` parsing, and
//! glibc's `inet_ntop` text for IPv6 (which writes `::a:b` as `::0.10.0.11`).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::names::Names;

/// C `isspace` in the C locale.
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// C `strtol(s, &end, 10)` that must consume the whole string: `None` if there is no
/// number, something follows it, or it overflows a `long`.
pub fn strtol(s: &str) -> Option<i64> {
    let t = s.trim_start_matches(is_c_space);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: i64 = 0;
    for b in digits.bytes() {
        let d = i64::from(b - b'0');
        v = if neg {
            v.checked_mul(10)?.checked_sub(d)?
        } else {
            v.checked_mul(10)?.checked_add(d)?
        };
    }
    Some(v)
}

/// ipvsadm's `string_to_number`: a whole decimal number within `min..=max`.
pub fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    strtol(s).filter(|n| (min..=max).contains(n))
}

/// C `atoi`: leading blanks, a sign, as many digits as there are; 0 if none. Overflow
/// saturates like glibc's `strtol` and is then cut to an `int`.
pub fn atoi(s: &str) -> i32 {
    let t = s.trim_start_matches(is_c_space);
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for b in rest.bytes().take_while(u8::is_ascii_digit) {
        let d = i64::from(b - b'0');
        v = if neg {
            v.saturating_mul(10).saturating_sub(d)
        } else {
            v.saturating_mul(10).saturating_add(d)
        };
    }
    v as i32
}

/// ipvsadm's `str_is_digit`: true for strings made only of digits, and for "".
pub fn str_is_digit(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// One part of an `inet_aton` address: C `strtoul(p, &end, 0)` (hex after `0x`, octal after
/// `0`), returning the value and the rest.
fn aton_part(s: &str) -> Option<(u64, &str)> {
    let b = s.as_bytes();
    let (radix, start) =
        if b.len() > 2 && b[0] == b'0' && (b[1] | 0x20) == b'x' && b[2].is_ascii_hexdigit() {
            (16, 2)
        } else if b.first() == Some(&b'0') {
            (8, 0)
        } else {
            (10, 0)
        };
    let digits = s[start..]
        .bytes()
        .take_while(|c| (*c as char).is_digit(radix))
        .count();
    let end = start + digits;
    let mut v: u64 = 0;
    for c in s[start..end].chars() {
        v = v
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(c.to_digit(radix)?))?;
        if v > u64::from(u32::MAX) {
            return None;
        }
    }
    Some((v, &s[end..]))
}

/// glibc `inet_aton`: one to four parts (`a`, `a.b`, `a.b.c`, `a.b.c.d`), each decimal,
/// octal or hex; the last part fills the remaining bytes. Trailing blanks (and whatever
/// follows them) are ignored, as glibc does.
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let mut parts: Vec<u64> = Vec::with_capacity(4);
    let mut rest = s;
    let last = loop {
        if !rest.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let (v, after) = aton_part(rest)?;
        if let Some(next) = after.strip_prefix('.') {
            if parts.len() >= 3 || v > 0xff {
                return None;
            }
            parts.push(v);
            rest = next;
        } else {
            if !after.is_empty() && !after.starts_with(is_c_space) {
                return None;
            }
            break v;
        }
    };
    let max: u64 = [0xffff_ffff, 0xff_ffff, 0xffff, 0xff][parts.len()];
    if last > max {
        return None;
    }
    let mut v = last;
    for (i, p) in parts.iter().enumerate() {
        v |= p << (24 - 8 * i);
    }
    Some(Ipv4Addr::from(v as u32))
}

/// glibc `inet_ntop` text: dotted IPv4; IPv6 with the longest (first) run of two or more
/// zero groups compressed, and `::a.b.c.d` / `::ffff:a.b.c.d` for IPv4-compatible and
/// IPv4-mapped addresses.
pub fn ntop(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => ntop6(a),
    }
}

fn ntop6(a: Ipv6Addr) -> String {
    let w = a.segments();
    let (mut best, mut cur): ((usize, usize), Option<(usize, usize)>) = ((0, 0), None);
    for (i, &word) in w.iter().enumerate() {
        if word == 0 {
            let c = cur.get_or_insert((i, 0));
            c.1 += 1;
            if c.1 > best.1 {
                best = *c;
            }
        } else {
            cur = None;
        }
    }
    let (base, len) = if best.1 >= 2 { best } else { (usize::MAX, 0) };
    let mut out = String::with_capacity(40);
    let mut i = 0;
    while i < 8 {
        if base != usize::MAX && i >= base && i < base + len {
            if i == base {
                out.push(':');
            }
            i += 1;
            continue;
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 && base == 0 && (len == 6 || (len == 5 && w[5] == 0xffff)) {
            let o = a.octets();
            out.push_str(&Ipv4Addr::new(o[12], o[13], o[14], o[15]).to_string());
            return out;
        }
        out.push_str(&format!("{:x}", w[i]));
        i += 1;
    }
    if base != usize::MAX && base + len == 8 {
        out.push(':');
    }
    out
}

/// What `host[:port]` parsed to (ipvsadm's `parse_service` returning SERVICE_ADDR, with
/// SERVICE_PORT when `port` is set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostPort {
    /// The address.
    pub addr: IpAddr,
    /// The port, if one was given.
    pub port: Option<u16>,
}

/// The protocol name for service lookups (`getservbyname` / `getservbyport`).
pub fn proto_name(protocol: u8) -> Option<&'static str> {
    match protocol {
        6 => Some("tcp"),
        17 => Some("udp"),
        132 => Some("sctp"),
        _ => None,
    }
}

/// ipvsadm's `parse_service`: `[v6]:port`, an IPv6 address (port 0), or `host[:port]` split
/// at the last colon, host by `inet_aton` or name lookup, port decimal or a service name of
/// `protocol`. `None` when the address (or a given port) is invalid.
pub fn parse_service(buf: &str, protocol: u8, names: &dyn Names) -> Option<HostPort> {
    if str_is_digit(buf) {
        return None;
    }
    let mut host = buf;
    let mut port_text: Option<&str> = None;
    if let Some(inner) = buf.strip_prefix('[') {
        let (h, after) = inner.split_once(']')?;
        let p = after.strip_prefix(':')?;
        host = h;
        port_text = Some(p);
    }
    let addr = if let Ok(a6) = host.parse::<Ipv6Addr>() {
        IpAddr::V6(a6)
    } else {
        // ipvsadm looks for the port after the last ':' of what is left; inside brackets the
        // ':' before the port has already been cut off, so `[1.2.3.4]:80` keeps no port.
        port_text = None;
        if let Some((h, p)) = host.rsplit_once(':') {
            host = h;
            port_text = Some(p);
        }
        IpAddr::V4(inet_aton(host).or_else(|| names.addr_of(host))?)
    };
    let port = match port_text {
        None => None,
        Some(p) => Some(match string_to_number(p, 0, 65535) {
            Some(n) => n as u16,
            None => names.port_of(p, proto_name(protocol)?)?,
        }),
    };
    Some(HostPort { addr, port })
}

/// `parse_netmask`: a dotted mask (inet_aton form) or a name that resolves to one.
pub fn parse_netmask(buf: &str, names: &dyn Names) -> Option<Ipv4Addr> {
    inet_aton(buf).or_else(|| names.addr_of(buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::TableNames;

    #[test]
    fn strtol_like_c() {
        assert_eq!(strtol("42"), Some(42));
        assert_eq!(strtol(" +7"), Some(7));
        assert_eq!(strtol("-0"), Some(0));
        assert_eq!(strtol("7 "), None);
        assert_eq!(strtol(""), None);
        assert_eq!(strtol("x"), None);
        assert_eq!(strtol("99999999999999999999"), None);
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi("64abc"), 64);
        assert_eq!(atoi(" -3"), -3);
        assert_eq!(atoi("abc"), 0);
    }

    #[test]
    fn inet_aton_forms() {
        assert_eq!(inet_aton("10.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(inet_aton("0x0a000001"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(inet_aton("012.0.0.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(inet_aton("1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(inet_aton("1.2.3.256"), None);
        assert_eq!(inet_aton("1.2.3.4."), None);
        assert_eq!(inet_aton("08.1.1.1"), None);
        assert_eq!(inet_aton("1.2.3.4.5"), None);
        assert_eq!(inet_aton("a.b"), None);
        assert_eq!(inet_aton(""), None);
    }

    #[test]
    fn ntop_matches_glibc() {
        let v6 = |s: &str| ntop(IpAddr::V6(s.parse().unwrap()));
        assert_eq!(v6("::2"), "::2");
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("::a:b"), "::0.10.0.11");
        assert_eq!(v6("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(v6("1:0:0:1:0:0:0:1"), "1:0:0:1::1");
        assert_eq!(v6("2001:db8::1:0:0:1"), "2001:db8::1:0:0:1");
        assert_eq!(v6("2001:db8::"), "2001:db8::");
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
        assert_eq!(v6("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
    }

    #[test]
    fn service_addresses() {
        let n = TableNames::new("web 203.0.113.9\n", "http 80/tcp www\ndomain 53/udp\n");
        let p = |s: &str, proto| parse_service(s, proto, &n);
        let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
        assert_eq!(
            p("10.0.0.1:80", 6),
            Some(HostPort {
                addr: v4(10, 0, 0, 1),
                port: Some(80)
            })
        );
        assert_eq!(
            p("10.0.0.1", 6),
            Some(HostPort {
                addr: v4(10, 0, 0, 1),
                port: None
            })
        );
        assert_eq!(
            p("web:http", 6),
            Some(HostPort {
                addr: v4(203, 0, 113, 9),
                port: Some(80)
            })
        );
        assert_eq!(
            p("web:www", 6),
            Some(HostPort {
                addr: v4(203, 0, 113, 9),
                port: Some(80)
            })
        );
        assert_eq!(p("web:http", 17), None, "http is tcp only");
        assert_eq!(p("80", 6), None);
        assert_eq!(p("10.0.0.1:", 6), None);
        assert_eq!(p("10.0.0.1:65536", 6), None);
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            p("[2001:db8::1]:80", 6),
            Some(HostPort {
                addr: v6,
                port: Some(80)
            })
        );
        assert_eq!(
            p("2001:db8::1", 6),
            Some(HostPort {
                addr: v6,
                port: None
            })
        );
        assert_eq!(p("[2001:db8::1]", 6), None);
        assert_eq!(
            p("[1.2.3.4]:80", 6),
            Some(HostPort {
                addr: v4(1, 2, 3, 4),
                port: None
            })
        );
    }
}
