//! HTTP as HTTP_GET/SSL_GET speak it: keepalived's request bytes, and its reading of the
//! response (status from the first line, body after the first blank line, MD5 over the body
//! bounded by Content-Length — exactly what `genhash` prints).

use std::net::SocketAddr;
use std::ops::RangeInclusive;

use md5::{Digest, Md5};

/// `http_protocol`: 1.0 (default), 1.0C (1.0 with `Connection: close`), 1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpProtocol {
    /// HTTP/1.0.
    #[default]
    V10,
    /// HTTP/1.0 with `Connection: close`.
    V10Close,
    /// HTTP/1.1 (always with `Connection: close`).
    V11,
}

impl HttpProtocol {
    /// Parses the keyword value (unknown values give the default).
    pub fn parse(s: Option<&str>) -> HttpProtocol {
        match s {
            Some("1.1") => HttpProtocol::V11,
            Some("1.0C") | Some("1.0c") => HttpProtocol::V10Close,
            _ => HttpProtocol::V10,
        }
    }
}

/// The request keepalived sends: `Host` is the virtualhost, else `IP:port` (`[IPv6]:port`).
pub fn request(path: &str, vhost: Option<&str>, dst: SocketAddr, proto: HttpProtocol) -> String {
    let minor = u8::from(proto == HttpProtocol::V11);
    let close = if proto == HttpProtocol::V10 {
        ""
    } else {
        "Connection: close\r\n"
    };
    let host = match vhost {
        Some(v) => v.to_string(),
        None => dst.to_string(),
    };
    format!(
        "GET {path} HTTP/1.{minor}\r\nUser-Agent: KeepAliveClient\r\n{close}Host: {host}\r\n\r\n"
    )
}

/// Position just after the first `\r\n\r\n`.
pub fn header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// The status code of a response head (`extract_status_code`); 0 when malformed.
pub fn status_code(head: &[u8]) -> u16 {
    let Some(sp) = head.iter().position(|&b| b == b' ' || b == b'\r') else {
        return 0;
    };
    if head[sp] != b' ' {
        return 0;
    }
    let rest = &head[sp + 1..];
    if rest.len() < 4 || rest[3] != b' ' || !rest[..3].iter().all(u8::is_ascii_digit) {
        return 0;
    }
    rest[..3]
        .iter()
        .fold(0u16, |a, d| a * 10 + u16::from(d - b'0'))
}

/// The Content-Length of a response head (`extract_content_length`: case-sensitive, as
/// keepalived), None when absent or malformed.
pub fn content_length(head: &[u8]) -> Option<u64> {
    const TAG: &[u8] = b"Content-Length:";
    let at = head.windows(TAG.len()).position(|w| w == TAG)? + TAG.len();
    let rest = &head[at..];
    let rest = &rest[rest
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count()..];
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    match rest.get(digits) {
        None | Some(b'\r') | Some(b'\n') => {}
        _ => return None,
    }
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// Incremental reader of one response: feed bytes, then [`ResponseReader::finish`].
#[derive(Debug, Clone, Default)]
pub struct ResponseReader {
    head: Vec<u8>,
    head_done: bool,
    status: u16,
    content_length: Option<u64>,
    body_seen: u64,
    md5: Md5,
}

/// Most a response head may take before the check fails.
pub const MAX_HEAD: usize = 64 * 1024;

/// A fully read response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code (0 if malformed).
    pub status: u16,
    /// MD5 over the body (up to Content-Length).
    pub digest: [u8; 16],
    /// Body bytes received.
    pub body_len: u64,
}

impl ResponseReader {
    /// A reader for a new response.
    pub fn new() -> ResponseReader {
        ResponseReader::default()
    }

    /// Feeds received bytes; false when the head grows past [`MAX_HEAD`].
    pub fn feed(&mut self, data: &[u8]) -> bool {
        if self.head_done {
            self.body(data);
            return true;
        }
        self.head.extend_from_slice(data);
        if let Some(end) = header_end(&self.head) {
            self.head_done = true;
            self.status = status_code(&self.head[..end]);
            self.content_length = content_length(&self.head[..end]);
            let rest = self.head.split_off(end);
            self.body(&rest);
            return true;
        }
        self.head.len() <= MAX_HEAD
    }

    fn body(&mut self, data: &[u8]) {
        let take = match self.content_length {
            Some(cl) => (cl.saturating_sub(self.body_seen)).min(data.len() as u64) as usize,
            None => data.len(),
        };
        self.md5.update(&data[..take]);
        self.body_seen += data.len() as u64;
    }

    /// The response, or None when no complete head arrived ("no data received").
    pub fn finish(self) -> Option<Response> {
        if !self.head_done {
            return None;
        }
        Some(Response {
            status: self.status,
            digest: self.md5.finalize().into(),
            body_len: self.body_seen,
        })
    }
}

/// Why a URL check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlVerdict {
    /// Passed.
    Ok,
    /// "Read, no data received from".
    NoData,
    /// "HTTP status code error to".
    Status(u16),
    /// "MD5 digest error to".
    Digest,
}

/// Judges a response against a url's expectations.
pub fn judge(
    resp: Option<&Response>,
    codes: &[RangeInclusive<u16>],
    digest: Option<&[u8; 16]>,
) -> UrlVerdict {
    let Some(r) = resp else {
        return UrlVerdict::NoData;
    };
    let default = [200..=299];
    let codes = if codes.is_empty() {
        &default[..]
    } else {
        codes
    };
    if !codes.iter().any(|c| c.contains(&r.status)) {
        return UrlVerdict::Status(r.status);
    }
    if digest.is_some_and(|d| *d != r.digest) {
        return UrlVerdict::Digest;
    }
    UrlVerdict::Ok
}

/// Hex of a digest, as `genhash` prints it.
pub fn hex(d: &[u8; 16]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes() {
        let dst: SocketAddr = "203.0.113.5:8080".parse().unwrap();
        assert_eq!(
            request("/health", None, dst, HttpProtocol::V10),
            "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 203.0.113.5:8080\r\n\r\n"
        );
        let v6: SocketAddr = "[2001:db8::5]:80".parse().unwrap();
        assert_eq!(
            request("/", Some("www.example"), v6, HttpProtocol::V11),
            "GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example\r\n\r\n"
        );
        assert!(
            request("/", None, v6, HttpProtocol::V10Close).contains("Host: [2001:db8::5]:80\r\n")
        );
    }

    #[test]
    fn status_parsing() {
        assert_eq!(status_code(b"HTTP/1.1 204 No Content\r\n\r\n"), 204);
        assert_eq!(status_code(b"HTTP/1.1 20 x\r\n"), 0);
        assert_eq!(status_code(b"HTTP/1.1\r\n"), 0);
        assert_eq!(status_code(b"HTTP/1.1 2x0 x\r\n"), 0);
        assert_eq!(content_length(b"X\r\nContent-Length: 12\r\n\r\n"), Some(12));
        assert_eq!(content_length(b"X\r\nContent-Length: 1a\r\n\r\n"), None);
        assert_eq!(content_length(b"X\r\n\r\n"), None);
    }

    #[test]
    fn digest_over_body_in_pieces_bounded_by_length() {
        let mut r = ResponseReader::new();
        assert!(r.feed(b"HTTP/1.0 200 OK\r\nContent-Le"));
        assert!(r.feed(b"ngth: 5\r\n\r\nhel"));
        assert!(r.feed(b"lo trailing junk"));
        let resp = r.finish().unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(hex(&resp.digest), "5d41402abc4b2a76b9719d911017c592"); // md5("hello")
        assert_eq!(judge(Some(&resp), &[], Some(&resp.digest)), UrlVerdict::Ok);
        assert_eq!(
            judge(Some(&resp), &[300..=399], None),
            UrlVerdict::Status(200)
        );
        assert_eq!(
            judge(Some(&resp), &[200..=200], Some(&[0; 16])),
            UrlVerdict::Digest
        );
        assert_eq!(judge(None, &[], None), UrlVerdict::NoData);
        assert_eq!(ResponseReader::new().finish(), None);
    }
}
