//! Clients in the lab's client namespace: curl, keep-alive HTTP connections, UDP, wrk.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use crate::{in_netns, ns_cmd, run};

/// How long any single client operation may take.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// An HTTP response: status, headers, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header (name, value) pairs in order.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body's first line: the built-in servers' name (`rs1`).
    pub fn server(&self) -> &str {
        self.body.lines().next().unwrap_or("")
    }

    /// Parses a head (status line and headers, CRLF separated) and a body.
    pub fn parse(head: &str, body: &str) -> Option<Response> {
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        Some(Response {
            status,
            headers,
            body: body.to_string(),
        })
    }
}

/// `http://ADDR:PORT/PATH` (IPv6 in brackets).
pub fn url(addr: IpAddr, port: u16, path: &str) -> String {
    format!("http://{}{path}", SocketAddr::new(addr, port))
}

/// `curl URL` from namespace `ns` (new connection, 5 s limit); `None` when curl fails.
pub fn try_curl(ns: &str, url: &str) -> Option<Response> {
    let out = run(ns_cmd(ns, "curl").args(["-sS", "-g", "-i", "-m", "5", url]));
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let (head, body) = text.split_once("\r\n\r\n")?;
    Response::parse(head, body)
}

/// `curl URL` from namespace `ns`; panics unless it gets a 200 response.
pub fn curl(ns: &str, url: &str) -> Response {
    let r = try_curl(ns, url).unwrap_or_else(|| panic!("curl {url} from {ns} failed"));
    assert_eq!(r.status, 200, "curl {url}: {r:?}");
    r
}

/// The body of `url` fetched with curl from `ns` (20 s limit); panics unless it succeeds.
pub fn curl_body(ns: &str, url: &str) -> Vec<u8> {
    let out = run(ns_cmd(ns, "curl").args(["-sS", "-g", "-f", "-m", "20", "-o", "-", url]));
    assert!(
        out.status.success(),
        "curl {url} from {ns}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `curl -T FILE URL` (an HTTP PUT) from `ns`; panics unless it succeeds.
pub fn curl_put(ns: &str, url: &str, file: &std::path::Path) {
    let out = run(ns_cmd(ns, "curl")
        .args(["-sS", "-g", "-f", "-m", "20", "-o", "/dev/null", "-T"])
        .arg(file)
        .arg(url));
    assert!(
        out.status.success(),
        "curl -T {} {url} from {ns}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The servers answering `n` curls of `url` in order (`rs1`, `rs2`, ...).
pub fn curl_servers(ns: &str, url: &str, n: usize) -> Vec<String> {
    (0..n).map(|_| curl(ns, url).server().to_string()).collect()
}

/// Asserts that every answer is one of `names` and that they alternate (each differs from
/// the one before).
pub fn assert_alternates(answers: &[String], names: [&str; 2]) {
    for s in answers {
        assert!(
            names.contains(&s.as_str()),
            "unexpected server {s}: {answers:?}"
        );
    }
    for w in answers.windows(2) {
        assert_ne!(w[0], w[1], "answers must alternate: {answers:?}");
    }
}

/// A keep-alive HTTP/1.1 connection opened from a lab namespace.
pub struct KeepAlive {
    reader: BufReader<TcpStream>,
    stream: TcpStream,
}

impl KeepAlive {
    /// Connects from namespace `ns` to `to`; `None` when the connection fails.
    pub fn try_open(ns: &str, to: SocketAddr) -> Option<KeepAlive> {
        let stream = in_netns(ns, move || TcpStream::connect_timeout(&to, IO_TIMEOUT)).ok()?;
        stream.set_read_timeout(Some(IO_TIMEOUT)).ok()?;
        stream.set_write_timeout(Some(IO_TIMEOUT)).ok()?;
        let reader = BufReader::new(stream.try_clone().ok()?);
        Some(KeepAlive { reader, stream })
    }

    /// Connects from namespace `ns` to `to`; panics when it cannot.
    pub fn open(ns: &str, to: SocketAddr) -> KeepAlive {
        Self::try_open(ns, to).unwrap_or_else(|| panic!("connect to {to} from {ns} failed"))
    }

    /// `GET path` on this connection; `None` when the connection failed.
    pub fn try_get(&mut self, path: &str) -> Option<Response> {
        write!(
            self.stream,
            "GET {path} HTTP/1.1\r\nHost: lab\r\nConnection: keep-alive\r\n\r\n"
        )
        .ok()?;
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
            if head.len() > 16 * 1024 {
                return None;
            }
        }
        let partial = Response::parse(head.trim_end(), "")?;
        let len: usize = partial.header("content-length")?.parse().ok()?;
        let mut body = vec![0u8; len.min(1 << 20)];
        self.reader.read_exact(&mut body).ok()?;
        Some(Response {
            body: String::from_utf8_lossy(&body).into_owned(),
            ..partial
        })
    }

    /// `GET path`, which must succeed; returns the answering server's name.
    pub fn get(&mut self, path: &str) -> String {
        let r = self
            .try_get(path)
            .unwrap_or_else(|| panic!("GET {path} on a keep-alive connection failed"));
        assert_eq!(r.status, 200, "{r:?}");
        r.server().to_string()
    }

    /// The client's end of the connection.
    pub fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().expect("local address")
    }
}

/// Sends a datagram from a new socket in `ns` to `to` and returns the answer (3 tries).
pub fn udp_ask(ns: &str, to: SocketAddr) -> Option<String> {
    in_netns(ns, move || {
        let bind: SocketAddr = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }
            .parse()
            .expect("wildcard");
        let socket = UdpSocket::bind(bind).ok()?;
        socket.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
        let mut buf = [0u8; 512];
        for _ in 0..3 {
            socket.send_to(b"ping", to).ok()?;
            if let Ok((n, from)) = socket.recv_from(&mut buf) {
                if from != to {
                    return Some(format!("answer from {from}, not {to}"));
                }
                return Some(String::from_utf8_lossy(&buf[..n]).trim().to_string());
            }
        }
        None
    })
}

/// What a wrk run reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WrkReport {
    /// Requests completed.
    pub requests: u64,
    /// Socket errors: connect + read + write + timeout.
    pub socket_errors: u64,
    /// Responses that were not 2xx or 3xx.
    pub non_2xx: u64,
    /// wrk's whole output.
    pub text: String,
}

/// Parses wrk's summary ("N requests in …", "Socket errors: connect A, read B, write C,
/// timeout D", "Non-2xx or 3xx responses: N").
pub fn parse_wrk(text: &str) -> Option<WrkReport> {
    let mut r = WrkReport {
        text: text.to_string(),
        ..WrkReport::default()
    };
    let mut seen_requests = false;
    for line in text.lines().map(str::trim) {
        if let Some((n, _)) = line.split_once(" requests in ") {
            r.requests = n.trim().parse().ok()?;
            seen_requests = true;
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            for part in rest.split(',') {
                let n = part.split_whitespace().last()?;
                r.socket_errors += n.parse::<u64>().ok()?;
            }
        } else if let Some(n) = line.strip_prefix("Non-2xx or 3xx responses:") {
            r.non_2xx = n.trim().parse().ok()?;
        }
    }
    seen_requests.then_some(r)
}

/// `wrk -t1 -cCONNS -dSECSs URL` from `ns` (bounded by `timeout`).
pub fn wrk(ns: &str, url: &str, seconds: u32, conns: u32) -> WrkReport {
    let limit = (seconds + 20).to_string();
    let out = run(ns_cmd(ns, "timeout")
        .args([&limit, "wrk", "-t1"])
        .arg(format!("-c{conns}"))
        .arg(format!("-d{seconds}s"))
        .arg(url));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "wrk failed ({}): {text}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    parse_wrk(&text).unwrap_or_else(|| panic!("unexpected wrk output:\n{text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_summary_with_errors_is_parsed() {
        let text = "Running 10s test @ http://203.0.113.1/\n  1 threads and 50 connections\n\
            \x20 103285 requests in 10.02s, 13.40MB read\n\
            \x20 Socket errors: connect 0, read 2, write 0, timeout 3\n\
            \x20 Non-2xx or 3xx responses: 7\nRequests/sec:  20576.28\n";
        let r = parse_wrk(text).unwrap();
        assert_eq!(r.requests, 103285);
        assert_eq!(r.socket_errors, 5);
        assert_eq!(r.non_2xx, 7);
    }

    #[test]
    fn clean_wrk_summary_has_no_errors_and_garbage_is_refused() {
        let r = parse_wrk("  12 requests in 1.00s, 1KB read\n").unwrap();
        assert_eq!((r.requests, r.socket_errors, r.non_2xx), (12, 0, 0));
        assert!(parse_wrk("unable to connect\n").is_none());
    }

    #[test]
    fn curl_heads_are_parsed() {
        let r = Response::parse(
            "HTTP/1.1 200 OK\r\nX-Client: 203.0.113.2:4000\r\nContent-Length: 4",
            "rs1\n",
        )
        .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-client"), Some("203.0.113.2:4000"));
        assert_eq!(r.server(), "rs1");
        let v6 = "2001:db8::1".parse().unwrap();
        assert_eq!(url(v6, 80, "/"), "http://[2001:db8::1]:80/");
    }
}
