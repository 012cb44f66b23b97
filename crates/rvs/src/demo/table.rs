//! Reading rvsadm's listings (ipvsadm's formats) back: the destinations of a service from
//! `-L -n`, and a service's counters from `-L -n --stats`. The demo checks what it shows.

/// A destination line of `rvsadm -L -n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dest {
    /// `RIP:port`.
    pub addr: String,
    /// `Masq`, `Route`, `Tunnel` or `Local`.
    pub forward: String,
    /// The weight.
    pub weight: u32,
    /// ActiveConn.
    pub active: u64,
    /// InActConn.
    pub inactive: u64,
}

/// A line's counters from `--stats`: Conns, InPkts, OutPkts, InBytes, OutBytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Connections scheduled.
    pub conns: u64,
    /// Packets client → real server.
    pub in_pkts: u64,
    /// Packets real server → client through the director.
    pub out_pkts: u64,
    /// Bytes in.
    pub in_bytes: u64,
    /// Bytes out.
    pub out_bytes: u64,
}

/// The service line prefix for TCP `vip` (`TCP  VIP:PORT`).
fn service_key(service: &str) -> String {
    format!("TCP  {service}")
}

/// Whether `line` is the service line of `service` (`VIP:PORT`).
fn is_service(line: &str, service: &str) -> bool {
    let key = service_key(service);
    line.strip_prefix(&key)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
}

/// The destination lines under `service` in a `-L -n` listing.
pub fn dests(listing: &str, service: &str) -> Vec<Dest> {
    let mut lines = listing.lines().skip_while(|l| !is_service(l, service));
    if lines.next().is_none() {
        return Vec::new();
    }
    lines
        .map_while(|l| l.strip_prefix("  -> "))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 5 || f[0] == "RemoteAddress:Port" {
                return None;
            }
            Some(Dest {
                addr: f[0].to_string(),
                forward: f[1].to_string(),
                weight: f[2].parse().ok()?,
                active: f[3].parse().ok()?,
                inactive: f[4].parse().ok()?,
            })
        })
        .collect()
}

/// ipvsadm's large-number rendering read back (`1234K` is at least 1 234 000).
fn largenum(word: &str) -> Option<u64> {
    let (digits, scale) = match word.as_bytes().last()? {
        b'K' => (&word[..word.len() - 1], 1_000),
        b'M' => (&word[..word.len() - 1], 1_000_000),
        b'G' => (&word[..word.len() - 1], 1_000_000_000),
        b'T' => (&word[..word.len() - 1], 1_000_000_000_000),
        _ => (word, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(scale)
}

fn counters(words: &[&str]) -> Option<Counters> {
    let n: Vec<u64> = words.iter().map(|w| largenum(w)).collect::<Option<_>>()?;
    match n[..] {
        [conns, in_pkts, out_pkts, in_bytes, out_bytes] => Some(Counters {
            conns,
            in_pkts,
            out_pkts,
            in_bytes,
            out_bytes,
        }),
        _ => None,
    }
}

/// The service's own counters in a `-L -n --stats` listing.
pub fn service_stats(listing: &str, service: &str) -> Option<Counters> {
    let line = listing.lines().find(|l| is_service(l, service))?;
    let words: Vec<&str> = line.split_whitespace().skip(2).collect();
    counters(&words)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  203.0.113.1:80 wrr
  -> 198.51.100.11:80             Masq    3      0          7         
  -> 198.51.100.12:80             Masq    1      1          2         
TCP  203.0.113.1:8080 rr
  -> 198.51.100.13:80             Masq    1      0          0         
";

    const STATS: &str = "\
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  198.51.100.10:80                   20      120        0     9000        0
  -> 198.51.100.11:80                   10       60        0     4500        0
TCP  198.51.100.10:8080                  3    1234K       12    1234M        7
";

    #[test]
    fn destinations_of_one_service_are_read() {
        let d = dests(LIST, "203.0.113.1:80");
        assert_eq!(d.len(), 2);
        assert_eq!(
            d[0],
            Dest {
                addr: "198.51.100.11:80".into(),
                forward: "Masq".into(),
                weight: 3,
                active: 0,
                inactive: 7,
            }
        );
        assert_eq!(d[1].active, 1);
        assert_eq!(dests(LIST, "203.0.113.1:8080").len(), 1);
        assert!(dests(LIST, "203.0.113.9:80").is_empty());
    }

    #[test]
    fn a_service_prefix_does_not_match_a_longer_port() {
        assert!(!is_service("TCP  203.0.113.1:8080 rr", "203.0.113.1:80"));
    }

    #[test]
    fn service_counters_are_read_with_large_numbers() {
        let s = service_stats(STATS, "198.51.100.10:80").expect("service line");
        assert_eq!((s.conns, s.in_pkts, s.out_pkts), (20, 120, 0));
        let big = service_stats(STATS, "198.51.100.10:8080").expect("second service");
        assert_eq!(big.in_pkts, 1_234_000);
        assert_eq!(big.in_bytes, 1_234_000_000);
        assert_eq!(big.out_pkts, 12);
        assert_eq!(service_stats("garbage", "198.51.100.10:80"), None);
    }
}
