//! wrk: the command line the benchmark runs and the parsing of its report.
//!
//! One thread, `connections` connections, `--latency` for the percentiles; new connections
//! per second are measured by sending `Connection: close`, so every request opens one.

use serde::Serialize;

use crate::error::{Error, Result};

/// What one wrk run reported.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WrkReport {
    /// Requests completed.
    pub requests: u64,
    /// The run's duration as wrk measured it, in seconds.
    pub secs: f64,
    /// `Requests/sec`.
    pub rps: f64,
    /// Median latency, microseconds.
    pub p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub p99_us: f64,
    /// Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses.
    pub errors: u64,
}

/// wrk's arguments (after the program name) for one run against `url`.
pub fn args(url: &str, connections: u32, secs: u64, close: bool) -> Vec<String> {
    let mut v = vec![
        "-t1".to_string(),
        format!("-c{connections}"),
        format!("-d{secs}s"),
        "--timeout".into(),
        "2s".into(),
        "--latency".into(),
    ];
    if close {
        v.extend(["-H".into(), "Connection: close".into()]);
    }
    v.push(url.to_string());
    v
}

/// Parses a duration as wrk prints it: `435.21us`, `1.20ms`, `10.00s`, `1.00m`, `2.00h`.
pub fn parse_duration_us(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1e6)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60e6)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3600e6)
    } else {
        return None;
    };
    let v: f64 = num.parse().ok()?;
    v.is_finite().then_some(v * scale)
}

/// Parses wrk's report (printed with `--latency`).
pub fn parse(out: &str) -> Result<WrkReport> {
    let bad = |what: &str| Error::Invalid(format!("wrk output has no {what}:\n{out}"));
    let (mut requests, mut secs, mut rps) = (None, None, None);
    let (mut p50, mut p99) = (None, None);
    let mut errors = 0u64;
    for line in out.lines() {
        let t = line.trim();
        let words: Vec<&str> = t.split_whitespace().collect();
        match words.as_slice() {
            ["50%", v] => p50 = parse_duration_us(v),
            ["99%", v] => p99 = parse_duration_us(v),
            [n, "requests", "in", d, ..] => {
                requests = n.parse::<u64>().ok();
                secs = parse_duration_us(d.trim_end_matches(',')).map(|us| us / 1e6);
            }
            ["Requests/sec:", v] => rps = v.parse::<f64>().ok(),
            ["Socket", "errors:", rest @ ..] => {
                // connect 0, read 0, write 0, timeout 0
                errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => errors += n.parse::<u64>().unwrap_or(0),
            _ => {}
        }
    }
    Ok(WrkReport {
        requests: requests.ok_or_else(|| bad("request count"))?,
        secs: secs.ok_or_else(|| bad("duration"))?,
        rps: rps.ok_or_else(|| bad("Requests/sec"))?,
        p50_us: p50.ok_or_else(|| bad("50% latency"))?,
        p99_us: p99.ok_or_else(|| bad("99% latency"))?,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = "Running 10s test @ http://203.0.113.1/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   435.21us  123.45us   5.00ms   90.00%
    Req/Sec   116.00k     5.00k  120.00k    80.00%
  Latency Distribution
     50%  420.00us
     75%  480.00us
     90%  550.00us
     99%    1.20ms
  1160123 requests in 10.00s, 150.00MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 5
Requests/sec: 116012.30
Transfer/sec:     15.00MB
";

    #[test]
    fn parses_a_latency_report() {
        let r = parse(OUT).unwrap();
        assert_eq!(r.requests, 1_160_123);
        assert_eq!(r.secs, 10.0);
        assert_eq!(r.rps, 116_012.3);
        assert_eq!(r.p50_us, 420.0);
        assert_eq!(r.p99_us, 1200.0);
        assert_eq!(r.errors, 10);
    }

    #[test]
    fn missing_fields_are_errors_not_zeros() {
        assert!(parse("unable to connect to 203.0.113.1:80 Connection refused\n").is_err());
        let no_p99: String = OUT.lines().filter(|l| !l.contains("99%")).collect();
        assert!(parse(&no_p99).is_err());
    }

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration_us("435.21us"), Some(435.21));
        assert_eq!(parse_duration_us("1.20ms"), Some(1200.0));
        assert_eq!(parse_duration_us("10.00s"), Some(10e6));
        assert_eq!(parse_duration_us("1.00m"), Some(60e6));
        assert_eq!(parse_duration_us("5"), None);
        assert_eq!(parse_duration_us("xms"), None);
    }

    #[test]
    fn close_runs_send_connection_close() {
        let a = args("http://203.0.113.1:80/", 50, 10, true);
        assert!(a.windows(2).any(|w| w == ["-H", "Connection: close"]));
        assert!(a.contains(&"-c50".to_string()) && a.contains(&"-d10s".to_string()));
        assert!(!args("http://x/", 50, 10, false).contains(&"-H".to_string()));
    }
}
